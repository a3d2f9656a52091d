"""The simulated router: its settings (what goes wrong included), its state, what tests do to it
directly (log in a customer, attach a device, reboot), and the properties it fills in itself."""
import base64
import ipaddress
import random
import socket
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from .clock import clock
from .commands import MenuCommands
from .menus import MENUS, Menu
from .script_import import ScriptImport
from .seed import seed_router
from .server import Listening
from .session import Connection, Session
from .system import SystemCommands
from .table import Table, Trap

LOG_LINES = 1000             # RouterOS keeps 1000 lines of memory logging by default


@dataclass(eq=False)
class RouterOSSimulator(Listening, Session, MenuCommands, SystemCommands, ScriptImport):
    """One simulated router. The parts: Listening (server.py), Session (session.py), MenuCommands
    (commands.py), SystemCommands (system.py), ScriptImport (script_import.py); its first state
    from seed.py."""

    identity: str = "MikroTik"
    version: str = "7.16.2 (stable)"
    board_name: str = "hAP ac^2"
    model: str = "RBD52G-5HacD2HnD"
    architecture: str = "arm"
    username: str = "admin"
    password: str = ""
    host: str = "127.0.0.1"
    port: int = 0
    latency_ms: float = 0.0
    dead: str | None = None                  # None, "silent" (accepts, never answers) or "refused"
    refuse: dict = field(default_factory=dict)   # command word -> trap message
    hang: set = field(default_factory=set)       # command words never answered
    drop: set = field(default_factory=set)       # command words on which the connection closes
    reboot_seconds: float = 3.0
    initial_uptime: float = 3 * 86400 + 4 * 3600 + 17 * 60
    tls: bool = False                        # api-ssl with a self-signed certificate (see certificate_pem)
    seed: int | None = None
    # A router as it leaves the factory with no default configuration beyond a DHCP client on the WAN
    # (ether1): ether2..ether5 free, no bridge, no hotspot, no firewall (seed.py).
    factory_default: bool = False

    def __post_init__(self):
        if self.dead not in (None, "silent", "refused"):
            raise ValueError("dead is None, 'silent' or 'refused'")
        self.lock = threading.RLock()
        self.rng = random.Random(self.seed)
        self.tables = {menu.path: Table(self, menu) for menu in MENUS}
        self.backups: dict[str, dict] = {}
        self.commands: deque = deque(maxlen=1000)   # every command word received after login, newest last
        self.logins = 0
        self.reboots = 0
        self.certificate_pem = ""
        self.booted_at = time.monotonic() - self.initial_uptime
        self._server = None
        self._holder: socket.socket | None = None   # keeps the port while nothing listens ("refused")
        self._connections: set[Connection] = set()
        self._boot_timer = None
        self._rebooting = False
        self._ssl: ssl.SSLContext | None = None
        seed_router(self)

    # -- what tests read and do --------------------------------------------------------------

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    @property
    def uptime(self) -> float:
        return time.monotonic() - self.booted_at

    @property
    def connections(self) -> int:
        return len(self._connections)

    def table(self, path: str) -> Table:
        return self.tables[path]

    def login_hotspot(self, user: str, *, address: str | None = None, mac_address: str | None = None,
                      server: str = "hotspot1", rate_in: float = 40_000, rate_out: float = 400_000,
                      uptime: float = 0, radius: bool = True) -> str:
        """A customer's device logs in to the hotspot; its byte counters grow at the rates (bytes/s)."""
        with self.lock:
            active = self.tables["/ip/hotspot/active"]
            address = address or f"10.5.50.{len(active) + 10}"
            item_id = active.insert(
                server=server, user=user, address=address, mac_address=mac_address or self._mac(),
                login_by="http-chap", idle_timeout="5m", keepalive_timeout="2m", radius="true" if radius else "false",
                _since=str(time.monotonic() - uptime), _rate_in=str(rate_in), _rate_out=str(rate_out))
            self._log("hotspot,account,info,debug", f"{user} ({address}): logged in")
            return item_id

    def attach_device(self, mac_address: str, *, port: str = "wlan1", address: str | None = None) -> None:
        """A device (an access point, a phone) appears behind ``port``: the bridge learns its MAC
        there and, when it has an address, the ARP cache holds it."""
        with self.lock:
            self.tables["/interface/bridge/host"].insert(mac_address=mac_address.upper(), on_interface=port)
            if address:
                self.tables["/ip/arp"].insert(address=address, mac_address=mac_address.upper(), interface="bridge")

    def detach_device(self, mac_address: str) -> None:
        """The device is gone (unplugged, powered off): the router forgets it."""
        with self.lock:
            for path in ("/interface/bridge/host", "/ip/arp"):
                table = self.tables[path]
                for row in table.rows(**{"mac-address": mac_address.upper()}):
                    table.delete(row[".id"])

    def login_ppp(self, name: str, *, address: str | None = None, caller_id: str | None = None,
                  service: str = "pppoe", rate_in: float = 40_000, rate_out: float = 400_000, uptime: float = 0,
                  radius: bool = True) -> str:
        """A PPP customer connects: a /ppp/active row and, as RouterOS keeps the session's byte counters
        there, its dynamic interface ``<pppoe-NAME>`` (type pppoe-in), whose rx is what the customer
        sends and tx what they download, growing at the rates (bytes/s) from the login."""
        with self.lock:
            active = self.tables["/ppp/active"]
            since = str(time.monotonic() - uptime)
            item_id = active.insert(
                name=name, service=service, caller_id=caller_id or self._mac(),
                address=address or f"10.10.{len(active) // 250}.{len(active) % 250 + 2}",
                session_id=f"0x{self.rng.getrandbits(32):08X}", radius="true" if radius else "false",
                _since=since)
            self.tables["/interface"]._store({
                "name": f"<{service}-{name}>", "type": f"{service}-in", "mtu": "1480", "actual-mtu": "1480",
                "l2mtu": "", "mac-address": "", "running": "true", "dynamic": "true", "disabled": "false",
                "_rx_mean": str(rate_in), "_tx_mean": str(rate_out), "_rx_phase": "0", "_tx_phase": "0",
                "_since": since})
            self._log("pppoe,ppp,info", f"<{service}-{name}>: authenticated")
            return item_id

    def logout_ppp(self, name: str) -> None:
        """The PPP customer hangs up: the session and its dynamic interface go."""
        with self.lock:
            active = self.tables["/ppp/active"]
            for row in active.rows(name=name):
                self._ppp_gone(active.items.pop(row[".id"]))

    def _ppp_gone(self, item: dict) -> None:
        interfaces = self.tables["/interface"]
        link = f"<{item.get('service') or 'pppoe'}-{item.get('name', '')}>"
        for key in [k for k, v in interfaces.items.items() if v.get("name") == link]:
            del interfaces.items[key]
        self._log("pppoe,ppp,info", f"{link}: terminating... - disconnected")

    def log(self, topics: str, message: str) -> None:
        with self.lock:
            self._log(topics, message)

    # -- what the router does itself ----------------------------------------------------------

    def _derived(self, path: str, props: dict) -> dict:
        """Properties the router fills in itself."""
        if path == "/ip/address" and props.get("address"):
            try:
                network = ipaddress.ip_interface(props["address"]).network.network_address
            except ValueError:
                raise Trap("invalid value for argument address") from None
            return {"network": str(network), "actual-interface": props.get("interface", "")}
        if path == "/interface/wireguard":
            private = props.get("private-key") or _wireguard_private_key()
            return {"private-key": private, "public-key": _wireguard_public_key(private)}
        if path == "/interface/wireguard/peers":
            try:
                if len(base64.b64decode(props.get("public-key", ""), validate=True)) != 32:
                    raise ValueError
            except ValueError:
                raise Trap("invalid public key") from None
        if path == "/file" and props.get("type") != "backup":
            now = clock(time.time())
            return {"type": props.get("type") or f"{props['name'].rpartition('.')[2] or 'file'} file",
                    "size": str(len(props.get("contents", "").encode())),
                    "creation-time": props.get("creation-time") or now, "last-modified": now}
        if path == "/ip/firewall/address-list" and "creation-time" not in props:
            return {"creation-time": clock(time.time())}
        if path == "/ip/pool" and not all(_is_range(part) for part in props.get("ranges", "").split(",")):
            raise Trap("invalid value for argument ranges")
        if path == "/ip/dhcp-server/network":
            try:
                ipaddress.ip_network(props.get("address", ""))
            except ValueError:
                raise Trap("invalid value for argument address") from None
        if path == "/ppp/profile":
            pools = {item.get("name") for item in self.tables["/ip/pool"].items.values()}
            for name in ("local-address", "remote-address"):
                value = props.get(name, "")
                if value and value not in pools and not _is_range(value):
                    raise Trap(f"input does not match any value of {name}")
        return {}

    def _after_change(self, path: str) -> None:
        """What a change to ``path`` changes elsewhere: a port joining or leaving a bridge becomes
        (or stops being) a slave, and a DHCP or hotspot server on a slave port is invalid."""
        if path not in ("/interface/bridge", "/interface/bridge/port", "/ip/dhcp-server", "/ip/hotspot"):
            return
        ports = {item.get("interface") for item in self.tables["/interface/bridge/port"].items.values()}
        for item in self.tables["/interface"].items.values():
            item["slave"] = "true" if item.get("name") in ports else "false"
        for menu in ("/ip/dhcp-server", "/ip/hotspot"):
            for item in self.tables[menu].items.values():
                item["invalid"] = "true" if item.get("interface") in ports else "false"

    def _mirror_interface(self, menu: Menu, item: dict, old_name: str | None = None) -> None:
        interfaces = self.tables["/interface"]
        existing = next((v for v in interfaces.items.values() if v.get("name") == (old_name or item["name"])), None)
        props = {"name": item["name"], "disabled": item.get("disabled", "false"),
                 "running": "false" if item.get("disabled") == "true" else "true", "comment": item.get("comment", "")}
        if existing is None:
            interfaces._store({**props, "type": menu.interface_type, "mtu": item.get("mtu", "1500"),
                               "actual-mtu": "1420" if menu.interface_type == "wg" else "1500",
                               "l2mtu": "" if menu.interface_type == "wg" else "1598",
                               "mac-address": "" if menu.interface_type == "wg" else self._mac(),
                               "_rx_mean": "0", "_tx_mean": "0", "_rx_phase": "0", "_tx_phase": "0"})
        else:
            existing.update(props)

    def _log(self, topics: str, message: str) -> None:
        logs = self.tables["/log"]
        logs._store({"time": clock(time.time()), "topics": topics, "message": message})
        while len(logs.items) > LOG_LINES:
            logs.items.pop(next(iter(logs.items)))

    def _mac(self) -> str:
        return "48:8F:5A:" + ":".join(f"{self.rng.randrange(256):02X}" for _ in range(3))


def _is_range(text: str) -> bool:
    """``10.5.50.2-10.5.50.254``, one address, or a network, as /ip/pool ranges and PPP addresses take."""
    try:
        if "-" in text:
            first, last = (ipaddress.ip_address(part) for part in text.split("-", 1))
            return first <= last
        ipaddress.ip_network(text, strict=False)
        return True
    except ValueError:
        return False


def start_fleet(count: int, **config) -> list[RouterOSSimulator]:
    """``count`` simulators, each on its own port; identities ``<identity>-<n>``."""
    base = config.pop("identity", "sim")
    return [RouterOSSimulator(identity=f"{base}-{n}", **config).start() for n in range(1, count + 1)]


def stop_fleet(simulators) -> None:
    for simulator in simulators:
        simulator.stop()


def _wireguard_private_key() -> str:
    from wireguard_tools import WireguardKey

    return str(WireguardKey.generate())


def _wireguard_public_key(private: str) -> str:
    from wireguard_tools import WireguardKey

    try:
        return str(WireguardKey(private).public_key())
    except ValueError:
        raise Trap("invalid private key") from None
