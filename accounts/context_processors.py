"""The admin shell's sidebar: the sections that exist, shown to those whose role reaches them."""
from collections.abc import Callable
from functools import partial

from django.urls import NoReverseMatch, resolve, reverse

from .access import rule_of_view

# The sidebar's groups, each of (label, URL name, icon) links. A link appears when the user passes
# that view's own access rule; a group appears when one of its links does.
GROUPS = [
    ("", [
        ("Dashboard", "dashboard", "grid"),
    ]),
    ("Customers", [
        ("Customers", "customer-list", "users"),
        ("Hotspot users", "customer-hotspot", "wifi"),
        ("PPPoE users", "customer-pppoe", "home"),
        ("Online now", "live-sessions", "pulse"),
        ("Active sessions", "radius-sessions", "wifi"),
        ("Session history", "radius-session-history", "clock"),
    ]),
    ("Sales", [
        ("Packages", "package-list", "box"),
        ("Package groups", "package-groups", "layers"),
        ("Vouchers", "voucher-batches", "ticket"),
        ("Payments", "payment-list", "list"),
        ("M-Pesa transactions", "mpesa-transactions", "code"),
        ("Invoices", "invoice-list", "ticket"),
        ("Wallets", "wallet-list", "box"),
        ("Payment methods", "payment-methods", "key"),
    ]),
    ("Network", [
        ("Routers", "router-list", "server"),
        ("Access points", "access-point-list", "wifi"),
        ("Router services", "router-services", "layers"),
        ("WireGuard", "vpn-overview", "key"),
        ("NAS devices", "radius-nas", "server"),
        ("RADIUS users", "radius-users", "key"),
        ("Auth log", "radius-auth-log", "list"),
    ]),
    ("Reports", [
        ("Revenue", "report-revenue", "pulse"),
        ("Customer retention", "report-customers", "users"),
        ("Daily logins", "report-logins", "key"),
        ("Bandwidth usage", "report-usage", "wifi"),
        ("User sessions", "report-sessions", "clock"),
        ("Payment reports", "payment-reports", "pulse"),
        ("Profit", "report-profit", "pulse"),
        ("Traffic", "report-traffic", "pulse"),
        ("Expenses", "expense-list", "list"),
    ]),
    ("Support", [
        ("Tickets", "ticket-list", "list"),
    ]),
    ("System", [
        ("Activity", "activity-list", "clock"),
        ("System log", "system-log", "list"),
        ("System health", "health", "pulse"),
        ("Alerts", "alerts", "pulse"),
        ("Staff", "staff-list", "users"),
        ("Roles", "role-list", "key"),
        ("Settings", "settings", "key"),
        ("Backups", "backup-list", "layers"),
        ("API", "api:openapi-view", "code"),
    ]),
]
# A role that reaches this few pages sees every group open; more, and only the current page's group
# opens (the others are a click away), so the sidebar stays short at 40+ pages. 20: a Technician's
# routers, RADIUS pages, health, jobs, alerts, tickets and the usage and traffic reports still fit open.
OPEN_ALL_UP_TO = 20
# Every link, for code that walks them all (tests).
SECTIONS = [link for _, links in GROUPS for link in links]
# A number beside a link (the open tickets), from the app that owns what it counts: URL name ->
# (the template that shows it, a function of the request giving the number). Apps above accounts
# register theirs in their AppConfig.ready(); the number is asked for only when the sidebar is drawn
# (an HTMX partial never draws it).
BADGES: dict[str, tuple[str, Callable]] = {}


def _section(url_name: str):
    """(url, rule) of a section, or None where the URL isn't mounted."""
    try:
        url = reverse(url_name)
    except NoReverseMatch:
        return None
    return url, rule_of_view(resolve(url).func)


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_groups": []}
    path = request.path
    groups, best = [], None
    for title, links in GROUPS:
        shown = []
        for label, url_name, icon in links:
            found = _section(url_name)
            if found and found[1] is not None and found[1].allows(user):
                shown.append({"label": label, "url": found[0], "icon": icon, "active": False})
                if url_name in BADGES:
                    template, number = BADGES[url_name]
                    shown[-1].update(badge=template, number=partial(number, request))
        if shown:
            groups.append({"title": title, "links": shown, "open": False})
            for link in shown:
                # The current page is the link whose URL is the longest prefix of the path, so a
                # customer's page marks Customers and /customers/pppoe/ marks PPPoE users.
                if path.startswith(link["url"]) and (link["url"] != "/" or path == "/") and (
                        best is None or len(link["url"]) > len(best[0]["url"])):
                    best = (link, groups[-1])
    if best:
        best[0]["active"] = best[1]["open"] = True
    if sum(len(group["links"]) for group in groups) <= OPEN_ALL_UP_TO:
        for group in groups:
            group["open"] = True
    return {"nav_groups": groups}
