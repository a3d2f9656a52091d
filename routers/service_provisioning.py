"""Provisioning of the router services we run (routers.RouterService rows with ``managed``): the
hotspot and PPPoE servers on their ports, with everything they need, built from nothing on a
factory-default router.

Each is a provisioning step (routers.provisioning.STEPS) in the same mould as the others: it makes
the router hold exactly the desired items through routers.reconcile (add what is missing, set what
differs, read back), says "unchanged" when there is nothing to do, and in a dry run (drift) only
says what it would write. Every item of a service carries ``routers.tags.service_tagged(name, …)``
(but its hotspot server profile, a menu without comments, which is ours by its name
``<service>-profile``), so the service's step keeps only its own items and a removal takes away
exactly those, never an item of the operator's (their own pool, bridge or NAT rule) nor another
service's. A service's
items, in the order a router needs them (a removal goes the other way):

- hotspot: a bridge over its ports and the ports in it, the gateway address (the network's first
  host) on the bridge, a pool of the rest, a DHCP server and its network (DNS = the gateway), the
  hotspot server profile (RADIUS, HTTP CHAP/PAP and MAC cookie, our login page's directory,
  ``dns-name``), the hotspot server on the bridge, and a masquerade of the network out of the WAN
  port. The walled garden, grace rules, profile and login page steps then find the server and do
  their part.
- PPPoE: a pool, a PPP profile (local address = gateway, remote = the pool, DNS = gateway,
  ``change-tcp-mss``, ``only-one``), a PPPoE server on each port (service name = the service's
  name, ``one-session-per-host``, PAP/CHAP/MS-CHAPv2), the masquerade; and ``/ppp aaa`` using RADIUS
  with accounting and the interim interval while any PPPoE service exists. The RADIUS client's
  ``service=hotspot,ppp`` is the radius_client step's.
- both: the router's resolver answers remote requests (the clients' DNS is the gateway); shared
  guard rules let our services' networks (an address list, one entry per service) ask it and keep
  the Internet (the WAN port) from asking.

A stopped service keeps its items, with its server (and for a hotspot, the DHCP server and NAT
that would otherwise give free access around it) disabled. A service marked for removal loses its
items and then its row, in a real run only; until then a dry run shows what would go.
"""
import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit import trail
from siteconfig import store

from .models import RouterService
from .reconcile import Context, StepFailed, asking, ensure_items, ensure_properties
from .tags import SHARED_SCOPE, service_scope, service_tagged, shared_tagged

HOTSPOT_LOGIN_BY = "http-chap,http-pap,mac-cookie"
PPPOE_AUTHENTICATION = "pap,chap,mschap2"
HTML_DIRECTORY = "hotspot"  # where provisioning's login_page step writes our login.html
LEASE_TIME = "1h"
DNS_CLIENTS_LIST = "hotspot-billing-dns-clients"
NAMED = {"/ip/hotspot/profile"}  # menus whose items take no comment: ours by name
NO_WAN = ("the router has no default route, so its WAN port (for the services' NAT) is unknown: "
          "give it one (a DHCP client or a static route) first")


def interim_update() -> str:
    """The RADIUS interim interval as RouterOS writes it (5m, 90s)."""
    seconds = store.get("radius.interim_interval")
    return f"{seconds // 60}m" if seconds % 60 == 0 else f"{seconds}s"


def hotspot_dns_name() -> str:
    """The hotspot's own name in its login URLs: under the portal's domain when it has one."""
    host = urlsplit(settings.PORTAL_BASE_URL).hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return f"login.{host}" if host else "login.hotspot"
    return "login.hotspot"


def managed(router, kind: str | None = None) -> list[RouterService]:
    services = RouterService.objects.filter(router=router, managed=True).order_by("name", "pk")
    return list(services.filter(kind=kind) if kind else services)


def has_services(router) -> bool:
    """Whether we run (or are setting up, or taking away) a service on the router: then a router
    without a hotspot server is not an error for the hotspot steps (it serves PPPoE, or its hotspot
    service is being built or removed)."""
    return RouterService.objects.filter(router=router, managed=True).exists()


def wan_interface(ctx: Context) -> str:
    """The port of the router's active default route: the WAN, which NAT masquerades out of."""
    with asking("/ip/route/print"):
        routes = ctx.client.print("/ip/route")
    for route in routes:
        if route.get("dst-address") != "0.0.0.0/0" or route.get("active") == "false" or route.get("disabled") == "true":
            continue
        immediate = route.get("immediate-gw", "")
        if "%" in immediate:
            return immediate.rsplit("%", 1)[1]
        gateway = route.get("gateway", "").split(",")[0]
        interface = _interface_reaching(ctx, gateway)
        if interface:
            return interface
    raise StepFailed(NO_WAN)


