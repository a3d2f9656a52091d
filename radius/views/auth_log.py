"""/radius/auth-log/: FreeRADIUS's answers (radpostauth), newest first."""
from accounts.access import access, perm
from lib.listing import EXACT_UP_TO, list_page

from ..forms import AuthLogSearch
from ..models import RadPostAuth


@access(perm("radius.view_radpostauth"))
def auth_log(request):
    filters = AuthLogSearch(request.GET)
    entries = filters.apply(RadPostAuth.objects.order_by("-auth_date", "-id"))
    return list_page(request, entries.only("username", "reply", "calling_station_id", "called_station_id", "auth_date"),
                     "radius/auth_log.html", filters=filters, estimate_past=EXACT_UP_TO)
