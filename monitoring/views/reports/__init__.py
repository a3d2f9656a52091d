"""/reports/<name>/: each report page a few lines on monitoring.views.reports.page, one module per URL."""
