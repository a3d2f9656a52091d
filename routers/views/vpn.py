"""/routers/vpn/ and /routers/<id>/vpn/…: WireGuard pages for technicians: every router's tunnel at a
glance, and one router's onboarding (create the tunnel, copy or download its script, then switch its
API host to the tunnel)."""
from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.access import access, perm
from lib.downloads import text_download
from lib.listing import list_page

from .. import onboarding, services, wireguard
from ..models import Router, RouterVpnConfig, WireGuardServer

VIEW = perm("routers.view_router")
CHANGE = perm("routers.change_router")


@access(VIEW)
def vpn_overview(request):
    # Read only: our keys are made with the first tunnel, not by looking at this page.
    server = WireGuardServer.objects.filter(pk=wireguard.SERVER_ROW).first()
    return list_page(request, RouterVpnConfig.objects.select_related("router"), "routers/vpn.html",
                     server=server, **_server_facts(server))


def _server_facts(server: WireGuardServer | None) -> dict:
    """What the pages show of our end; before the first tunnel, what the settings will make."""
    network = server.network if server else settings.WIREGUARD_NETWORK
    return {"network": network, "endpoint": settings.WIREGUARD_ENDPOINT, "port": settings.WIREGUARD_PORT,
            "server_address": wireguard.server_address(WireGuardServer(network=network)),
            "network_pending": bool(server) and server.network != settings.WIREGUARD_NETWORK}


@access(VIEW)
@never_cache  # it shows the onboarding script, which holds the tunnel key and API password
def router_vpn(request, pk):
    router = get_object_or_404(Router, pk=pk)
    vpn = RouterVpnConfig.objects.filter(router=router).first()
    can_change = request.user.has_perm("routers.change_router")
    script = None
    if vpn and can_change:  # the script holds secrets: only for those who may enrol, and logged
        try:
            script = onboarding.script_for(router, by=request.user, purpose="shown on its page")
        except wireguard.VpnRefused as refused:
            messages.error(request, str(refused))
    server = WireGuardServer.objects.filter(pk=wireguard.SERVER_ROW).first()
    context = {"router": router, "vpn": vpn, "script": script, "can_change": can_change,
               "failed_check": request.GET.get("failed") == "1", **_server_facts(server)}
    return render(request, "routers/router_vpn.html", context)


@access(CHANGE)
@require_POST
def router_vpn_enrol(request, pk):
    router = get_object_or_404(Router, pk=pk)
    try:
        vpn, created = wireguard.enrol(router, by=request.user)
    except wireguard.VpnRefused as refused:
        messages.error(request, str(refused))
    else:
        if created:
            messages.success(request, f"Tunnel created: {router.name} gets {vpn.tunnel_address}. Run the script "
                                      "below on the router, then activate.")
    return redirect("router-vpn", router.pk)


@access(CHANGE)
def router_vpn_script(request, pk):
    router = get_object_or_404(Router, pk=pk)
    try:
        script = onboarding.script_for(router, by=request.user, purpose="downloaded")
    except wireguard.VpnRefused as refused:
        messages.error(request, str(refused))
        return redirect("router-vpn", router.pk)
    return text_download(script, f"onboarding-{router.pk}.rsc")


@access(CHANGE)
@require_POST
def router_vpn_activate(request, pk):
    router = get_object_or_404(Router, pk=pk)
    force = request.POST.get("force") == "1"
    try:
        vpn = wireguard.activate(router, by=request.user, check=not force)
    except wireguard.TunnelNotAnswering as failed:
        messages.error(request, str(failed))
        return redirect(reverse("router-vpn", args=[router.pk]) + "?failed=1")
    except (wireguard.VpnRefused, services.InvalidRouter) as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"{router.name} is now reached at {vpn.tunnel_address}, over its tunnel.")
    return redirect("router-vpn", router.pk)


@access(VIEW)
def server_conf(request):
    return text_download(wireguard.server_config(with_private_key=False), "wg0.conf")
