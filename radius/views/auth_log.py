"""/radius/auth-log/: FreeRADIUS's answers (radpostauth), newest first."""
from django.db.models import Q

from accounts.access import access, perm
from lib.listing import list_page

from ..models import RadPostAuth


@access(perm("radius.view_radpostauth"))
def auth_log(request):
    q = request.GET.get("q", "").strip()
    entries = RadPostAuth.objects.order_by("-id")
    if q:
        entries = entries.filter(Q(username=q) | Q(calling_station_id=q.upper().replace(":", "-")))
    return list_page(request, entries.only("username", "reply", "calling_station_id", "called_station_id", "auth_date"),
                     "radius/auth_log.html")
