"""WireGuard tunnels from routers behind NAT to our server: keys, tunnel addresses, our wg-quick
config, enrolment and activation. Each router's onboarding script is routers.onboarding's.

The flow has two steps, on purpose:

1. ``enrol(router)`` makes the router's key pair, gives it the lowest free address of the pool and a
   generated password for the API user the script creates, and returns its ``RouterVpnConfig``. The
   router record does not change yet. Enrolling again returns the same tunnel (same keys, same
   password), so the script reads the same on every download and running it twice changes nothing.
2. The admin runs ``onboarding.onboarding_script(vpn)`` on the router (pasted into a terminal, or uploaded and
   ``/import``-ed): WireGuard interface and peer, tunnel address, a firewall rule letting our server
   in over the tunnel, a least-privilege API user reachable only from our tunnel address, and the
   RADIUS client over the tunnel.
3. ``activate(router)`` logs in over the tunnel as that user; only when that works does the router's
   API host become its tunnel address and its API login the new user (through
   ``services.update_router``, so the NAS row follows: RADIUS now arrives from the tunnel address).

Why not switch at enrolment: the host change cuts our API access to the router until its script has
run, and the script may be run tomorrow by someone on site. Switching only once the tunnel answers
means a router is never marked as reached at an address nothing listens on, and a mistyped endpoint
shows up as a refused activation with the reason, not as a router gone offline. ``check=False``
switches without the login, for a web host that is not the WireGuard server itself.

Keys: ``wg genkey`` / ``wg pubkey`` when the WireGuard tools are installed, otherwise X25519 from the
``cryptography`` package (OpenSSL). The PyPI ``wireguard-tools`` package writes our wg-quick file but
does not make our keys: its curve is pure Python and documented as not constant-time.

Our server's private key stays encrypted in the database. The wg-quick file served over HTTP leaves
it out and reads it from ``/etc/wireguard/<interface>.key`` (PostUp), so a technician may download
the file; ``manage.py wireguard_server_config`` on the server itself prints it whole (or the key alone).
"""
import datetime
import ipaddress
import logging
import secrets
import shutil
import string
import subprocess
from base64 import b64decode, b64encode

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from wireguard_tools import WireguardConfig, WireguardPeer

from audit import trail
from lib.secrets import UnreadableSecret
from lib.whole_numbers import ascii_whole_number
from radius import services as radius

from . import services
from .models import Router, RouterVpnConfig, ServiceControlLog, WireGuardServer
from .routeros import RouterClient, RouterError
from .script_literals import UncarriableValue, one_line, quote
from .services import log_action
from .tags import TAG

log = logging.getLogger(__name__)

SERVER_ROW = 1
API_USER = "hotspot_billing"  # RouterOS user names: letters, digits and "*_.@"
_PASSWORD_ALPHABET = string.ascii_letters + string.digits  # nothing RouterOS scripts would interpret
VPN_SECRETS = frozenset({"private_key", "api_password"})  # in the audit trail as "(changed)" only


class VpnRefused(ValueError):
    """The tunnel cannot be made or used as asked (no RADIUS secret, pool full, not enrolled…)."""


class NotEnrolled(VpnRefused):
    pass


