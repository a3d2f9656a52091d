"""The admin shell's sidebar: the sections that exist, shown to those whose role reaches them."""
from functools import lru_cache

from django.urls import resolve, reverse

from .access import rule_of_view

# (label, URL name, icon). A section appears when the user passes that view's own access rule.
SECTIONS = [
    ("Dashboard", "dashboard", "grid"),
    ("System health", "health", "pulse"),
    ("Staff", "staff-list", "users"),
    ("API", "api:openapi-view", "code"),
]


@lru_cache(maxsize=None)
def _section_rule(url_name: str):
    return rule_of_view(resolve(reverse(url_name)).func)


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_sections": []}
    current = getattr(getattr(request, "resolver_match", None), "url_name", None)
    sections = []
    for label, url_name, icon in SECTIONS:
        rule = _section_rule(url_name)
        if rule is not None and rule.allows(user):
            sections.append({"label": label, "url": reverse(url_name), "icon": icon,
                             "active": current == url_name})
    return {"nav_sections": sections}