def _interface_reaching(ctx: Context, gateway: str) -> str:
    """The interface a gateway is on: named outright, or the one whose address's network holds it."""
    try:
        address = ipaddress.ip_address(gateway)
    except ValueError:
        return gateway  # "gateway=ether1" (or pppoe-out1)
    with asking("/ip/address/print"):
        rows = ctx.client.print("/ip/address")
    for row in rows:
        try:
            if address in ipaddress.ip_interface(row.get("address", "")).network:
                return row.get("interface", "")
        except ValueError:
            continue
    return ""


def _enabled(service: RouterService) -> str:
    return "yes" if service.state == RouterService.State.STOPPED else "no"


def _nat(service: RouterService, wan: str, disabled: str = "no") -> dict:
    return {service_tagged(service.name, "nat"): {
        "chain": "srcnat", "action": "masquerade", "src-address": service.network, "out-interface": wan,
        "disabled": disabled}}


def hotspot_items(service: RouterService, wan: str) -> dict[str, dict[str, dict]]:
    """Menu -> {comment: properties}: everything a hotspot service is on the router."""
    name, bridge, off = service.name, service.bridge_name, _enabled(service)
    tag = lambda purpose: service_tagged(name, purpose)  # noqa: E731
    return {
        "/interface/bridge": {tag("bridge"): {"name": bridge}},
        "/interface/bridge/port": {tag(f"port {port}"): {"bridge": bridge, "interface": port}
                                   for port in service.interfaces},
        "/ip/address": {tag("gateway"): {"address": service.gateway_cidr, "interface": bridge}},
        "/ip/pool": {tag("pool"): {"name": service.pool_name, "ranges": service.pool_range}},
        "/ip/dhcp-server": {tag("dhcp"): {
            "name": service.dhcp_name, "interface": bridge, "address-pool": service.pool_name,
            "lease-time": LEASE_TIME, "disabled": off}},
        "/ip/dhcp-server/network": {tag("dhcp network"): {
            "address": service.network, "gateway": service.gateway, "dns-server": service.gateway}},
        # A hotspot server profile takes no comment: it is ours by its name (see _apply).
        "/ip/hotspot/profile": {service.profile_name: {
            "hotspot-address": service.gateway, "dns-name": hotspot_dns_name(),
            "html-directory": HTML_DIRECTORY, "login-by": HOTSPOT_LOGIN_BY, "use-radius": "yes",
            "radius-accounting": "yes", "radius-interim-update": interim_update()}},
        "/ip/hotspot": {tag("server"): {
            "name": name, "interface": bridge, "address-pool": service.pool_name, "profile": service.profile_name,
            "disabled": off}},
        "/ip/firewall/nat": _nat(service, wan, off),
    }


def pppoe_items(service: RouterService, wan: str) -> dict[str, dict[str, dict]]:
    """Menu -> {comment: properties}: everything a PPPoE service is on the router."""
    name = service.name
    tag = lambda purpose: service_tagged(name, purpose)  # noqa: E731
    return {
        "/ip/pool": {tag("pool"): {"name": service.pool_name, "ranges": service.pool_range}},
        "/ppp/profile": {tag("profile"): {
            "name": service.profile_name, "local-address": service.gateway, "remote-address": service.pool_name,
            "dns-server": service.gateway, "change-tcp-mss": "yes", "only-one": "yes"}},
        "/interface/pppoe-server/server": {tag(f"server {port}"): {
            "service-name": name, "interface": port, "default-profile": service.profile_name,
            "one-session-per-host": "yes", "authentication": PPPOE_AUTHENTICATION, "disabled": _enabled(service)}
            for port in service.interfaces},
        "/ip/firewall/nat": _nat(service, wan),
    }


# --- the steps ----------------------------------------------------------------------------------

def hotspot_services(ctx: Context) -> None:
    _apply(ctx, RouterService.Kind.HOTSPOT, hotspot_items)


def pppoe_services(ctx: Context) -> None:
    if _apply(ctx, RouterService.Kind.PPPOE, pppoe_items):
        # PPPoE customers authenticate and are accounted by RADIUS, as the hotspot's are.
        ensure_properties(ctx, "/ppp/aaa", None, {
            "use-radius": "yes", "accounting": "yes", "interim-update": interim_update()}, "aaa")


def service_dns(ctx: Context) -> None:
    """The services' clients use the router as their DNS (the gateway): the resolver answers remote
    requests; guard rules, ahead of the operator's, let our services' networks (their address-list
    entries) ask it even where the operator's rules would drop them, and keep the Internet (the WAN
    port) from asking. The operator's other networks are theirs to allow or not. With no service
    left, the WAN rules stay while the resolver still answers remote requests (we cannot know
    whether the operator wants it open; it must not be open to the Internet)."""
    serving = any(service.state != RouterService.State.REMOVING for service in managed(ctx.router))
    if serving:
        wan = wan_interface(ctx)
        guard = {}
        for verdict, action, match in (("from our clients", "accept", {"src-address-list": DNS_CLIENTS_LIST}),
                                       ("from the internet", "drop", {"in-interface": wan})):
            for protocol in ("udp", "tcp"):
                guard[shared_tagged(f"dns {verdict} ({protocol})")] = {
                    "chain": "input", "action": action, "protocol": protocol, "dst-port": "53", **match}
        ensure_items(ctx, "/ip/firewall/filter", guard, before_others=True, scope=SHARED_SCOPE)
        ensure_properties(ctx, "/ip/dns", None, {"allow-remote-requests": "yes"}, "resolver")
        return
    with asking("/ip/firewall/filter/print"):
        ours = [row for row in ctx.client.print("/ip/firewall/filter")
                if row.get("comment", "").startswith(SHARED_SCOPE)]
    if not ours:
        return
    with asking("/ip/dns/print"):
        resolver = (ctx.client.print("/ip/dns") or [{}])[0]
    still_open = resolver.get("allow-remote-requests") in ("true", "yes")
    keep = {row["comment"]: {} for row in ours if still_open and "from the internet" in row["comment"]}
    ensure_items(ctx, "/ip/firewall/filter", keep, scope=SHARED_SCOPE)


