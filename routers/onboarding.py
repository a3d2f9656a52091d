"""Each router's zero-touch onboarding script: the RouterOS 7 ``.rsc`` an admin runs on the router
(pasted into a terminal, or uploaded and ``/import``-ed) once ``wireguard.enrol`` has made its tunnel.

It makes the WireGuard interface and our peer, the tunnel address, a firewall rule letting our server
in over the tunnel, a least-privilege API user reachable only from our tunnel address, and the RADIUS
client over the tunnel. Every item is added when missing and set when present, so running the same
text twice leaves one of everything; ``wireguard.activate`` then switches the router's API host to
the tunnel. The script holds the tunnel's private key and the API password: ``script_for`` logs
every reading.
"""
from lib.secrets import UnreadableSecret

from .models import Router, RouterVpnConfig, ServiceControlLog
from .script_literals import UncarriableValue, one_line, quote
from .services import log_action
from .tags import TAG, tagged
from .wireguard import VpnRefused, config_for, prefix_length, require_readable, server, server_address

INTERFACE = f"wg-{TAG}"
# RouterOS offers 13231 to the first WireGuard interface, often already taken by the ISP's own; the
# router dials out to us, so any free port does.
ROUTER_LISTEN_PORT = 13232
KEEPALIVE = "25s"  # keeps the NAT mapping open so our server can reach a router behind NAT
API_GROUP = "hotspot_billing"
# What the product asks of a router over the API, and no more:
#   api        the only way in (no winbox, ssh, web, telnet, local console, rest-api, romon);
#   read       status, live data, active sessions, logs;
#   write      provisioning, kicking sessions, backups;
#   reboot     the reboot action;
#   test       monitor-traffic and ping-style diagnostics;
#   sensitive  reading back the RADIUS secret provisioning wrote (it is hidden otherwise);
#   ftp        writing the hotspot's login.html and handling backup files under /file.
# Left out: policy (user management: the API user cannot create users or widen its own rights),
# password, sniff and every login policy above.
API_POLICY = "api,read,write,reboot,test,sensitive,ftp"


def script_for(router: Router, *, by=None, purpose: str = "shown") -> str:
    """The onboarding script, its reading logged (it holds the tunnel key and the API password)."""
    vpn = config_for(router)
    text = onboarding_script(vpn)
    log_action(router, by, "vpn-script", ServiceControlLog.Outcome.OK, purpose)
    return text


def onboarding_script(vpn: RouterVpnConfig) -> str:
    """RouterOS 7 commands that add what is missing and set what exists: the same text run twice
    leaves one of everything. Strictly the syntax the simulator's ``/import`` reads
    (routers.routeros_simulator.script_parser)."""
    router, wg = vpn.router, server()
    if isinstance(router.radius_secret, UnreadableSecret) or not router.radius_secret:
        raise VpnRefused("the router's RADIUS secret is missing or unreadable: set it again first")
    require_readable(vpn)
    ours = server_address(wg)
    tunnel = f"{vpn.tunnel_address}/{prefix_length(wg)}"
    secret = _q(router.radius_secret, "the RADIUS secret")
    service = "api-ssl" if router.use_tls else "api"
    lines = [
        f"# {TAG}: WireGuard tunnel and API access for router {one_line(router.name)!r} (id {router.pk}).",
        f"# RouterOS 7. Routers dial {wg.endpoint}:{wg.listen_port} (UDP); this router becomes {vpn.tunnel_address}.",
        f"# Paste into a terminal, or upload and run: /import file-name=onboarding-{router.pk}.rsc",
        "# Running it again changes nothing. It holds the tunnel's private key and the API password:",
        "# delete the file from the router afterwards.",
        "/interface wireguard",
        _upsert(f"name={_q(INTERFACE)}", {
            "name": _q(INTERFACE), "listen-port": str(ROUTER_LISTEN_PORT), "private-key": _q(vpn.private_key),
            "comment": _q(tagged("wireguard"))}),
        "/interface wireguard peers",
        _upsert(f"comment={_q(tagged('wireguard server'))}", {
            "interface": _q(INTERFACE), "public-key": _q(wg.public_key), "endpoint-address": _q(wg.endpoint),
            "endpoint-port": str(wg.listen_port), "allowed-address": f"{ours}/32",
            "persistent-keepalive": KEEPALIVE, "comment": _q(tagged("wireguard server"))}),
        "/ip address",
        _upsert(f"comment={_q(tagged('wireguard address'))}", {
            "address": tunnel, "interface": _q(INTERFACE), "comment": _q(tagged("wireguard address"))}),
        "/ip firewall filter",
        _upsert(f"comment={_q(tagged('wireguard server may reach the router'))}", {
            "chain": "input", "action": "accept", "in-interface": _q(INTERFACE), "src-address": ours,
            "comment": _q(tagged("wireguard server may reach the router"))}, first=True),
        "/user group",
        _upsert(f"name={_q(API_GROUP)}", {"name": _q(API_GROUP), "policy": API_POLICY,
                                          "comment": _q(tagged("api"))}),
        "/user",
        _upsert(f"name={_q(vpn.api_username)}", {
            "name": _q(vpn.api_username), "group": _q(API_GROUP), "password": _q(vpn.api_password),
            "address": f"{ours}/32", "comment": _q(tagged("api"))}),
        "/ip service",
        f"set {service} address={ours}/32 disabled=no",
        "/radius",
        # The same item provisioning keeps (its "radius" comment), pointed at our tunnel address.
        _upsert(f"comment={_q(tagged('radius'))}", {
            "service": "hotspot,ppp", "address": ours, "secret": secret, "src-address": vpn.tunnel_address,
            "comment": _q(tagged("radius"))}),
        "/radius incoming",
        "set accept=yes",
    ]
    return "\n".join(lines) + "\n"


def _upsert(key: str, props: dict, *, first: bool = False) -> str:
    """Add the item when ``[find key]`` finds none, else set it. ``first``: add it ahead of the
    others (a firewall rule after the default "drop all not coming from LAN" would never match)."""
    words = " ".join(f"{name}={value}" for name, value in props.items())
    add = f"add {words}"
    if first:
        # Dynamic rules (the hotspot's own) cannot be placed before: the first static one.
        add = (f":if ([:len [find dynamic=no]] = 0) do={{ {add} }} "
               f"else={{ {add} place-before=[:pick [find dynamic=no] 0] }}")
    return f":if ([:len [find {key}]] = 0) do={{ {add} }} else={{ set [find {key}] {words} }}"


def _q(value: str, what: str = "a value") -> str:
    try:
        return quote(value, what)
    except UncarriableValue as refused:
        raise VpnRefused(str(refused)) from None
