"""/api/routers/<id>/vpn… and /api/vpn/server.conf: WireGuard tunnels to routers behind NAT: create a
router's tunnel, download its onboarding script, switch its API host to the tunnel, and download our
server's wg-quick file.

Secrets stay out of JSON with one exception: the onboarding script in the answer to creating a tunnel
(and its download) carries the router's tunnel private key and API password, because pasting it on
the router is its whole purpose. Reading it takes the right to change routers and is logged."""
from datetime import datetime

from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status

from accounts.access import api_access
from lib.downloads import text_download

from .. import onboarding, services, wireguard
from ..models import RouterVpnConfig
from .routers import CHANGE, VIEW, router_or_404
from .schemas import Message, RouterFailure

vpn_router = Router(tags=["routers"])


class TunnelOut(Schema):
    router_id: int
    tunnel_address: str
    server_address: str
    router_public_key: str
    server_public_key: str
    endpoint: str
    endpoint_port: int
    active: bool
    previous_host: str
    created_at: datetime
    activated_at: datetime | None
    last_handshake_at: datetime | None


class TunnelCreated(TunnelOut):
    script: str


def _tunnel(vpn: RouterVpnConfig) -> dict:
    wg = wireguard.server()
    return {"router_id": vpn.router_id, "tunnel_address": vpn.tunnel_address,
            "server_address": wireguard.server_address(wg), "router_public_key": vpn.public_key,
            "server_public_key": wg.public_key, "endpoint": wg.endpoint, "endpoint_port": wg.listen_port,
            "active": vpn.active, "previous_host": vpn.previous_host, "created_at": vpn.created_at,
            "activated_at": vpn.activated_at, "last_handshake_at": vpn.last_handshake_at}


@vpn_router.post("/routers/{router_id}/vpn", auth=api_access(CHANGE),
                 response={200: TunnelCreated, 201: TunnelCreated, 404: Message, 409: Message},
                 summary="Create the router's WireGuard tunnel (again: the same one); answers its onboarding script")
def create_tunnel(request, router_id: int):
    """201 when made now, 200 when the router already had it. ``script`` is the RouterOS script to
    run on the router; it holds secrets (see the module note). The API host changes only on
    ``POST …/vpn/activate``, once the script has run."""
    router = router_or_404(router_id)
    try:
        vpn, created = wireguard.enrol(router, by=request.user)
        script = onboarding.script_for(router, by=request.user, purpose="answered to the API")
    except wireguard.VpnRefused as refused:
        raise HttpError(409, str(refused)) from None
    return Status(201 if created else 200, {**_tunnel(vpn), "script": script})


@vpn_router.get("/routers/{router_id}/vpn", auth=api_access(VIEW), response={200: TunnelOut, 404: Message},
                summary="The router's tunnel (no secrets)")
def get_tunnel(request, router_id: int):
    try:
        return _tunnel(wireguard.config_for(router_or_404(router_id)))
    except wireguard.NotEnrolled as missing:
        raise HttpError(404, str(missing)) from None


@vpn_router.get("/routers/{router_id}/vpn/onboarding.rsc", auth=api_access(CHANGE),
                response={404: Message, 409: Message}, summary="The router's onboarding script, as a file (text/plain)",
                openapi_extra={"responses": {200: {"description": "The script",
                                                   "content": {"text/plain": {"schema": {"type": "string"}}}}}})
def onboarding_script(request, router_id: int):
    router = router_or_404(router_id)
    try:
        script = onboarding.script_for(router, by=request.user, purpose="downloaded")
    except wireguard.NotEnrolled as missing:
        raise HttpError(404, str(missing)) from None
    except wireguard.VpnRefused as refused:
        raise HttpError(409, str(refused)) from None
    return text_download(script, f"onboarding-{router.pk}.rsc")


@vpn_router.post("/routers/{router_id}/vpn/activate", auth=api_access(CHANGE),
                 response={200: TunnelOut, 404: Message, 409: Message, 502: RouterFailure},
                 summary="Make the tunnel address the router's API host (after logging in over the tunnel)")
def activate_tunnel(request, router_id: int, force: bool = False):
    """``force=true`` switches without logging in first (when this server cannot reach the tunnel
    itself). 502 names why the login failed in ``reason`` (unreachable, auth_failed…)."""
    router = router_or_404(router_id)
    try:
        vpn = wireguard.activate(router, by=request.user, check=not force)
    except wireguard.NotEnrolled as missing:
        raise HttpError(404, str(missing)) from None
    except wireguard.TunnelNotAnswering as failed:
        return Status(502, {"detail": str(failed), "reason": failed.reason})
    except (wireguard.VpnRefused, services.InvalidRouter) as refused:
        raise HttpError(409, str(refused)) from None
    return _tunnel(vpn)


@vpn_router.get("/vpn/server.conf", auth=api_access(VIEW), summary="Our wg-quick file (text/plain), without "
                "the private key: it is read from /etc/wireguard/<interface>.key")
def server_conf(request):
    return text_download(wireguard.server_config(with_private_key=False), "wg0.conf")
