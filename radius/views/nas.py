"""/radius/nas/: the NAS devices FreeRADIUS accepts requests from, with who is online on each."""
from django.db.models import Count

from accounts.access import access, perm
from lib.listing import list_page

from ..forms import NasSearch
from ..models import Nas, RadAcct


@access(perm("radius.view_nas"))
def nas_list(request):
    filters = NasSearch(request.GET)
    devices = filters.apply(Nas.objects.select_related("coa").order_by("shortname"))
    return list_page(request, devices, "radius/nas_list.html", filters=filters, on_page=_count_open_sessions)


def _count_open_sessions(page) -> None:
    # Open sessions per NAS of this page in one grouped query over the open-sessions index.
    counts = dict(RadAcct.objects.open().filter(nas_ip_address__in=[n.nasname for n in page])
                  .values_list("nas_ip_address").annotate(n=Count("id")).values_list("nas_ip_address", "n"))
    for device in page:
        device.open_sessions = counts.get(device.nasname, 0)