def removed_services(ctx: Context) -> None:
    """Services marked for removal whose items the steps above took off the router: their rows go.
    (Kept until here so the hotspot steps between know the router is ours to serve.)"""
    for service in managed(ctx.router):
        if service.state != RouterService.State.REMOVING:
            continue
        if ctx.services_read_at is not None and service.updated_at > ctx.services_read_at:
            continue  # marked after the services steps read it: its items are still there (the next run's)
        ctx.change("removed", f"service {service.name}")
        if ctx.dry_run:
            continue
        with transaction.atomic():
            if RouterService.objects.filter(pk=service.pk, state=RouterService.State.REMOVING,
                                            updated_at=service.updated_at).delete()[0]:
                # The end of the service's history (router_services wrote "removal_requested").
                trail.record("deleted", service, note=f"router {ctx.router.name}: its items taken off the router")


def ensure_named(ctx: Context, menu: str, name: str, props: dict | None) -> None:
    """An item of a menu that takes no comment, ours by its name (a service's hotspot server
    profile): added with ``props`` or set to them (and read back); ``props`` None removes it."""
    with asking(f"{menu}/print"):
        rows = ctx.client.print(menu, name=name)
    if props is None:
        for row in rows:
            if not ctx.dry_run:
                with asking(f"{menu}/remove"):
                    ctx.client.remove(menu, row["id"])
            ctx.change("removed", f"{menu} {name!r}")
        return
    if rows:
        ensure_properties(ctx, menu, rows[0]["id"], props, name)
        return
    ctx.change("added", f"{menu} {name!r}")
    if ctx.dry_run:
        return
    with asking(f"{menu}/add"):
        item_id = ctx.client.add(menu, name=name, **props)
    ensure_properties(ctx, menu, item_id, props, name)  # reads it back: the router must show it as written


def _apply(ctx: Context, kind: str, items_of) -> list[RouterService]:
    """Make the router hold each service of ``kind`` (or none of it, when marked for removal).
    Returns the services kept."""
    services = managed(ctx.router, kind)
    kept = [service for service in services if service.state != RouterService.State.REMOVING]
    if not services:
        return []
    wan = wan_interface(ctx) if kept else ""
    # The removed first: a port one of them frees may be another's now.
    for service in sorted(services, key=lambda service: service in kept):
        scope = service_scope(service.name)
        if service not in kept:
            # Everything the service has, dependants first (the server before its pool...).
            for menu, items in reversed([*items_of(service, "").items(), ("/ip/firewall/address-list", {})]):
                if menu in NAMED:
                    for name in items:
                        ensure_named(ctx, menu, name, None)
                else:
                    ensure_items(ctx, menu, {}, scope=scope)
            continue
        if service.ip_network is None or not service.interfaces:
            raise StepFailed(f"service {service.name}: it has no valid network or no ports")
        for menu, items in items_of(service, wan).items():
            if menu in NAMED:
                for name, props in items.items():
                    ensure_named(ctx, menu, name, props)
            else:
                ensure_items(ctx, menu, items, scope=scope)
        # Its network may ask the router's resolver (service_dns's guard rules).
        ensure_items(ctx, "/ip/firewall/address-list", {service_tagged(service.name, "dns clients"): {
            "list": DNS_CLIENTS_LIST, "address": service.network}}, scope=scope)
    if kept and not ctx.dry_run:
        # Applied: each row as this step read it. One changed meanwhile (its updated_at moved) stays
        # unapplied, and the run's end queues the run that applies it (provisioning.run_job).
        now = timezone.now()
        for service in kept:
            RouterService.objects.filter(pk=service.pk, updated_at=service.updated_at).update(provisioned_at=now)
    return kept


def changed_during(router, since) -> list[str]:
    """The router's services changed (``updated_at``) after ``since``, the time a run's services
    steps read them, or not applied by it: a change that joined the run too late. Their names."""
    late = RouterService.objects.filter(router=router, managed=True).filter(
        Q(updated_at__gt=since) | Q(provisioned_at__isnull=True) | Q(state=RouterService.State.REMOVING))
    return sorted(set(late.values_list("name", flat=True)))
