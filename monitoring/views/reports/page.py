"""The one report frame: range presets, filters, chart + table, and ?format=csv / xlsx downloading
exactly the table shown. Invalid filters show the form's errors over the default range."""
from django.shortcuts import render

from ...reports.frame import Report, download
from ...reports.period import PRESETS

DOWNLOADS = ("csv", "xlsx")


def report_page(request, report: Report, context: dict | None = None, template="monitoring/reports/report.html"):
    form = report.form(request.GET or None)
    table = report.build(form)
    kind = request.GET.get("format")
    if kind in DOWNLOADS:
        return download(table, form, report.name, kind)
    query = request.GET.copy()
    query.pop("format", None)
    presets = []
    for value, label in PRESETS[:-1]:
        link = query.copy()
        link["range"] = value
        link.pop("from", None)
        link.pop("to", None)
        presets.append((value, label, link.urlencode()))
    return render(request, template, {
        "report": report, "form": form, "table": table, "period": form.period, "range_name": form.range_name,
        "presets": presets, "query": query.urlencode(), "chart": table.chart_data(), **(context or {})})