class TunnelNotAnswering(VpnRefused):
    """Activation could not log in over the tunnel; ``reason`` as RouterError's."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


# --- keys ---------------------------------------------------------------------------------------

def generate_keypair() -> tuple[str, str]:
    """(private, public), base64 as ``wg`` writes them."""
    wg = shutil.which("wg")
    if wg:
        private = _wg(wg, "genkey", "")
        return private, _wg(wg, "pubkey", private)
    key = X25519PrivateKey.generate()
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                            serialization.NoEncryption())
    return b64encode(raw).decode(), public_key(b64encode(raw).decode())


def public_key(private: str) -> str:
    wg = shutil.which("wg")
    if wg:
        return _wg(wg, "pubkey", private)
    key = X25519PrivateKey.from_private_bytes(b64decode(private, validate=True))
    return b64encode(key.public_key().public_bytes(serialization.Encoding.Raw,
                                                   serialization.PublicFormat.Raw)).decode()


def _wg(wg: str, command: str, stdin: str) -> str:
    done = subprocess.run([wg, command], input=stdin + "\n" if stdin else "", capture_output=True, text=True,
                          timeout=10, check=True)
    return done.stdout.strip()


# --- our server ---------------------------------------------------------------------------------

def server() -> WireGuardServer:
    """Our end, made with its keys on first use. Endpoint and port follow the settings; so does the
    pool until a router holds an address in it."""
    found = WireGuardServer.objects.filter(pk=SERVER_ROW).first()
    if found is None:
        private, public = generate_keypair()
        try:
            with transaction.atomic():
                found = WireGuardServer.objects.create(
                    pk=SERVER_ROW, private_key=private, public_key=public, network=settings.WIREGUARD_NETWORK,
                    listen_port=settings.WIREGUARD_PORT, endpoint=settings.WIREGUARD_ENDPOINT)
                log.info("wireguard: server keys made, pool %s", found.network)
        except IntegrityError:  # made at the same moment by another request
            found = WireGuardServer.objects.get(pk=SERVER_ROW)
    wanted = {"endpoint": settings.WIREGUARD_ENDPOINT, "listen_port": settings.WIREGUARD_PORT}
    if found.network != settings.WIREGUARD_NETWORK and not RouterVpnConfig.objects.exists():
        wanted["network"] = settings.WIREGUARD_NETWORK
    changed = {key: value for key, value in wanted.items() if getattr(found, key) != value}
    if changed:
        WireGuardServer.objects.filter(pk=SERVER_ROW).update(**changed)
        for key, value in changed.items():
            setattr(found, key, value)
    return found


def server_address(wg: WireGuardServer) -> str:
    return str(next(ipaddress.IPv4Network(wg.network).hosts()))


def prefix_length(wg: WireGuardServer) -> int:
    return ipaddress.IPv4Network(wg.network).prefixlen


def server_config(*, with_private_key: bool) -> str:
    """Our wg-quick file: [Interface] with our address and port, a [Peer] per enrolled router
    (AllowedIPs its /32). Without the private key it is read from /etc/wireguard/<interface>.key."""
    wg = server()
    config = WireguardConfig(private_key=wg.private_key if with_private_key else None, listen_port=wg.listen_port,
                             addresses=[f"{server_address(wg)}/{prefix_length(wg)}"])
    if not with_private_key:
        config.postup.append("wg set %i private-key /etc/wireguard/%i.key")
    for vpn in RouterVpnConfig.objects.select_related("router").order_by("tunnel_address"):
        config.add_peer(WireguardPeer(public_key=vpn.public_key, allowed_ips=[f"{vpn.tunnel_address}/32"],
                                      friendly_name=one_line(vpn.router.name)))
    head = [f"# {TAG}: our end of the routers' tunnels; routers dial {wg.endpoint}:{wg.listen_port} (UDP).",
            "# Install: save as /etc/wireguard/wg0.conf (mode 600), then wg-quick up wg0; after enrolling",
            "# more routers: wg syncconf wg0 <(wg-quick strip wg0)."]
    if not with_private_key:
        head.append("# The private key is not in this file: on the server, "
                    "manage.py wireguard_server_config --private-key > /etc/wireguard/wg0.key")
    return "\n".join(head) + "\n" + config.to_wgconfig(wgquick_format=True)


def server_private_key() -> str:
    return server().private_key


def strip_config() -> str:
    """The same peers in plain ``wg`` format (no wg-quick lines), for ``wg syncconf``."""
    wg = server()
    config = WireguardConfig(private_key=wg.private_key, listen_port=wg.listen_port)
    for vpn in RouterVpnConfig.objects.order_by("tunnel_address"):
        config.add_peer(WireguardPeer(public_key=vpn.public_key, allowed_ips=[f"{vpn.tunnel_address}/32"]))
    return config.to_wgconfig()


# --- enrolment ----------------------------------------------------------------------------------

def enrol(router: Router, *, by=None) -> tuple[RouterVpnConfig, bool]:
    """The router's tunnel, made if it has none: (config, created)."""
    existing = RouterVpnConfig.objects.filter(router=router).first()
    if existing:
        return existing, False
    secret = router.radius_secret
    if isinstance(secret, UnreadableSecret) or not secret:
        raise VpnRefused("the router needs a readable RADIUS secret first: the script sets its RADIUS client")
    try:
        quote(secret, "the RADIUS secret")  # the onboarding script must carry it
    except UncarriableValue as refused:
        raise VpnRefused(str(refused)) from None
    wg = server()
    private, public = generate_keypair()
    password = "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(24))
    with transaction.atomic():
        # Our server row is the lock every enrolment takes: two cannot pick the same free address.
        wg = WireGuardServer.objects.select_for_update().get(pk=wg.pk)
        existing = RouterVpnConfig.objects.filter(router=router).first()
        if existing:
            return existing, False
        vpn = RouterVpnConfig.objects.create(
            router=router, private_key=private, public_key=public, tunnel_address=_free_address(wg),
            api_username=API_USER, api_password=password, previous_host=router.host)
        # The script points the router's RADIUS at us through the tunnel the moment it runs, before
        # anyone clicks Activate: FreeRADIUS must already know the tunnel address (run_freeradius
        # restarts it when the nas table changes), or the router's customers could not log in.
        try:
            radius.register_nas(vpn.tunnel_address, secret, router.name, description=f"router {router.pk}")
        except radius.RadiusError as refused:
            raise VpnRefused(str(refused)) from None
        log_action(router, by, "vpn-enrol", ServiceControlLog.Outcome.OK, f"tunnel address {vpn.tunnel_address}",
                   audit="enrolled", subject=vpn, changes=trail.changes(
                       {}, trail.snapshot(vpn, ("tunnel_address", "public_key", "private_key", "api_username",
                                                "api_password")), secrets=VPN_SECRETS))
    return vpn, True


