"""/routers/services/ (every router's hotspot and PPPoE services: ours with their desired and actual
state, and those set up by hand) and, on a router's page, its interfaces (the scan: what uses each
port) with the form adding a service, and start / stop / remove. The rules are
routers.router_services'; a change queues the provisioning job, whose progress page follows it."""
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.access import access, perm
from lib.listing import list_page

from .. import interfaces as scan
from .. import router_services
from ..forms import ServiceEditForm, ServiceFilter, ServiceForm
from ..models import Router, RouterService
from ..routeros import RouterError

LIVE_EVENTS = "router.live-data router.status provisioning.finished"
VIEW = perm("routers.view_router")
CHANGE = perm("routers.change_router")
PANEL = "routers/router_services.html"
ACTIONS = {"start": router_services.start_service, "stop": router_services.stop_service,
           "remove": router_services.remove_service}


def on_router(service: RouterService) -> tuple[str, str]:
    """(what the router runs of ``service``, badge): the live-data job's last look when it is newer
    than the last provisioning; else what provisioning made it (it reads back every item it sets)."""
    if service.managed and service.state == RouterService.State.REMOVING:
        return "being removed", "warn"
    seen, applied = service.seen_at, service.provisioned_at
    looked = seen is not None and (applied is None or seen >= applied)
    if not service.managed or looked:
        if not service.on_router:
            return "not there yet" if service.managed else "gone", "" if service.managed else "bad"
        return ("disabled", "bad") if service.disabled else ("running", "good")
    if service.provisioned_at is not None:
        return ("running", "good") if service.state == RouterService.State.RUNNING else ("stopped", "warn")
    return "not applied yet", ""


def with_state(services) -> list[RouterService]:
    services = list(services)
    for service in services:
        service.actual, service.actual_badge = on_router(service)
    return services


@access(perm("routers.view_routerservice"))
def service_list(request):
    filters = ServiceFilter(request.GET)
    found = RouterService.objects.select_related("router").order_by("router__name", "kind", "name", "pk")
    return list_page(request, filters.apply(found), "routers/service_list.html", filters=filters,
                     on_page=lambda page: setattr(page, "object_list", with_state(page.object_list)),
                     router=filters.value("router"), kind=filters.value("kind", ""), kinds=RouterService.Kind.choices,
                     live_events=LIVE_EVENTS)


@access(VIEW)
def router_interfaces(request, pk):
    """The Interfaces panel (asked of the router when the page opens) with the add-service form;
    without HTMX, a page of its own."""
    router = get_object_or_404(Router, pk=pk)
    return _panel(request, router, None)


@access(CHANGE)
@require_POST
def service_add(request, pk):
    router = get_object_or_404(Router, pk=pk)
    ports = [{"name": name} for name in request.POST.getlist("interfaces")]
    form = ServiceForm(request.POST, ports=ports)
    if form.is_valid():
        try:
            service = router_services.add_service(router, **form.cleaned_data)
        except (router_services.ServiceConflict, router_services.InvalidService) as error:
            form.add_error(None, str(error))
        except RouterError as error:
            form.add_error(None, f"The router did not answer ({error.reason}): {error.message}")
        else:
            messages.success(request, f"{service.get_kind_display()} {service.name} added on "
                                      f"{', '.join(service.interfaces)} ({service.network}): Provision to apply it.")
            return redirect("router-detail", router.pk)
    return _panel(request, router, form, status=400)


@access(CHANGE)
@require_POST
def service_action(request, pk, service_id, action):
    service = get_object_or_404(RouterService.objects.select_related("router"), pk=service_id, router_id=pk,
                                managed=True)
    try:
        service, job = ACTIONS[action](service)
    except router_services.ServiceConflict as error:
        messages.error(request, str(error))
        return redirect("router-detail", pk)
    return redirect("router-provisioning", pk, job.pk)


@access(CHANGE)
def service_edit(request, pk, service_id):
    """A service's ports and network: saved through router_services.update_service, which queues
    the run applying it (its progress page follows); a refusal is a form error."""
    service = get_object_or_404(RouterService.objects.select_related("router"), pk=service_id, router_id=pk,
                                managed=True)
    router = service.router
    if service.state == RouterService.State.REMOVING:
        messages.error(request, f"{service.name} is being removed.")
        return redirect("router-detail", pk)
    context, status = {"router": router, "service": service}, 200
    try:
        ports = [port for port in scan.scan_interfaces(router) if port["type"] in scan.PORT_TYPES]
    except RouterError as error:
        return render(request, "routers/service_edit.html", {**context, "error": error})
    for port in ports:
        port["ours"] = port["name"] in service.interfaces
    if request.method == "POST":
        form = ServiceEditForm(request.POST, ports=ports)
        if form.is_valid():
            try:
                service, job = router_services.update_service(service, **form.cleaned_data)
            except (router_services.ServiceConflict, router_services.InvalidService) as error:
                form.add_error(None, str(error))
            except RouterError as error:
                form.add_error(None, f"The router did not answer ({error.reason}): {error.message}")
            else:
                if job is None:
                    messages.info(request, f"{service.name}: nothing changed.")
                    return redirect("router-detail", pk)
                messages.success(request, f"{service.name} now on {', '.join(service.interfaces)} "
                                          f"({service.network}): being applied.")
                return redirect("router-provisioning", pk, job.pk)
        status = 400
    else:
        form = ServiceEditForm(initial={"interfaces": service.interfaces, "network": service.network}, ports=ports)
    picked = set(form["interfaces"].value() or [])
    return render(request, "routers/service_edit.html", {**context, "form": form, "ports": ports, "picked": picked},
                  status=status)


def _panel(request, router: Router, form: ServiceForm | None, status: int = 200):
    context = {"router": router, "form": form, "can_change": request.user.has_perm("routers.change_router")}
    try:
        ports = [{**port, "port": port["type"] in scan.PORT_TYPES} for port in scan.scan_interfaces(router)]
    except RouterError as error:
        context["error"] = error
    else:
        if form is None:
            context["form"] = ServiceForm(initial={"network": router_services.free_network(router)}, ports=ports)
        context.update(ports=ports, picked=set(form["interfaces"].value() or []) if form is not None else set())
    partial = request.htmx and form is None
    return render(request, PANEL + ("#interfaces" if partial else ""), context, status=status)
