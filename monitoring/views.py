"""Dashboard and system-health pages."""
from django.shortcuts import render

from accounts.access import STAFF, access

from . import dashboard as figures
from . import health, jobs


@access(STAFF)
def dashboard(request):
    context = {"stats": figures.stats_for(request.user), "live_events": " ".join(figures.LIVE_EVENTS)}
    if request.htmx:  # a live refresh re-renders the cards only
        return render(request, "monitoring/dashboard.html#stats", context)
    if request.user.has_perm("billing.view_revenue"):
        context["monthly"] = figures.monthly_revenue()
    if request.user.has_perm("billing.view_payment"):
        context["show_payments"] = True
        context["recent_payments"] = figures.recent_payments()
    return render(request, "monitoring/dashboard.html", context)


@access(STAFF)
def health_page(request):
    parts = health.components()
    context = {
        "parts": parts,
        "overall": health.overall(parts),
        "database": health.database(),
        "failures": jobs.recent_failures(),
        "eager": jobs.eager(),
    }
    if request.user.has_perm("accounts.view_security_report"):
        context["findings"] = health.security_report()
    return render(request, "monitoring/health.html", context)
