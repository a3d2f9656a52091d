"""The hotspot and PPPoE services we run on a router, as desired state: add, change, start, stop and
remove them (routers.RouterService rows with ``managed``); provisioning makes the router match
(routers.service_provisioning's steps, run by a routers.provisioning job).

Adding only records the service (the operator provisions when ready); a change, start, stop or
removal also queues a provisioning job, which applies it (a removal takes our items off the router,
then the row). Every change is checked against the router as it is now (routers.interfaces, one
read over its kept API connection) and refused with ``ServiceConflict(reason, detail)`` when:

- ``unknown_interface``: the router has no such port (or it is a bridge, tunnel or PPP link);
- ``wan_interface``: the port carries the router's default route (the WAN);
- ``interface_in_use``: another service of ours has the port, or an operator's bridge, server or
  address does: a port belongs to one service only;
- ``network_overlap``: the network overlaps another service's, an address the router has, or the
  WireGuard tunnels' network;
- ``name_taken``: another service on the router has the name;
- ``service_removing``: the service is being removed.

Malformed input (no ports, a network that is not a private IPv4 network of /16 to /30) raises
``InvalidService``. A router that cannot be asked raises its RouterError. Each change is written to
the audit trail in the transaction that makes it; the router row is locked meanwhile, so two
changes at once cannot give one port to two services.
"""
import ipaddress
import re
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit import trail

from . import interfaces as scan
from . import provisioning
from .models import ProvisioningJob, Router, RouterService
from .routeros import RouterError

AUDITED = ("kind", "name", "interfaces", "network", "state")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
MIN_PREFIX, MAX_PREFIX = 16, 30
# Where free_network looks, in order: the hotspot default's neighbourhood first.
SUGGESTED = (("10.5.{}.0/24", range(50, 256)), ("10.10.{}.0/24", range(0, 256)),
             ("172.16.{}.0/24", range(0, 256)), ("192.168.{}.0/24", range(100, 256)))


class InvalidService(ValueError):
    """Input no service can have (the API answers 422)."""


@dataclass
class ServiceConflict(Exception):
    """The change clashes with the router or another service (the API answers 409 with ``reason``)."""

    reason: str
    detail: str

    def __str__(self) -> str:
        return self.detail


# --- input --------------------------------------------------------------------------------------------

def parse_network(text: str) -> ipaddress.IPv4Network:
    text = (text or "").strip()
    try:
        network = ipaddress.IPv4Network(text, strict=False)
    except ValueError:
        raise InvalidService(f"{text!r} is not an IPv4 network such as 10.5.50.0/24") from None
    if "/" not in text:
        raise InvalidService(f"{text!r} has no prefix length: write it as {network.network_address}/24")
    if str(network) != text:
        raise InvalidService(f"{text} has host bits set: the network is {network}")
    if not MIN_PREFIX <= network.prefixlen <= MAX_PREFIX:
        raise InvalidService(f"{text}: the prefix length must be /{MIN_PREFIX} to /{MAX_PREFIX}")
    if not network.is_private or network.is_loopback or network.is_link_local or network.is_multicast:
        raise InvalidService(f"{text} is not a private network (10/8, 172.16/12, 192.168/16)")
    return network


def _ports(names) -> list[str]:
    if not isinstance(names, list | tuple) or not names:
        raise InvalidService("give at least one port, e.g. [\"ether2\"]")
    ports = []
    for name in names:
        if not isinstance(name, str) or not name.strip() or len(name) > 64:
            raise InvalidService(f"{name!r} is not an interface name")
        if name.strip() not in ports:
            ports.append(name.strip())
    return ports


def _name(name: str) -> str:
    if not NAME.fullmatch(name or ""):  # match()'s $ would take "hs1\n"
        raise InvalidService(f"{name!r}: a name is 1 to 40 letters, digits, '-' or '_', starting with a letter "
                             "or digit")
    return name


# --- checks against the router and the other services ----------------------------------------------

def _check(router: Router, ports: list[str], network: ipaddress.IPv4Network, seen: scan.RouterPorts,
           besides: RouterService | None = None) -> None:
    names = seen.names()
    for port in ports:
        if port not in names:
            raise ServiceConflict("unknown_interface", f"the router has no interface {port}")
        if seen.type_of(port) not in scan.PORT_TYPES:
            raise ServiceConflict("unknown_interface", f"{port} is a {seen.type_of(port) or 'virtual'} interface, "
                                                       "not a port: give the ports themselves")
    for port in ports:
        if port in seen.wan:
            raise ServiceConflict("wan_interface", f"{port} is the router's WAN port (its default route leaves "
                                                   "there): it cannot serve customers")
    used = scan.users(router, seen, besides=besides)
    for port in ports:
        if port in used:
            raise ServiceConflict("interface_in_use", f"{port} is already used by {used[port]}")
    for other in _others(router, besides):
        theirs = other.ip_network
        if theirs is not None and theirs.overlaps(network):
            raise ServiceConflict("network_overlap", f"{network} overlaps {other.name}'s network {theirs}")
    tunnels = ipaddress.IPv4Network(settings.WIREGUARD_NETWORK)
    if tunnels.overlaps(network):
        raise ServiceConflict("network_overlap", f"{network} overlaps the routers' WireGuard tunnel network {tunnels}")
    for theirs, row in seen.networks():
        if theirs.overlaps(network):
            raise ServiceConflict("network_overlap", f"{network} overlaps the router's address {row.get('address')} "
                                                     f"on {row.get('interface')}")


def _others(router: Router, besides: RouterService | None) -> list[RouterService]:
    services = RouterService.objects.filter(router=router, managed=True)
    return list(services.exclude(pk=besides.pk) if besides is not None else services)


def _locked(router: Router) -> None:
    Router.objects.select_for_update().filter(pk=router.pk).first()


