"""A router's interfaces and what uses each: our services (routers.RouterService, managed), a bridge
of the operator's, the WAN, or nothing (the port is free to give to a service).

The WAN is where the router's default route leaves (``/ip/route`` dst-address=0.0.0.0/0: its
``immediate-gw`` "192.168.1.1%ether1", an interface named as gateway, or the interface whose network
holds the gateway address) and any interface a DHCP client that adds a default route sits on; a
WAN that is a bridge, VLAN or PPPoE client makes the ports under it WAN too. It is never given to a
service: a hotspot on it would put the Internet behind our login page and cut our API connection.

Everything is read in one go over the router's kept API connection (routers.connections), so the
router page and the service validation (routers.router_services) cost one login at most.
"""
import ipaddress
from dataclasses import dataclass, field

from .actions import SESSION_INTERFACE_TYPES
from .connections import use
from .models import Router, RouterService
from .routeros import RouterClient, RouterCommandRefused
from .services import client_for
from .tags import SERVICES

SCAN_TIMEOUT_SECONDS = 5.0
WAN = "wan"
# Interface types a service may be given: ports, not bridges, tunnels or PPP links.
PORT_TYPES = frozenset({"ether", "wlan", "wifi", "vlan"})
# Menus a router may lack (a package not installed, or our simulator): read as empty.
OPTIONAL = ("/interface/vlan", "/interface/pppoe-client", "/ip/dhcp-client", "/ip/route")


@dataclass
class RouterPorts:
    """What the router showed: its interfaces, bridge ports, addresses, WAN and the operator's own
    hotspot and PPPoE servers (by interface)."""

    interfaces: list[dict]
    bridge_of: dict[str, str]               # port -> bridge it is in
    addresses: list[dict]                   # /ip/address rows
    wan: set[str]
    servers_on: dict[str, str] = field(default_factory=dict)   # interface -> a server's name
    server_names: set[str] = field(default_factory=set)        # every hotspot server and PPPoE service name

    def names(self) -> set[str]:
        return {row.get("name", "") for row in self.interfaces}

    def type_of(self, name: str) -> str:
        return next((row.get("type", "") for row in self.interfaces if row.get("name") == name), "")

    def networks(self) -> list[tuple[ipaddress.IPv4Network, dict]]:
        """The networks of the router's own addresses (not those our services put there), with the row."""
        found = []
        for row in self.addresses:
            if row.get("comment", "").startswith(SERVICES):
                continue
            try:
                found.append((ipaddress.ip_interface(row.get("address", "")).network, row))
            except ValueError:
                continue
        return [(network, row) for network, row in found if network.version == 4]


def read_ports(router: Router) -> RouterPorts:
    """Ask the router. Raises routers.routeros.RouterError when it cannot be asked."""
    return use(router.pk, client_for(router, timeout=SCAN_TIMEOUT_SECONDS), _read)


def _read(client: RouterClient) -> RouterPorts:
    def rows(menu: str, *proplist: str) -> list[dict]:
        try:
            return client.print(menu, proplist=proplist or None)
        except RouterCommandRefused:
            if menu in OPTIONAL:
                return []
            raise

    interfaces = rows("/interface", "name", "type", "running", "disabled", "mac-address")
    bridge_of = {row.get("interface", ""): row.get("bridge", "") for row in rows("/interface/bridge/port")}
    addresses = rows("/ip/address")
    under = {row.get("name", ""): row.get("interface", "") for menu in ("/interface/vlan", "/interface/pppoe-client")
             for row in rows(menu)}
    wan = _wan(rows("/ip/route"), rows("/ip/dhcp-client"), addresses)
    # A WAN made of other interfaces (a bridge's ports, a VLAN's or PPPoE client's parent) is WAN through and through.
    grown = True
    while grown:
        more = {under[name] for name in wan if under.get(name)}
        more |= {port for port, bridge in bridge_of.items() if bridge in wan}
        grown = not more <= wan
        wan |= more
    hotspots, pppoe = rows("/ip/hotspot"), rows("/interface/pppoe-server/server")
    servers_on = {row.get("interface", ""): row.get("name", "") for row in hotspots}
    for row in pppoe:
        servers_on.setdefault(row.get("interface", ""), row.get("service-name", ""))
    names = {row.get("name", "") for row in hotspots} | {row.get("service-name", "") for row in pppoe}
    return RouterPorts(interfaces=interfaces, bridge_of=bridge_of, addresses=addresses, wan=wan, servers_on=servers_on,
                       server_names=names - {""})


def _wan(routes: list[dict], dhcp_clients: list[dict], addresses: list[dict]) -> set[str]:
    wan = {row.get("interface", "") for row in dhcp_clients
           if row.get("disabled") != "true" and row.get("add-default-route", "yes") != "no"}
    for route in routes:
        if route.get("dst-address") != "0.0.0.0/0" or route.get("disabled") == "true":
            continue
        immediate = route.get("immediate-gw", "")
        if "%" in immediate:
            wan.add(immediate.rsplit("%", 1)[1])
            continue
        for gateway in filter(None, route.get("gateway", "").split(",")):
            gateway = gateway.rsplit("%", 1)[-1]
            try:
                address = ipaddress.ip_address(gateway)
            except ValueError:
                wan.add(gateway)  # gateway=ether1 or pppoe-out1
                continue
            for row in addresses:
                try:
                    if address in ipaddress.ip_interface(row.get("address", "")).network:
                        wan.add(row.get("interface", ""))
                except ValueError:
                    continue
    wan.discard("")
    return wan


def users(router: Router, ports: RouterPorts, *, besides: RouterService | None = None) -> dict[str, str]:
    """Interface -> what uses it: a managed service's name (its ports, its bridge), "wan", an operator
    bridge's name, the operator's hotspot/PPPoE server on it, or "address <theirs>". ``besides``: leave that service out
    (the one being changed)."""
    used: dict[str, str] = {}
    managed = RouterService.objects.filter(router=router, managed=True).order_by("name", "pk")
    ours = {}
    for service in managed:
        if besides is not None and service.pk == besides.pk:
            continue
        for port in service.interfaces:
            used.setdefault(port, service.name)
        ours[service.bridge_name] = service.name
    skipped_bridge = besides.bridge_name if besides is not None else None
    for name in ports.wan:
        used.setdefault(name, WAN)
    for port, bridge in ports.bridge_of.items():
        if bridge == skipped_bridge:
            continue
        used.setdefault(port, ours.get(bridge, bridge))
    for bridge, name in ours.items():
        used.setdefault(bridge, name)
    for interface, server in ports.servers_on.items():
        if server and (besides is None or (interface != skipped_bridge and server != besides.name)):
            used.setdefault(interface, server)
    # An address the operator gave a port: bridging it into a service would take it away.
    for _, row in ports.networks():
        used.setdefault(row.get("interface", ""), f"address {row.get('address', '')}")
    return used


def scan_interfaces(router: Router) -> list[dict]:
    """Each interface of the router, in its order: {"name", "type", "running", "mac", "used_by", "free"};
    ``free``: a port nothing uses, which a service may be given. Raises RouterError."""
    ports = read_ports(router)
    used = users(router, ports)
    return [{"name": row.get("name", ""), "type": row.get("type", ""), "running": row.get("running") == "true",
             "mac": row.get("mac-address", ""), "used_by": used.get(row.get("name", "")),
             "free": row.get("type") in PORT_TYPES and row.get("name", "") not in used}
            for row in ports.interfaces if row.get("type") not in SESSION_INTERFACE_TYPES]  # not a customer's PPP link
