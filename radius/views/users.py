"""/radius/users/: what FreeRADIUS sees for each username (check and reply attributes, groups)."""
from accounts.access import access, perm
from lib.listing import list_page

from ..forms import UserSearch
from ..models import RadCheck, RadReply, RadUserGroup


@access(perm("radius.view_radcheck"))
def user_list(request):
    filters = UserSearch(request.GET)
    names = filters.apply(RadCheck.objects.filter(attribute="Cleartext-Password").order_by("username"))
    return list_page(request, names.values_list("username", flat=True), "radius/user_list.html",
                     filters=filters, on_page=_attributes)


def _attributes(page) -> None:
    """The page's rows stay usernames; ``page.users`` holds each one's attributes and groups,
    looked up in three queries for the whole page."""
    usernames = list(page)
    checks, replies, groups = {}, {}, {}
    for row in RadCheck.objects.filter(username__in=usernames).order_by("id"):
        checks.setdefault(row.username, []).append(row)
    for row in RadReply.objects.filter(username__in=usernames).order_by("id"):
        replies.setdefault(row.username, []).append(row)
    for row in RadUserGroup.objects.filter(username__in=usernames).order_by("priority"):
        groups.setdefault(row.username, []).append(row.groupname)
    page.users = [{"username": name, "checks": checks.get(name, []), "replies": replies.get(name, []),
                  "groups": groups.get(name, [])} for name in usernames]
