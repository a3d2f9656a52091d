"""A PPPoE customer's connection: the router's PPPoE service whose pool addresses them, or a fixed
address in that service's network, and the RADIUS reply that carries it.

FreeRADIUS answers a PPPoE customer with Service-Type = Framed-User, Framed-Protocol = PPP (which
also holds them to one session at a time: radius/raddb/sites-enabled/hotspot) and either
Framed-IP-Address (their fixed address) or Framed-Pool (the service's pool, as provisioning names it:
routers.RouterService.pool_name); their package's group adds the Mikrotik-Rate-Limit. A change is
written to RADIUS in the same transaction and applies from the customer's next connection.
"""
import ipaddress

from django.db import IntegrityError, transaction

from audit import trail
from lib import live
from radius import services as radius
from routers.models import RouterService

from .models import Customer, ServiceType


class ConnectionRefused(ValueError):
    """A PPPoE connection change that is refused; ``field`` names the input at fault."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


def radius_reply(customer: Customer) -> list[tuple[str, str]]:
    """The reply rows radius.services writes for ``customer`` (none for a hotspot customer)."""
    if customer.service_type != ServiceType.PPPOE:
        return []
    rows = [("Service-Type", "Framed-User"), ("Framed-Protocol", "PPP")]
    if customer.static_ip:
        rows.append(("Framed-IP-Address", str(customer.static_ip)))
    elif customer.pppoe_service_id is not None:
        service = RouterService.objects.only("name").filter(pk=customer.pppoe_service_id).first()
        if service is not None:
            rows.append(("Framed-Pool", service.pool_name))
    return rows


def check_static_ip(service: RouterService | None, address: str, customer: Customer | None = None) -> str | None:
    """``address`` normalised when ``customer`` may have it on ``service``; None for no address."""
    address = (address or "").strip()
    if not address:
        return None
    if service is None:
        raise ConnectionRefused("A fixed address needs the PPPoE service whose network it is in.", "service")
    try:
        ip = ipaddress.IPv4Address(address)
    except ValueError:
        raise ConnectionRefused(f"{address!r} is not an IPv4 address.", "static_ip") from None
    network = service.ip_network
    if network is None:
        raise ConnectionRefused(f"The service {service.name} has no network to take a fixed address from.",
                                "service")
    if ip not in network:
        raise ConnectionRefused(f"{ip} is not in {service.name}'s network {network}.", "static_ip")
    if ip in (network.network_address, network.broadcast_address):
        raise ConnectionRefused(f"{ip} is the network's own or its broadcast address, not a customer's.",
                                "static_ip")
    if str(ip) == service.gateway:
        raise ConnectionRefused(f"{ip} is the router's address on {service.name}.", "static_ip")
    first = service.fixed_first
    if first is None or ip < first:
        raise ConnectionRefused(
            f"{ip} is in {service.name}'s pool ({service.pool_range}), which the router hands out: a fixed "
            f"address must be in {service.fixed_range or 'a block the network has no room for'}.", "static_ip")
    others = Customer.objects.filter(static_ip=str(ip))
    if customer is not None:
        others = others.exclude(pk=customer.pk)
    if others.exists():
        raise ConnectionRefused(f"{ip} is another customer's fixed address.", "static_ip")
    return str(ip)


def pppoe_services():
    """The PPPoE services a customer can be given (the picker's choices)."""
    return RouterService.objects.filter(kind=RouterService.Kind.PPPOE).exclude(
        state=RouterService.State.REMOVING).select_related("router").order_by("router__name", "name")


def set_connection(customer: Customer, service: RouterService | None, static_ip: str = "") -> Customer:
    """Give a PPPoE customer ``service``'s pool, or ``static_ip`` in its network; audited, and written
    to RADIUS at once when the customer has access (it applies from their next connection)."""
    if service is not None and service.kind != RouterService.Kind.PPPOE:
        raise ConnectionRefused(f"{service.name} is a {service.get_kind_display()} service, not PPPoE.", "service")
    if service is not None and service.state == RouterService.State.REMOVING:
        raise ConnectionRefused(f"{service.name} is being removed from its router.", "service")
    if customer.service_type != ServiceType.PPPOE and (service is not None or static_ip):
        raise ConnectionRefused("Only a PPPoE customer has a PPPoE connection.", "service")
    try:
        with transaction.atomic():
            locked = Customer.objects.select_for_update().get(pk=customer.pk)
            address = check_static_ip(service, static_ip, locked)
            before = {"pppoe_service": _label(locked.pppoe_service_id), "static_ip": locked.static_ip}
            locked.pppoe_service, locked.static_ip = service, address
            locked.save(update_fields=["pppoe_service", "static_ip"])
            after = {"pppoe_service": _label(service.pk if service else None), "static_ip": address}
            changes = {name: [before[name], after[name]] for name in before if before[name] != after[name]}
            if changes:
                trail.record("changed", locked, changes=changes, note="PPPoE connection")
            if locked.username and radius.has_access(locked.username):
                radius.update_access(locked.username, reply=radius_reply(locked))
    except IntegrityError:  # the same address given to another customer at this very moment
        raise ConnectionRefused(f"{address} is another customer's fixed address.", "static_ip") from None
    customer.pppoe_service, customer.static_ip = locked.pppoe_service, locked.static_ip
    live.publish(live.ADMIN, "customer.updated", {"id": customer.pk})
    return customer


def _label(service_id: int | None) -> str | None:
    if service_id is None:
        return None
    row = RouterService.objects.filter(pk=service_id).values_list("router__name", "name").first()
    return f"{row[0]} {row[1]}" if row else str(service_id)


def service_removing(sender, instance: RouterService, **kwargs) -> None:
    """pre_delete of a RouterService: note whose connection it is, before the foreign keys are cleared."""
    instance._pppoe_customers = list(instance.pppoe_customers.values_list("pk", flat=True))


def service_removed(sender, instance: RouterService, **kwargs) -> None:
    """post_delete of a RouterService (its removal, audited by routers): its customers' RADIUS reply
    loses the pool that went with it; a fixed address stays theirs."""
    for customer in Customer.objects.filter(pk__in=getattr(instance, "_pppoe_customers", ())):
        if customer.username and radius.has_access(customer.username):
            radius.update_access(customer.username, reply=radius_reply(customer))
