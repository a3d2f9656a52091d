"""Monitoring API, one module per resource: health (/api/health...) and activity (/api/logs/activity)."""
