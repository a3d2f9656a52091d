"""/activity/: the audit trail, newest first: who did what to which object, when, from where, and what
it was before. Each role reads the entries about what it may view (audit.trail.visible_to)."""
from django.urls import resolve, reverse
from django.views.decorators.http import require_safe

from accounts.access import access, perm, rule_of_view
from audit import trail
from lib.listing import list_page

from ..forms import ActivityFilterForm

# The objects whose page an entry links to: object type -> the URL name of its page (kwarg pk).
OBJECT_PAGES = {
    "hotspot.customer": "customer-detail",
    "hotspot.package": "package-edit",
    "billing.payment": "payment-detail",
    "routers.router": "router-detail",
    "auth.group": "role-edit",
}


def _linker(user):
    """A function giving an entry's object page, or "" where there is none the user may open."""
    opens = {}
    for object_type, url_name in OBJECT_PAGES.items():
        rule = rule_of_view(resolve(reverse(url_name, kwargs={"pk": 1})).func)
        opens[object_type] = rule is not None and rule.allows(user)

    def link(entry) -> str:
        if not opens.get(entry.object_type) or entry.action == "deleted" or not entry.object_id.isascii() \
                or not entry.object_id.isdigit():
            return ""
        return reverse(OBJECT_PAGES[entry.object_type], kwargs={"pk": int(entry.object_id)})
    return link


# Counting millions of entries exactly on every view costs more than the page (bench/activity_pages.py).
COUNTED_UP_TO = 10_000


@access(perm("audit.view_entry"))
@require_safe  # the trail is read here, never written: any other method is a 405
def activity_list(request):
    filters = ActivityFilterForm(request.GET, user=request.user)
    link = _linker(request.user)

    def linked(page):
        for entry in page:
            entry.link = link(entry)
            entry.verb = entry.action.replace("_", " ")  # "signed in", as the filter takes it too
    return list_page(request, filters.apply(trail.visible_to(request.user)), "monitoring/activity_list.html",
                     filters=filters, on_page=linked, count_up_to=COUNTED_UP_TO)
