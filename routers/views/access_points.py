"""/routers/access-points/: the access points behind each router, entered by technicians and checked
by the live-data job (online when the router's ARP table holds the AP's MAC address)."""
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.access import access, perm
from lib.listing import list_page

from .. import services
from ..forms import AccessPointFilter, AccessPointForm
from ..models import AccessPoint

LIVE_EVENTS = "router.live-data router.status"


@access(perm("routers.view_accesspoint"))
def access_point_list(request):
    filters = AccessPointFilter(request.GET)
    points = AccessPoint.objects.select_related("router").order_by("router__name", "name", "pk")
    return list_page(request, filters.apply(points), "routers/access_point_list.html", filters=filters,
                     router=filters.value("router"), live_events=LIVE_EVENTS)


@access(perm("routers.add_accesspoint"))
def access_point_add(request):
    initial = {"router": request.GET.get("router")} if request.GET.get("router") else None
    form = AccessPointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        point = services.save_access_point(form, request.user)
        messages.success(request, f"{point.name} added; its status shows after the next check of {point.router}.")
        return redirect("access-point-list")
    return render(request, "routers/access_point_form.html", {"form": form, "adding": True})


@access(perm("routers.change_accesspoint"))
def access_point_edit(request, pk):
    point = get_object_or_404(AccessPoint, pk=pk)
    form = AccessPointForm(request.POST or None, instance=point)
    if request.method == "POST" and form.is_valid():
        point = services.save_access_point(form, request.user)
        messages.success(request, f"{point.name} saved.")
        return redirect("access-point-list")
    return render(request, "routers/access_point_form.html", {"form": form, "point": point, "adding": False})


@access(perm("routers.delete_accesspoint"))
@require_POST
def access_point_delete(request, pk):
    point = get_object_or_404(AccessPoint.objects.select_related("router"), pk=pk)
    services.delete_access_point(point, request.user)
    messages.success(request, f"{point.name} removed.")
    return redirect("access-point-list")
