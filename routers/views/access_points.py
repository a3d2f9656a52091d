"""Pages for what stands behind the routers: access points (entered by technicians, checked by the
live-data job) and the hotspot / PPPoE services each router runs (learned from the routers)."""
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.access import access, perm

from ..forms import AccessPointForm
from ..models import AccessPoint, Router, RouterService, ServiceControlLog
from ..services import log_action

PAGE_SIZE = 50
LIVE_EVENTS = "router.live-data router.status"


def _router_filter(request) -> Router | None:
    try:
        return Router.objects.filter(pk=int(request.GET.get("router", ""))).first()
    except ValueError:
        return None


@access(perm("routers.view_accesspoint"))
def access_point_list(request):
    q = request.GET.get("q", "").strip()
    router = _router_filter(request)
    points = AccessPoint.objects.select_related("router").order_by("router__name", "name", "pk")
    if router:
        points = points.filter(router=router)
    if q:
        points = points.filter(Q(name__icontains=q) | Q(location__icontains=q) | Q(mac_address__iexact=q)
                               | Q(ip_address__startswith=q))
    page = Paginator(points, PAGE_SIZE).get_page(request.GET.get("page"))
    template = "routers/access_point_list.html" + ("#results" if request.htmx else "")
    return render(request, template, {"page": page, "q": q, "router": router, "live_events": LIVE_EVENTS,
                                      "routers": Router.objects.order_by("name").values_list("pk", "name")})


def _log(point: AccessPoint, user, action: str) -> None:
    log_action(point.router, user, action, ServiceControlLog.Outcome.OK,
               f"access point {point.name} ({point.mac_address})")


@access(perm("routers.add_accesspoint"))
def access_point_add(request):
    initial = {"router": request.GET.get("router")} if request.GET.get("router") else None
    form = AccessPointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        point = form.save()
        _log(point, request.user, "ap-add")
        messages.success(request, f"{point.name} added; its status shows after the next check of {point.router}.")
        return redirect("access-point-list")
    return render(request, "routers/access_point_form.html", {"form": form, "adding": True})


@access(perm("routers.change_accesspoint"))
def access_point_edit(request, pk):
    point = get_object_or_404(AccessPoint, pk=pk)
    form = AccessPointForm(request.POST or None, instance=point)
    if request.method == "POST" and form.is_valid():
        point = form.save()
        _log(point, request.user, "ap-change")
        messages.success(request, f"{point.name} saved.")
        return redirect("access-point-list")
    return render(request, "routers/access_point_form.html", {"form": form, "point": point, "adding": False})


@access(perm("routers.delete_accesspoint"))
@require_POST
def access_point_delete(request, pk):
    point = get_object_or_404(AccessPoint.objects.select_related("router"), pk=pk)
    _log(point, request.user, "ap-remove")
    point.delete()
    messages.success(request, f"{point.name} removed.")
    return redirect("access-point-list")


@access(perm("routers.view_routerservice"))
def service_list(request):
    router = _router_filter(request)
    kind = request.GET.get("kind", "")
    found = RouterService.objects.select_related("router").order_by("router__name", "kind", "name", "pk")
    if router:
        found = found.filter(router=router)
    if kind in RouterService.Kind.values:
        found = found.filter(kind=kind)
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    template = "routers/service_list.html" + ("#results" if request.htmx else "")
    return render(request, template, {"page": page, "router": router, "kind": kind, "kinds": RouterService.Kind.choices,
                                      "live_events": LIVE_EVENTS,
                                      "routers": Router.objects.order_by("name").values_list("pk", "name")})