def _next_name(router: Router, kind: str, seen: scan.RouterPorts) -> str:
    taken = set(RouterService.objects.filter(router=router).values_list("name", flat=True)) | seen.server_names
    n = 1
    while f"{kind}{n}" in taken:
        n += 1
    return f"{kind}{n}"


def free_network(router: Router, seen: scan.RouterPorts | None = None) -> str:
    """A private /24 that overlaps none of the router's services nor (when ``seen`` is given, or the
    router answers) its addresses: the suggestion for a new service's network."""
    if seen is None:
        try:
            seen = scan.read_ports(router)
        except RouterError:  # a suggestion only: the add itself checks the router
            seen = None
    taken = [s.ip_network for s in RouterService.objects.filter(router=router, managed=True)]
    taken += [network for network, _ in seen.networks()] if seen is not None else []
    taken = [network for network in taken if network is not None] + [ipaddress.IPv4Network(settings.WIREGUARD_NETWORK)]
    for pattern, octets in SUGGESTED:
        for octet in octets:
            candidate = ipaddress.IPv4Network(pattern.format(octet))
            if not any(candidate.overlaps(network) for network in taken):
                return str(candidate)
    return ""


# --- the operations -------------------------------------------------------------------------------------

def add_service(router: Router, *, kind: str, interfaces: list[str], network: str, name: str = "") -> RouterService:
    """Record a new service on ``router`` (provisioning applies it). Raises InvalidService,
    ServiceConflict or RouterError."""
    if kind not in RouterService.Kind.values:
        raise InvalidService(f"{kind!r}: a service is a hotspot or pppoe")
    ports, parsed = _ports(interfaces), parse_network(network)
    name = _name(name) if name else ""
    seen = _read(router)
    with transaction.atomic():
        _locked(router)
        _check(router, ports, parsed, seen)
        name = name or _next_name(router, kind, seen)
        # The router's own servers count too: the live-data job may not have seen them yet.
        if name in seen.server_names or RouterService.objects.filter(router=router, name=name).exists():
            raise ServiceConflict("name_taken", f"the router already has a service named {name}")
        now = timezone.now()
        try:
            with transaction.atomic():
                service = RouterService.objects.create(
                    router=router, kind=kind, name=name, managed=True, interfaces=ports, network=str(parsed),
                    state=RouterService.State.RUNNING, created_at=now, updated_at=now, on_router=False, seen_at=None)
        except IntegrityError:  # the live-data job learned one of that name meanwhile
            raise ServiceConflict("name_taken", f"the router already has a service named {name}") from None
        trail.record("created", service, changes=trail.changes({}, trail.snapshot(service, AUDITED)),
                     note=f"router {router.name}")
    return service


def update_service(service: RouterService, *, interfaces: list[str] | None = None,
                   network: str | None = None) -> tuple[RouterService, ProvisioningJob | None]:
    """Change a service's ports or network and queue the job that applies it (none when nothing
    changed). Its name and kind stay: they name its items on the router."""
    ports = _ports(interfaces) if interfaces is not None else list(service.interfaces)
    parsed = parse_network(network) if network is not None else parse_network(service.network)
    if ports == list(service.interfaces) and str(parsed) == service.network:
        return service, None
    seen = _read(service.router)
    with transaction.atomic():
        service = _fresh(service)
        _check(service.router, ports, parsed, seen, besides=service)
        before = trail.snapshot(service, AUDITED)
        service.interfaces, service.network = ports, str(parsed)
        service.updated_at, service.provisioned_at = timezone.now(), None
        service.save(update_fields=["interfaces", "network", "updated_at", "provisioned_at"])
        trail.record("changed", service, changes=trail.changes(before, trail.snapshot(service, AUDITED)),
                     note=f"router {service.router.name}")
        job = provisioning.enqueue(service.router, reason=f"{service.name} changed")
    return service, job


def start_service(service: RouterService) -> tuple[RouterService, ProvisioningJob]:
    return _set_state(service, RouterService.State.RUNNING, "started")


def stop_service(service: RouterService) -> tuple[RouterService, ProvisioningJob]:
    return _set_state(service, RouterService.State.STOPPED, "stopped")


def remove_service(service: RouterService) -> tuple[RouterService, ProvisioningJob]:
    """Mark the service for removal; the job takes our items off the router, then the row."""
    return _set_state(service, RouterService.State.REMOVING, "removal_requested")


def _set_state(service: RouterService, state: str, action: str) -> tuple[RouterService, ProvisioningJob]:
    with transaction.atomic():
        service = _fresh(service, removing_ok=state == RouterService.State.REMOVING)
        if service.state != state:
            before = trail.snapshot(service, AUDITED)
            service.state, service.updated_at, service.provisioned_at = state, timezone.now(), None
            service.save(update_fields=["state", "updated_at", "provisioned_at"])
            trail.record(action, service, changes=trail.changes(before, trail.snapshot(service, AUDITED)),
                         note=f"router {service.router.name}")
        # Queued even when the state was already so: the router may not match it yet.
        job = provisioning.enqueue(service.router, reason=f"{service.name} {action.replace('_', ' ')}")
    return service, job


def _fresh(service: RouterService, *, removing_ok: bool = False) -> RouterService:
    """The service as it is now, its router locked (call inside a transaction)."""
    _locked(service.router)
    current = RouterService.objects.select_related("router").filter(pk=service.pk, managed=True).first()
    if current is None:
        raise ServiceConflict("service_removing", f"{service.name} has been removed")
    if current.state == RouterService.State.REMOVING and not removing_ok:
        raise ServiceConflict("service_removing", f"{current.name} is being removed")
    return current


def _read(router: Router) -> scan.RouterPorts:
    return scan.read_ports(router)
