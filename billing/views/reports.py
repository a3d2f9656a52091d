"""The revenue report (per day of a month, per method) and a day's reconciliation."""
from datetime import timedelta

from django.shortcuts import render
from django.utils import timezone

from accounts.access import access, perm

from .. import reconciliation, revenue
from ..forms import ReportForm
from ..models import Payment


@access(perm("billing.view_revenue"))
def payment_reports(request):
    form = ReportForm(request.GET)
    today = timezone.localdate()
    month, day = form.chosen(today)
    start, end, _ = revenue.month_bounds(month)
    days = revenue.by_day(month)
    methods = revenue.by_method(start, end)
    report = reconciliation.build(day, wallet_check="stored")
    statuses = dict(Payment.Status.choices)
    return render(request, "billing/payment_reports.html", {
        "form": form, "month": month, "days": days, "methods": methods,
        "month_total": sum(d.total for d in days), "month_count": sum(d.count for d in days),
        "day": day, "yesterday": day == today - timedelta(days=1), "report": report,
        "started": [(statuses.get(status, status), n) for status, n in report.by_status.items()]})
