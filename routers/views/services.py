"""/routers/services/: the hotspot and PPPoE servers each router runs, as the routers last reported
them (learned by the live-data job)."""
from accounts.access import access, perm
from lib.listing import list_page

from ..forms import ServiceFilter
from ..models import RouterService

LIVE_EVENTS = "router.live-data router.status"


@access(perm("routers.view_routerservice"))
def service_list(request):
    filters = ServiceFilter(request.GET)
    found = RouterService.objects.select_related("router").order_by("router__name", "kind", "name", "pk")
    return list_page(request, filters.apply(found), "routers/service_list.html", filters=filters,
                     router=filters.value("router"), kind=filters.value("kind", ""), kinds=RouterService.Kind.choices,
                     live_events=LIVE_EVENTS)
