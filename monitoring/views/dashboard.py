"""/: the dashboard, its figure cards refreshed live (HTMX) and, by permission, revenue and payments."""
from django.shortcuts import render

from accounts.access import STAFF, access

from .. import dashboard as figures


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
