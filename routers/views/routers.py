"""/routers/: the router list (live status), add / edit / remove, a router's page (status, load,
traffic, what it runs, actions and their history), its connection test and its provisioning run."""
from django.contrib import messages
from django.db.models import Count, OuterRef, Q, Subquery
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.access import access, perm
from audit.models import Entry
from lib.listing import list_page

from .. import provisioning, services, traffic
from ..forms import RouterFilter, RouterForm
from ..models import AccessPoint, ProvisioningJob, Router, RouterSample, RouterVpnConfig, ServiceControlLog
from ..routeros import RouterError
from . import services as service_views

LIVE_EVENTS = "router.status router.live provisioning.finished"
VIEW = perm("routers.view_router")
CHANGE = perm("routers.change_router")


def _latest(field: str) -> Subquery:
    return Subquery(RouterSample.objects.filter(router=OuterRef("pk")).order_by("-taken_at", "-pk").values(field)[:1])


@access(VIEW)
def router_list(request):
    filters = RouterFilter(request.GET)
    routers = Router.objects.annotate(cpu_load=_latest("cpu_load"), memory_used_pct=_latest("memory_used_pct"),
                                      active_users=_latest("active_users")).order_by("name", "pk")
    return list_page(request, filters.apply(routers), "routers/router_list.html", filters=filters,
                     status=filters.value("status", ""), statuses=_statuses(), live_events=LIVE_EVENTS)


def _statuses() -> list[tuple[str, str, int]]:
    """Each status with how many routers have it, for the tabs above the list: one grouped query."""
    counts = dict.fromkeys(Router.Status.values, 0)
    counts.update(Router.objects.order_by().values("status").annotate(n=Count("id")).values_list("status", "n"))
    return [(value, label, counts[value]) for value, label in Router.Status.choices]


@access(perm("routers.add_router"))
def router_add(request):
    form = RouterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            router = services.create_router(by=request.user, **form.changes())
        except services.InvalidRouter as error:
            form.add_error("name" if isinstance(error, services.RouterNameTaken) else None, str(error))
        else:
            messages.success(request, f"{router.name} added. Test the connection, then provision it.")
            return redirect("router-detail", router.pk)
    return render(request, "routers/router_form.html", {"form": form, "adding": True})


@access(CHANGE)
def router_edit(request, pk):
    router = get_object_or_404(Router, pk=pk)
    form = RouterForm(request.POST or None, router=router)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_router(router, by=request.user, **form.changes())
        except services.InvalidRouter as error:
            form.add_error("name" if isinstance(error, services.RouterNameTaken) else None, str(error))
        else:
            messages.success(request, f"{router.name} saved.")
            return redirect("router-detail", router.pk)
    return render(request, "routers/router_form.html", {"form": form, "router": router, "adding": False})


@access(perm("routers.delete_router"))
@require_POST
def router_delete(request, pk):
    router = get_object_or_404(Router, pk=pk)
    services.delete_router(router, by=request.user)
    messages.success(request, f"{router.name} removed, with its RADIUS client entry.")
    return redirect("router-list")


@access(VIEW)
def router_detail(request, pk):
    router = get_object_or_404(Router.objects.select_related("vpn"), pk=pk)
    if request.htmx and request.GET.get("part") == "status":
        return render(request, "routers/router_detail.html#status", _status_context(router))
    context = _status_context(router)
    access_points = list(router.access_points.all())
    context.update(
        job=router.provisioning_jobs.order_by("-created_at", "-pk").first(),
        actions=ServiceControlLog.objects.filter(router=router).select_related("user")[:15],
        backups=router.backups.select_related("created_by")[:10],
        access_points=access_points,
        history=_history(router, access_points),
        router_services=service_views.with_state(router.router_services.order_by("kind", "name", "pk")),
        can_change=request.user.has_perm("routers.change_router"),
        can_delete=request.user.has_perm("routers.delete_router"),
        live_events=LIVE_EVENTS,
    )
    return render(request, "routers/router_detail.html", context)


def _history(router: Router, access_points: list[AccessPoint], limit: int = 20) -> list[Entry]:
    """The audit entries about the router, its WireGuard tunnel and its access points, newest first."""
    about = Q(object_type=Router._meta.label_lower, object_id=str(router.pk))
    vpn = getattr(router, "vpn", None)  # selected with the router: no query
    if vpn is not None:
        about |= Q(object_type=RouterVpnConfig._meta.label_lower, object_id=str(vpn.pk))
    if access_points:
        about |= Q(object_type=AccessPoint._meta.label_lower, object_id__in=[str(p.pk) for p in access_points])
    return list(Entry.objects.filter(about)[:limit])


def _status_context(router: Router) -> dict:
    return {"router": router, "sample": router.samples.order_by("-taken_at", "-pk").first(),
            "chart": traffic.chart(traffic.history(router)), "live_start": traffic.recent(router)}


@access(VIEW)
def router_traffic(request, pk):
    """The router's rates now, as JSON for the page's live graph; 502 with the cause when the router
    cannot be asked (the page says so and keeps trying)."""
    router = get_object_or_404(Router, pk=pk)
    try:
        return JsonResponse(traffic.now(router))
    except RouterError as error:
        return JsonResponse({"detail": error.message, "reason": error.reason}, status=502)


@access(CHANGE)
@require_POST
def router_test(request, pk):
    router = get_object_or_404(Router, pk=pk)
    try:
        learned = services.test_connection(router, by=request.user)
    except RouterError as error:
        messages.error(request, f"{router.name} did not answer as expected ({error.reason}): {error.message}")
    else:
        messages.success(request, f"Connected: {learned['identity']}, RouterOS {learned['version']}"
                                  f"{', ' + learned['model'] if learned['model'] else ''}.")
    return redirect("router-detail", router.pk)


@access(CHANGE)
@require_POST
def router_provision(request, pk):
    router = get_object_or_404(Router, pk=pk)
    job = provisioning.enqueue(router)
    return redirect("router-provisioning", router.pk, job.pk)


@access(VIEW)
def provisioning_job(request, pk, job_id):
    job = get_object_or_404(ProvisioningJob.objects.select_related("router"), pk=job_id, router_id=pk)
    steps = [{**step, "label": provisioning.LABELS.get(step["name"], step["name"])} for step in job.steps]
    fix = next((step["field"] for step in steps if step["status"] == "failed" and step.get("field")), "")
    context = {"router": job.router, "job": job, "steps": steps, "progress": provisioning.progress(job),
               "can_change": request.user.has_perm("routers.change_router"), "fix_field": fix}
    template = "routers/provisioning.html" + ("#progress" if request.htmx else "")
    return render(request, template, context)