def require_readable(vpn: RouterVpnConfig) -> None:
    """A key or password that no longer decrypts (FIELD_ENCRYPTION_KEY or SECRET_KEY changed) reads
    as empty: a script or login made from it would be wrong, so nothing is made."""
    if isinstance(vpn.private_key, UnreadableSecret) or isinstance(vpn.api_password, UnreadableSecret):
        raise VpnRefused("the tunnel's stored key or API password cannot be decrypted (the encryption key "
                         "changed): remove the tunnel and create it again")


def _free_address(wg: WireGuardServer) -> str:
    taken = set(RouterVpnConfig.objects.values_list("tunnel_address", flat=True))
    hosts = ipaddress.IPv4Network(wg.network).hosts()
    next(hosts)  # ours
    for host in hosts:
        if str(host) not in taken:
            return str(host)
    raise VpnRefused(f"the tunnel pool {wg.network} is full: widen WIREGUARD_NETWORK")


def config_for(router: Router) -> RouterVpnConfig:
    vpn = RouterVpnConfig.objects.filter(router=router).first()
    if vpn is None:
        raise NotEnrolled(f"{router.name} has no tunnel yet: create it first")
    return vpn


def activate(router: Router, *, by=None, check: bool = True) -> RouterVpnConfig:
    """Make the tunnel address the router's API host (and the NAS address). ``check``: only after
    logging in there as the script's API user."""
    vpn = config_for(router)
    router = Router.objects.get(pk=router.pk)  # the caller's copy may predate a switch
    if vpn.active and router.host == vpn.tunnel_address:
        return vpn
    require_readable(vpn)
    if check:
        try:
            with RouterClient(vpn.tunnel_address, router.api_port, vpn.api_username, vpn.api_password,
                              use_tls=router.use_tls, tls_ca=router.tls_certificate or None,
                              timeout=services.API_TIMEOUT_SECONDS) as client:
                client.identity()
        except RouterError as error:
            log_action(router, by, "vpn-activate", ServiceControlLog.Outcome.FAILED,
                       f"{vpn.tunnel_address}: {error.reason}: {error.message}")
            raise TunnelNotAnswering(
                f"the router does not answer at {vpn.tunnel_address} ({error.reason}: {error.message}); has the "
                "onboarding script run, and does UDP reach our WireGuard port?", error.reason) from None
    with transaction.atomic():
        # Two activations at once: the second finds the switch made and does nothing.
        vpn = RouterVpnConfig.objects.select_for_update().get(pk=vpn.pk)
        router = Router.objects.get(pk=router.pk)
        if vpn.active and router.host == vpn.tunnel_address:
            return vpn
        previous, before = router.host, services.audited(router)
        # One audit entry for the activation (below), not a "changed" of the router besides.
        router = services.update_router(router, by=by, audit=False, host=vpn.tunnel_address,
                                        api_username=vpn.api_username, api_password=vpn.api_password)
        now = timezone.now()
        RouterVpnConfig.objects.filter(pk=vpn.pk).update(previous_host=previous, activated_at=now)
        if check:  # the login above crossed the tunnel, so the peers have just shaken hands
            RouterVpnConfig.objects.filter(pk=vpn.pk).update(last_handshake_at=now)
        log_action(router, by, "vpn-activate", ServiceControlLog.Outcome.OK,
                   f"API host {previous} -> {vpn.tunnel_address}" + ("" if check else " (not checked)"),
                   audit="activated", subject=vpn,
                   changes=trail.changes(before, services.audited(router), secrets=services.SECRETS))
    if check:
        try:
            services.test_connection(router, by)  # learns identity and version, marks it online
        except RouterError:
            pass  # recorded by test_connection; the switch itself stands
    vpn.refresh_from_db()
    return vpn


def record_handshakes(lines) -> int:
    """Take ``wg show <interface> latest-handshakes`` output (public key, epoch seconds; 0 = never);
    how many routers' last handshake changed."""
    updated = 0
    for line in lines:
        parts = line.split()
        seconds = ascii_whole_number(parts[1], most=2**37) if len(parts) == 2 else None
        if not seconds:
            continue
        when = datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)
        updated += RouterVpnConfig.objects.filter(public_key=parts[0]).exclude(last_handshake_at=when).update(
            last_handshake_at=when)
    return updated
