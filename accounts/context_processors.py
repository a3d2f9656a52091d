"""The admin shell's sidebar: the sections that exist, shown to those whose role reaches them."""
from django.urls import NoReverseMatch, resolve, reverse

from .access import rule_of_view

# (label, URL name, icon). A section appears when the user passes that view's own access rule.
SECTIONS = [
    ("Dashboard", "dashboard", "grid"),
    ("Customers", "customer-list", "users"),
    ("Hotspot users", "customer-hotspot", "wifi"),
    ("PPPoE users", "customer-pppoe", "home"),
    ("Vouchers", "voucher-batches", "ticket"),
    ("Packages", "package-list", "box"),
    ("Package groups", "package-groups", "layers"),
    ("Payments", "payment-list", "list"),
    ("M-Pesa transactions", "mpesa-transactions", "code"),
    ("Invoices", "invoice-list", "ticket"),
    ("Wallets", "wallet-list", "box"),
    ("Payment methods", "payment-methods", "key"),
    ("Reports", "payment-reports", "pulse"),
    ("Active sessions", "radius-sessions", "wifi"),
    ("Session history", "radius-session-history", "clock"),
    ("RADIUS users", "radius-users", "key"),
    ("NAS devices", "radius-nas", "server"),
    ("Routers", "router-list", "server"),
    ("Access points", "access-point-list", "wifi"),
    ("Router services", "router-services", "layers"),
    ("WireGuard", "vpn-overview", "key"),
    ("Auth log", "radius-auth-log", "list"),
    ("Activity", "activity-list", "clock"),
    ("System log", "system-log", "list"),
    ("System health", "health", "pulse"),
    ("Staff", "staff-list", "users"),
    ("API", "api:openapi-view", "code"),
]


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
        return {"nav_sections": []}
    current = getattr(getattr(request, "resolver_match", None), "url_name", None)
    sections = []
    for label, url_name, icon in SECTIONS:
        found = _section(url_name)
        if found and found[1] is not None and found[1].allows(user):
            sections.append({"label": label, "url": found[0], "icon": icon,
                             "active": current == url_name.rsplit(":", 1)[-1]})
    return {"nav_sections": sections}
