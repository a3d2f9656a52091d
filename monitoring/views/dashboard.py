"""/: the dashboard, its figure cards refreshed live (HTMX) and, by permission, 30 days of revenue, payments, the
users-online chart (?part=users-online when a sample is taken), and the health and queue cards
(?part=operations, loaded after the page)."""
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from accounts.access import STAFF, access

from .. import dashboard as figures

# The health checks and the workers' ping (which waits its whole timeout) take a second or more:
# the page comes first and the health and queue cards follow as an HTMX partial.
OPERATIONS_PERM = "monitoring.view_taskfailure"  # Admin and Technician


@access(STAFF)
def dashboard(request):
    part = request.GET.get("part")
    if part == "operations":
        return operations(request)
    if part == "users-online":
        return users_online(request)
    context = {"stats": figures.stats_for(request.user), "live_events": " ".join(figures.LIVE_EVENTS)}
    if request.htmx:  # a live refresh re-renders the cards only
        return render(request, "monitoring/dashboard.html#stats", context)
    if request.user.has_perm("billing.view_revenue"):
        revenue = figures.revenue_days()
        context.update(revenue_days=revenue, revenue_chart=revenue.chart_data(),
                       revenue_total=sum(net for _, net in revenue.rows))
    if request.user.has_perm("billing.view_payment"):
        context["show_payments"] = True
        context["recent_payments"] = figures.recent_payments()
    if request.user.has_perm("radius.view_radacct"):
        context.update(_users_online())
    context["show_operations"] = request.user.has_perm(OPERATIONS_PERM)
    return render(request, "monitoring/dashboard.html", context)


def operations(request):
    if not request.user.has_perm(OPERATIONS_PERM):
        raise PermissionDenied
    context = {**figures.operations(), "operations_events": " ".join(figures.OPERATIONS_EVENTS)}
    return render(request, "monitoring/dashboard.html#operations", context)


def _users_online() -> dict:
    chart = figures.users_online_chart()
    sampled = [hour for hour in chart if hour["users"] is not None]
    table = figures.users_online_table(chart=chart)
    return {"users_online_chart": chart, "users_online_events": " ".join(figures.USERS_ONLINE_EVENTS),
            "users_online_table": table, "users_online_data": table.chart_data(),
            "users_online_peak": max(sampled, key=lambda hour: hour["users"], default=None)}


def users_online(request):
    if not request.user.has_perm("radius.view_radacct"):
        raise PermissionDenied
    return render(request, "monitoring/dashboard.html#users-online", _users_online())
