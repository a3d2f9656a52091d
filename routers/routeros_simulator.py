"""A MikroTik router stand-in speaking the RouterOS API wire protocol over TCP, for the tests and the demo.

Each ``RouterOSSimulator`` listens on its own port; all of them in a process share one asyncio event
loop in one thread, so hundreds cost a socket each, not a thread each. The protocol is the real one:
length-prefixed words, sentences ended by an empty word, ``/login`` (plain text as RouterOS >= 6.43,
and the old MD5 challenge), ``!re`` / ``!done`` / ``!trap`` / ``!fatal`` (and ``!empty`` from 7.18),
``.tag`` echoed on every reply, ``?`` queries with ``?#`` operations, ``=.proplist=``, ``/cancel``,
``/file/add`` with ``contents`` (RouterOS 7).
Behind it an in-memory router seeded like a fresh hAP with a hotspot on ``bridge``.

Told what goes wrong: ``latency_ms`` before every reply, ``dead="silent"`` (accepts, never answers)
or ``dead="refused"`` (nothing listens), ``refuse={command: message}`` (a ``!trap``), ``hang`` (a
command never answered), ``drop`` (the connection closes on a command), and reboot (connections
drop, the port refuses for ``reboot_seconds``, then it is back with its uptime reset).

Tests read and change the router directly: ``sim.table("/ip/hotspot/active").rows()``,
``sim.login_hotspot("254712345678")``, ``sim.reboot()``, ``sim.set_dead("silent")``.
Trap messages follow what RouterOS answers where known; where not, they are plausible stand-ins
(adapters must only rely on a ``!trap`` being a refusal, never on its wording).
"""
import asyncio
import base64
import copy
import datetime
import hashlib
import ipaddress
import math
import os
import random
import socket
import ssl
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from routers import routeros_script

MAX_WORD = 16 * 1024 * 1024  # larger words end the session with !fatal, like a router protecting its memory
LOG_LINES = 1000             # RouterOS keeps 1000 lines of memory logging by default
NO_SUCH_ITEM = "no such item"


class Trap(Exception):
    """A refusal, answered as ``!trap =message=…`` followed by ``!done``."""

    def __init__(self, message: str, category: int | None = None):
        super().__init__(message)
        self.message, self.category = message, category


class ProtocolError(Exception):
    pass


# --- the wire format ----------------------------------------------------------------------------

def encode_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    if length < 0x4000:
        return (length | 0x8000).to_bytes(2, "big")
    if length < 0x200000:
        return (length | 0xC00000).to_bytes(3, "big")
    if length < 0x10000000:
        return (length | 0xE0000000).to_bytes(4, "big")
    if length < 0x100000000:
        return b"\xf0" + length.to_bytes(4, "big")
    raise ValueError("word too long")


def decode_length(data: bytes) -> tuple[int, int]:
    """(length, bytes used) from the start of ``data``."""
    first = data[0]
    if first < 0x80:
        return first, 1
    if first < 0xC0:
        return int.from_bytes(data[:2], "big") & 0x3FFF, 2
    if first < 0xE0:
        return int.from_bytes(data[:3], "big") & 0x1FFFFF, 3
    if first < 0xF0:
        return int.from_bytes(data[:4], "big") & 0xFFFFFFF, 4
    if first == 0xF0:
        return int.from_bytes(data[1:5], "big"), 5
    raise ProtocolError(f"control byte {first:#x}")


def encode_sentence(words) -> bytes:
    parts = []
    for word in words:
        raw = word.encode() if isinstance(word, str) else word
        parts += [encode_length(len(raw)), raw]
    parts.append(b"\x00")
    return b"".join(parts)


async def read_word(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readexactly(1)
    first = head[0]
    if first >= 0xF8:
        raise ProtocolError(f"control byte {first:#x}")
    size = 1 if first < 0x80 else 2 if first < 0xC0 else 3 if first < 0xE0 else 4 if first < 0xF0 else 5
    if size > 1:
        head += await reader.readexactly(size - 1)
    length, _ = decode_length(head)
    if length > MAX_WORD:
        raise ProtocolError("word too long")
    return await reader.readexactly(length) if length else b""


async def read_sentence(reader: asyncio.StreamReader) -> list[str]:
    words = []
    while True:
        word = await read_word(reader)
        if not word:
            return words
        words.append(word.decode("utf-8", "replace"))


def format_duration(seconds: float) -> str:
    """RouterOS style: 1w2d3h4m5s."""
    seconds = int(seconds)
    parts = []
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    if seconds or not parts:
        parts.append(f"{seconds}s")
    return "".join(parts)


# --- menus --------------------------------------------------------------------------------------

@dataclass
class Menu:
    """What one RouterOS menu accepts: its properties with their defaults, which are required, which
    the router sets itself, and which combination must be unique."""

    path: str
    fields: dict
    required: tuple = ()
    read_only: tuple = ()
    write_only: tuple = ()
    unique: tuple = ()
    duplicate: str = "failure: already have such entry"
    refs: dict = field(default_factory=dict)   # property -> (menu path, values allowed besides names)
    commands: tuple = ("print", "add", "set", "remove", "enable", "disable", "unset")
    singleton: bool = False
    dynamic: bool = False       # runtime state: not in backups, emptied by a reboot
    ordered: bool = False       # accepts place-before
    auto_name: str = ""         # name given when add has none: <auto_name><n>
    interface_type: str = ""    # items also appear in /interface with this type
    noun: str = ""

    @property
    def booleans(self) -> set:
        return {name for name, default in self.fields.items() if default in ("true", "false")}


def _fields(spec: str, **more) -> dict:
    """``"name= disabled=false"`` -> {"name": "", "disabled": "false"}."""
    fields = dict(item.split("=", 1) for item in spec.split())
    fields.update({key.replace("_", "-"): value for key, value in more.items()})
    return fields


COMMON = "comment= disabled=false"
IFACE_COUNTERS = ("rx-byte tx-byte rx-packet tx-packet rx-drop tx-drop tx-queue-drop rx-error tx-error "
                  "fp-rx-byte fp-tx-byte fp-rx-packet fp-tx-packet")

MENUS = [
    Menu("/interface", _fields(
        "name= default-name= type= mtu=1500 actual-mtu=1500 l2mtu=1598 mac-address= fast-path=true "
        "last-link-up-time= link-downs=0 running=true slave=false dynamic=false " + COMMON),
        read_only=("default-name", "type", "actual-mtu", "mac-address", "fast-path", "last-link-up-time",
                   "link-downs", "running", "slave", "dynamic", *IFACE_COUNTERS.split()),
        unique=("name",), duplicate="failure: already have interface with such name",
        commands=("print", "set", "enable", "disable", "unset"), noun="interface"),
    Menu("/interface/bridge", _fields(
        "name= mtu=auto actual-mtu=1500 l2mtu=1598 arp=enabled protocol-mode=rstp auto-mac=true "
        "admin-mac= mac-address= running=true " + COMMON),
        read_only=("actual-mtu", "l2mtu", "mac-address", "running"), unique=("name",),
        duplicate="failure: already have interface with such name", auto_name="bridge", interface_type="bridge"),
    Menu("/interface/bridge/port", _fields("interface= bridge= pvid=1 hw=true inactive=false dynamic=false " + COMMON),
         required=("interface", "bridge"), read_only=("inactive", "dynamic"), unique=("interface",),
         refs={"interface": ("/interface", ()), "bridge": ("/interface/bridge", ())}, noun="bridge port"),
    Menu("/interface/wireguard", _fields(
        "name= listen-port=13231 mtu=1420 private-key= public-key= running=true " + COMMON),
        read_only=("public-key", "running"), unique=("name",), auto_name="wireguard",
        duplicate="failure: already have interface with such name", interface_type="wg", noun="wireguard interface"),
    Menu("/interface/wireguard/peers", _fields(
        "name= interface= public-key= private-key= preshared-key= allowed-address= endpoint-address= "
        "endpoint-port=0 current-endpoint-address= current-endpoint-port=0 persistent-keepalive= "
        "client-address= client-dns= client-endpoint= rx=0 tx=0 last-handshake= dynamic=false " + COMMON),
        required=("interface", "public-key"), unique=("interface", "public-key"), auto_name="peer",
        read_only=("current-endpoint-address", "current-endpoint-port", "rx", "tx", "last-handshake", "dynamic"),
        refs={"interface": ("/interface/wireguard", ())}, noun="wireguard peer"),
    Menu("/interface/pppoe-server/server", _fields(
        "service-name= interface= max-mtu=auto max-mru=auto mrru=disabled authentication=pap,chap,mschap1,mschap2 "
        "keepalive-timeout=10 one-session-per-host=false max-sessions=unlimited pado-delay=0 "
        "default-profile=default invalid=false " + COMMON),
        required=("interface",), read_only=("invalid",), unique=("service-name", "interface"),
        refs={"interface": ("/interface", ()), "default-profile": ("/ppp/profile", ())}, noun="pppoe server"),
    Menu("/ip/address", _fields("address= network= interface= actual-interface= invalid=false dynamic=false " + COMMON),
         required=("address", "interface"), read_only=("actual-interface", "invalid", "dynamic"),
         unique=("address", "interface"), duplicate="failure: already have such address",
         refs={"interface": ("/interface", ())}, noun="address"),
    Menu("/ip/pool", _fields("name= ranges= next-pool=none comment="), required=("name", "ranges"),
         unique=("name",), commands=("print", "add", "set", "remove", "unset"), noun="pool"),
    Menu("/ip/service", _fields("name= port= address= certificate=none tls-version=any vrf=main max-sessions=20 "
                                "invalid=false disabled=false"),
         read_only=("name", "invalid"), commands=("print", "set", "enable", "disable", "unset"), noun="service"),
    Menu("/ip/hotspot", _fields(
        "name= interface= address-pool=none profile=default idle-timeout=5m keepalive-timeout=none "
        "login-timeout=none addresses-per-mac=unlimited proxy-status= invalid=false HTTPS=false " + COMMON),
        required=("interface",), read_only=("proxy-status", "invalid", "HTTPS"), unique=("name",), auto_name="server",
        refs={"interface": ("/interface", ()), "profile": ("/ip/hotspot/profile", ()),
              "address-pool": ("/ip/pool", ("none",))}, noun="hotspot server"),
    Menu("/ip/hotspot/profile", _fields(
        "name= hotspot-address= dns-name= html-directory=hotspot html-directory-override= rate-limit= "
        "http-proxy=0.0.0.0:0 smtp-server=0.0.0.0 login-by=cookie,http-chap http-cookie-lifetime=3d "
        "split-user-domain=false use-radius=false radius-accounting=true radius-interim-update=received "
        "nas-port-type=wireless-802.11 radius-default-domain= radius-location-id= radius-location-name= "
        "radius-mac-format=XX:XX:XX:XX:XX:XX mac-auth-mode=mac-as-username mac-auth-password= "
        "trial-uptime-limit=30m trial-uptime-reset=1d trial-user-profile=default install-hotspot-queue=false "
        "ssl-certificate=none https-redirect=true default=false"),
        read_only=("default",), unique=("name",), auto_name="hsprof", duplicate="failure: already have such name",
        commands=("print", "add", "set", "remove", "unset"), noun="hotspot server profile"),
    Menu("/ip/hotspot/user/profile", _fields(
        "name= address-pool=none shared-users=1 rate-limit= idle-timeout=none keepalive-timeout=2m "
        "status-autorefresh=1m add-mac-cookie=true mac-cookie-timeout=3d address-list= transparent-proxy=false "
        "on-login= on-logout= parent-queue=none queue-type= insert-queue-before= open-status-page=always "
        "advertise=false session-timeout= default=false"),
        read_only=("default",), unique=("name",), auto_name="uprof", duplicate="failure: already have such name",
        refs={"address-pool": ("/ip/pool", ("none",))}, commands=("print", "add", "set", "remove", "unset"),
        noun="hotspot user profile"),
    Menu("/ip/hotspot/user", _fields(
        "server=all name= password= address= mac-address= profile=default routes= email= limit-uptime= "
        "limit-bytes-in= limit-bytes-out= limit-bytes-total= uptime=0s bytes-in=0 bytes-out=0 packets-in=0 "
        "packets-out=0 dynamic=false default=false " + COMMON),
        required=("name",), unique=("server", "name"), noun="hotspot user",
        duplicate="failure: already have user with this name for this server",
        read_only=("uptime", "bytes-in", "bytes-out", "packets-in", "packets-out", "dynamic", "default"),
        refs={"server": ("/ip/hotspot", ("all",)), "profile": ("/ip/hotspot/user/profile", ())}),
    # Neighbours the router has heard from: the ARP cache and the bridge's learned MAC addresses
    # (what tells which port a device sits behind). Runtime state, filled by attach_device().
    Menu("/ip/arp", _fields("address= mac-address= interface= published=false invalid=false DHCP=false "
                            "complete=true dynamic=true " + COMMON),
         commands=("print",), dynamic=True, noun="arp entry"),
    Menu("/interface/bridge/host", _fields("mac-address= on-interface= bridge=bridge vid= local=false external=false "
                                           "age=1s dynamic=true invalid=false"),
         commands=("print",), dynamic=True, noun="bridge host"),
    Menu("/ip/hotspot/active", _fields(
        "server= user= domain= address= mac-address= login-by= uptime=0s idle-time=0s session-time-left= "
        "idle-timeout= keepalive-timeout= limit-bytes-in= limit-bytes-out= limit-bytes-total= bytes-in=0 "
        "bytes-out=0 packets-in=0 packets-out=0 radius=false blocked=false"),
        commands=("print", "remove"), dynamic=True, noun="active hotspot user"),
    Menu("/ip/hotspot/walled-garden", _fields(
        "server= dst-host= dst-port= path= method= action=allow src-address= src-host= hits=0 dynamic=false " + COMMON),
        read_only=("hits", "dynamic"), ordered=True, refs={"server": ("/ip/hotspot", ("",))},
        noun="walled garden entry"),
    Menu("/ip/hotspot/walled-garden/ip", _fields(
        "server= action=accept dst-address= dst-address-list= dst-host= dst-port= protocol= src-address= "
        "src-address-list= invalid=false dynamic=false " + COMMON),
        read_only=("invalid", "dynamic"), ordered=True, refs={"server": ("/ip/hotspot", ("",))},
        noun="walled garden ip entry"),
    Menu("/ip/firewall/address-list", _fields(
        "list= address= timeout= creation-time= dynamic=false " + COMMON),
        required=("list", "address"), read_only=("creation-time", "dynamic"), unique=("list", "address"),
        noun="address list entry"),
    Menu("/ip/firewall/filter", _fields(
        "chain= action=accept src-address= dst-address= protocol= src-port= dst-port= in-interface= "
        "out-interface= in-interface-list= out-interface-list= src-address-list= dst-address-list= "
        "connection-state= connection-nat-state= ipsec-policy= hotspot= jump-target= reject-with= log=false "
        "log-prefix= bytes=0 packets=0 invalid=false dynamic=false " + COMMON),
        required=("chain",), read_only=("bytes", "packets", "invalid", "dynamic"), ordered=True,
        noun="filter rule"),
    Menu("/ip/firewall/nat", _fields(
        "chain= action=accept src-address= dst-address= protocol= src-port= dst-port= in-interface= "
        "out-interface= in-interface-list= out-interface-list= src-address-list= dst-address-list= "
        "to-addresses= to-ports= ipsec-policy= hotspot= jump-target= log=false log-prefix= bytes=0 packets=0 "
        "invalid=false dynamic=false " + COMMON),
        required=("chain",), read_only=("bytes", "packets", "invalid", "dynamic"), ordered=True, noun="nat rule"),
    Menu("/ppp/profile", _fields(
        "name= local-address= remote-address= bridge= incoming-filter= outgoing-filter= address-list= dns-server= "
        "wins-server= rate-limit= session-timeout= idle-timeout= only-one=default change-tcp-mss=default "
        "use-compression=default use-encryption=default use-mpls=default use-upnp=default parent-queue= "
        "queue-type= insert-queue-before= on-up= on-down= comment= default=false"),
        read_only=("default",), unique=("name",), auto_name="profile", duplicate="failure: already have such name",
        commands=("print", "add", "set", "remove", "unset"), noun="ppp profile"),
    Menu("/ppp/secret", _fields(
        "name= password= service=any profile=default local-address= remote-address= caller-id= routes= "
        "limit-bytes-in=0 limit-bytes-out=0 last-logged-out= last-caller-id= last-disconnect-reason= " + COMMON),
        required=("name",), unique=("name",), duplicate="failure: secret with the same name already exists",
        read_only=("last-logged-out", "last-caller-id", "last-disconnect-reason"),
        refs={"profile": ("/ppp/profile", ())}, noun="ppp secret"),
    Menu("/ppp/active", _fields(
        "name= service= caller-id= encoding= address= uptime=0s session-id= limit-bytes-in= limit-bytes-out= "
        "radius=false"), commands=("print", "remove"), dynamic=True, noun="active ppp connection"),
    Menu("/ppp/aaa", _fields("use-radius=false accounting=true interim-update=0s use-circuit-id-in-nas-port-id=false "
                             "enable-ipv6-accounting=false"), singleton=True, commands=("print", "set")),
    Menu("/radius", _fields(
        "service= called-id= domain= address= secret= authentication-port=1812 accounting-port=1813 timeout=300ms "
        "accounting-backup=false realm= src-address=0.0.0.0 protocol=udp certificate=none "
        "require-message-auth=yes-for-request-resp " + COMMON),
        required=("address",), noun="radius client"),
    Menu("/radius/incoming", _fields("accept=false port=3799 vrf=main"), singleton=True, commands=("print", "set")),
    Menu("/queue/simple", _fields(
        "name= target= dst= parent=none packet-marks= priority=8/8 queue=default-small/default-small "
        "limit-at=0/0 max-limit=0/0 burst-limit=0/0 burst-threshold=0/0 burst-time=0s/0s bucket-size=0.1/0.1 "
        "bytes=0/0 packets=0/0 rate=0/0 invalid=false dynamic=false " + COMMON),
        required=("target",), unique=("name",), auto_name="queue", ordered=True,
        duplicate="failure: already have such name", read_only=("bytes", "packets", "rate", "invalid", "dynamic"),
        noun="simple queue"),
    Menu("/user", _fields("name= group= password= address= inactivity-timeout=10m inactivity-policy=none "
                          "last-logged-in= expired=false " + COMMON),
         required=("name", "group"), write_only=("password",), read_only=("last-logged-in", "expired"),
         unique=("name",), duplicate="failure: user with the same name already exists",
         refs={"group": ("/user/group", ())}, noun="user"),
    Menu("/user/group", _fields("name= policy= skin=default comment="), required=("name",), unique=("name",),
         duplicate="failure: group with the same name already exists",
         commands=("print", "add", "set", "remove", "unset"), noun="group"),
    Menu("/system/identity", _fields("name=MikroTik"), singleton=True, commands=("print", "set"), noun="identity"),
    Menu("/system/routerboard", _fields(
        "routerboard=true board-name= model= revision= serial-number= firmware-type= factory-firmware= "
        "current-firmware= upgrade-firmware="), singleton=True, commands=("print",)),
    Menu("/system/resource", {}, singleton=True, commands=("print",)),
    Menu("/log", _fields("time= topics= message="), commands=("print",), dynamic=True),
    # RouterOS 7 writes small files over the API: /file/add name=… contents=…, /file/set … contents=….
    Menu("/file", _fields("name= type= size= creation-time= last-modified= contents="),
         required=("name",), read_only=("type", "size", "creation-time", "last-modified"), unique=("name",),
         duplicate="failure: file already exists", commands=("print", "add", "set", "remove"), noun="file"),
]
MENU_BY_PATH = {menu.path: menu for menu in MENUS}
SPECIAL = {"/interface/monitor-traffic", "/system/backup/save", "/system/backup/load", "/system/reboot",
           "/system/resource/print", "/cancel", "/quit", "/login", "/import"}
PREFIXES = {"/".join(path.split("/")[:depth]) for path in [*MENU_BY_PATH, *SPECIAL]
            for depth in range(2, path.count("/") + 1)}
DEFAULT_GROUP_POLICIES = {
    "read": "local,telnet,ssh,reboot,read,test,winbox,password,web,sniff,sensitive,api,romon,rest-api",
    "write": "local,telnet,ssh,reboot,read,write,test,winbox,password,web,sniff,sensitive,api,romon,rest-api",
    "full": "local,telnet,ssh,ftp,reboot,read,write,policy,test,winbox,password,web,sniff,sensitive,api,romon,"
            "rest-api",
}


class Table:
    """The items of one menu. Validates like RouterOS on add/set; ``rows()`` renders what print shows."""

    def __init__(self, sim: "RouterOSSimulator", menu: Menu):
        self.sim, self.menu = sim, menu
        self.items: dict[str, dict] = {}
        self.next_id = 1

    # -- the tests' side ---------------------------------------------------------------------

    def rows(self, **query) -> list[dict]:
        """What ``print`` would answer, filtered by equality (underscores in names read as dashes)."""
        with self.sim.lock:
            rows = [self.render(item_id) for item_id in self.items]
        wanted = {_dash(key): str(value) for key, value in query.items()}
        return [row for row in rows if all(row.get(key, "") == value for key, value in wanted.items())]

    def insert(self, **props) -> str:
        """Add an item as the router itself would (no validation of read-only fields)."""
        with self.sim.lock:
            return self._store({_dash(key): str(value) for key, value in props.items()})

    def delete(self, item_id: str) -> None:
        with self.sim.lock:
            self.items.pop(item_id, None)

    def __len__(self) -> int:
        return len(self.items)

    # -- the API's side ----------------------------------------------------------------------

    def _store(self, props: dict, before: str | None = None) -> str:
        item_id = f"*{self.next_id:X}"
        self.next_id += 1
        item = {name: default for name, default in self.menu.fields.items()}
        item.update(props)
        if before is not None:
            self.items = dict(
                kv for key, value in self.items.items()
                for kv in ([(item_id, item)] if key == before else []) + [(key, value)])
        else:
            self.items[item_id] = item
        return item_id

    def render(self, item_id: str) -> dict:
        item = self.items[item_id]
        row = {} if self.menu.singleton else {".id": item_id}
        for name, value in item.items():
            # RouterOS leaves unset properties out of the reply; "_" marks the simulator's own state.
            if value != "" and not name.startswith("_") and name not in self.menu.write_only:
                row[name] = value
        row.update(self.sim._live(self.menu.path, item))
        return row

    def resolve(self, ref: str) -> list[str]:
        """Item ids from a ``.id``/``numbers`` value: ``*1,*2`` or names."""
        ids = []
        for part in filter(None, ref.split(",")):
            if part in self.items:
                ids.append(part)
                continue
            named = [key for key, item in self.items.items() if item.get("name") == part and "name" in self.menu.fields]
            if not named:
                raise Trap(NO_SUCH_ITEM)
            ids += named
        if not ids:
            raise Trap(NO_SUCH_ITEM)
        return ids

    def clean(self, props: dict, *, adding: bool) -> dict:
        menu = self.menu
        cleaned = {}
        for name, value in props.items():
            if name not in menu.fields or name in menu.read_only:
                raise Trap(f"unknown parameter {name}")
            if name in menu.booleans:
                lowered = value.lower()
                if lowered not in ("yes", "no", "true", "false"):
                    raise Trap(f"input does not match any value of {name}")
                value = "true" if lowered in ("yes", "true") else "false"
            if name in menu.refs and value:
                path, extra = menu.refs[name]
                names = {item.get("name") for item in self.sim.tables[path].items.values()}
                if value not in names and value not in extra:
                    raise Trap(f"input does not match any value of {name}")
            cleaned[name] = value
        if adding:
            missing = [name for name in menu.required if not cleaned.get(name)]
            if missing:
                raise Trap("missing value(s) of argument(s) " + " ".join(missing))
        return cleaned

    def check_unique(self, props: dict, item_id: str | None = None) -> None:
        if not self.menu.unique:
            return
        key = tuple(props.get(name, self.menu.fields[name]) for name in self.menu.unique)
        if not any(key):
            return
        for other_id, other in self.items.items():
            if other_id != item_id and tuple(other.get(name, "") for name in self.menu.unique) == key:
                raise Trap(self.menu.duplicate)


def _noun(menu: Menu) -> str:
    return menu.noun or menu.path.rsplit("/", 1)[-1].replace("-", " ")


# --- the shared event loop ----------------------------------------------------------------------

class _Hub:
    """One event-loop thread serving every simulator in the process."""

    _instance = None
    _guard = threading.Lock()

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="routeros-simulators", daemon=True)
        self.thread.start()
        _raise_file_limit()

    @classmethod
    def get(cls) -> "_Hub":
        with cls._guard:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def run(self, coroutine, timeout: float = 30):
        if threading.current_thread() is self.thread:
            raise RuntimeError("call the simulator's async methods from inside the loop")
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)


def _raise_file_limit() -> None:
    """Hundreds of simulated routers polled at once need more descriptors than the usual soft limit."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ImportError, ValueError, OSError):
        pass


class _Connection:
    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer
        self.user: str | None = None
        self.challenge: bytes | None = None
        self.tasks: dict[asyncio.Task, str | None] = {}
        self.peer = (writer.get_extra_info("peername") or ("?",))[0]

    def send(self, sentences: list[list[str]], tag: str | None) -> None:
        if self.writer.is_closing():
            return
        suffix = [f".tag={tag}"] if tag is not None else []
        self.writer.write(b"".join(encode_sentence(words + suffix) for words in sentences))

    def abort(self) -> None:
        self.writer.transport.abort()


@dataclass(eq=False)
class Stream:
    """A command that keeps answering every ``interval`` seconds until cancelled (monitor without once)."""

    rows: object
    interval: float = 1.0


class _Disconnect(Exception):
    """Close the connection after sending ``sentences`` (quit), and reboot if asked."""

    def __init__(self, sentences=(), reboot=False):
        super().__init__()
        self.sentences, self.reboot = list(sentences), reboot


# --- the router ---------------------------------------------------------------------------------

@dataclass(eq=False)
class RouterOSSimulator:
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
        self._connections: set[_Connection] = set()
        self._boot_timer = None
        self._rebooting = False
        self._ssl: ssl.SSLContext | None = None
        self._seed()

    # -- running ---------------------------------------------------------------------------------

    def start(self) -> "RouterOSSimulator":
        if self.tls and self._ssl is None:
            self._ssl = self._make_tls()
        _Hub.get().run(self._listen())
        return self

    def stop(self) -> None:
        _Hub.get().run(self._close())

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def set_dead(self, mode: str | None) -> None:
        """Go dead now ("silent": open connections and new ones get no answer; "refused": the port
        closes and open connections are reset) or come back (None)."""
        if mode not in (None, "silent", "refused"):
            raise ValueError("dead is None, 'silent' or 'refused'")
        _Hub.get().run(self._set_dead(mode))

    def reboot(self) -> None:
        """As if someone pressed reboot: connections drop, the port refuses for reboot_seconds."""
        _Hub.get().run(self._restart())

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
                  service: str = "pppoe", uptime: float = 0, radius: bool = True) -> str:
        with self.lock:
            active = self.tables["/ppp/active"]
            return active.insert(
                name=name, service=service, caller_id=caller_id or self._mac(),
                address=address or f"10.10.{len(active) // 250}.{len(active) % 250 + 2}",
                session_id=f"0x{self.rng.getrandbits(32):08X}", radius="true" if radius else "false",
                _since=str(time.monotonic() - uptime))

    def log(self, topics: str, message: str) -> None:
        with self.lock:
            self._log(topics, message)

    # -- the listening socket --------------------------------------------------------------------

    async def _listen(self) -> None:
        if self._server is not None or self._holder is not None:
            return
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        if self.dead == "refused" or self._rebooting:
            self._holder = sock  # bound but not listening: connections are refused
            return
        self._server = await asyncio.start_server(self._serve, sock=sock, ssl=self._ssl, backlog=256)

    async def _unlisten(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        if self._holder is not None:
            self._holder.close()
            self._holder = None

    async def _close(self) -> None:
        if self._boot_timer is not None:
            self._boot_timer.cancel()
            self._boot_timer = None
        await self._unlisten()
        for conn in list(self._connections):
            conn.abort()

    async def _set_dead(self, mode: str | None) -> None:
        self.dead = mode
        if mode == "refused":
            for conn in list(self._connections):
                conn.abort()
        if self._server is None and self._holder is None:
            return  # not started
        if (mode == "refused") != (self._holder is not None) and not self._rebooting:
            await self._unlisten()
            await self._listen()

    async def _restart(self) -> None:
        if self._rebooting or (self._server is None and self._holder is None):
            return
        self._rebooting = True
        self.reboots += 1
        for conn in list(self._connections):
            conn.abort()
        await self._unlisten()
        await self._listen()  # bound, not listening, while "booting"
        self._boot_timer = asyncio.get_running_loop().call_later(
            self.reboot_seconds, lambda: asyncio.ensure_future(self._come_up()))

    async def _come_up(self) -> None:
        with self.lock:
            self.booted_at = time.monotonic()
            for table in self.tables.values():
                if table.menu.dynamic:
                    table.items.clear()
            for item in self.tables["/interface"].items.values():
                item["last-link-up-time"] = _clock(time.time())
            self._log("system,info", "router rebooted")
        self._rebooting = False
        self._boot_timer = None
        await self._unlisten()
        await self._listen()

    # -- the protocol ----------------------------------------------------------------------------

    async def _serve(self, reader, writer) -> None:
        conn = _Connection(reader, writer)
        self._connections.add(conn)
        try:
            while True:
                words = await read_sentence(reader)
                if not words or self.dead == "silent":
                    continue
                if conn.user is None:
                    await self._login(conn, words)
                    continue
                task = asyncio.ensure_future(self._command(conn, words))
                conn.tasks[task] = _tag_of(words)
                task.add_done_callback(lambda done: conn.tasks.pop(done, None))
        except ProtocolError as error:
            conn.send([["!fatal", str(error)]], None)
        except (asyncio.IncompleteReadError, ConnectionError, OSError, ssl.SSLError):
            pass
        finally:
            self._connections.discard(conn)
            for task in list(conn.tasks):
                task.cancel()
            if conn.user is not None:
                with self.lock:
                    self._log("system,info,account", f"user {conn.user} logged out from {conn.peer} via api")
            writer.close()

    async def _login(self, conn: _Connection, words: list[str]) -> None:
        command, attrs, _, tag = _parse(words)
        await self._delay()
        if command != "/login":
            conn.send([["!trap", "=message=not logged in"], ["!done"]], tag)
            return
        name, password, response = attrs.get("name"), attrs.get("password"), attrs.get("response")
        if response is None and (name is None or _version(self.version) < (6, 43)):
            # The MD5 challenge: what routers before 6.43 answer to any /login without a response,
            # and what later ones still answer to a bare /login.
            conn.challenge = os.urandom(16)
            conn.send([["!done", f"=ret={conn.challenge.hex()}"]], tag)
            return
        with self.lock:
            user = next((item for item in self.tables["/user"].items.values() if item["name"] == name), None)
            ok = user is not None and user["disabled"] == "false"
            if ok and password is not None:
                ok = password == user["password"]
            elif ok and response is not None:
                digest = hashlib.md5(b"\x00" + user["password"].encode() + (conn.challenge or b"")).hexdigest()
                # The MD5 challenge went away in 6.45: later routers still offer it but refuse the answer.
                ok = _version(self.version) < (6, 45) and conn.challenge is not None and response == "00" + digest
            else:
                ok = False
            group = next((g for g in self.tables["/user/group"].items.values() if user and g["name"] == user["group"]),
                         None)
            if not ok:
                self._log("system,error,critical", f"login failure for user {name} from {conn.peer} via api")
                conn.send([["!trap", "=message=invalid user name or password (6)"], ["!done"]], tag)
                return
            if group is None or "api" not in group["policy"].split(","):
                conn.send([["!trap", "=message=not enough permissions (9)"], ["!done"]], tag)
                return
            conn.user = name
            user["last-logged-in"] = _clock(time.time())
            self.logins += 1
            self._log("system,info,account", f"user {name} logged in from {conn.peer} via api")
        conn.send([["!done"]], tag)

    async def _command(self, conn: _Connection, words: list[str]) -> None:
        command, attrs, queries, tag = _parse(words)
        self.commands.append(command)
        try:
            await self._delay()
            if command in self.hang:
                await asyncio.Event().wait()
            if command in self.drop:
                conn.abort()
                return
            if command in self.refuse:
                raise Trap(self.refuse[command])
            with self.lock:
                result = self._dispatch(conn, command, attrs, queries)
            if isinstance(result, Stream):
                while True:
                    with self.lock:
                        rows = result.rows()
                    conn.send([["!re", *_words(row)] for row in rows], tag)
                    await asyncio.sleep(result.interval)
            rows, done = result
            sentences = [["!re", *_words(row)] for row in rows]
            if not rows and command.endswith("/print") and _version(self.version) >= (7, 18):
                sentences.append(["!empty"])
            conn.send(sentences + [["!done", *_words(done)]], tag)
        except Trap as trap:
            category = [f"=category={trap.category}"] if trap.category is not None else []
            conn.send([["!trap", *category, f"=message={trap.message}"], ["!done"]], tag)
        except _Disconnect as disconnect:
            conn.send(disconnect.sentences, tag)
            try:
                await conn.writer.drain()
            except (ConnectionError, OSError):
                pass
            conn.abort()
            if disconnect.reboot:
                asyncio.ensure_future(self._restart())  # its own task: this one is cancelled with the connection
        except asyncio.CancelledError:
            if not conn.writer.is_closing():
                conn.send([["!trap", "=category=2", "=message=interrupted"], ["!done"]], tag)
        except Exception as error:  # a simulator bug: say so rather than leave the client waiting
            conn.send([["!trap", f"=message=failure: simulator error: {error!r}"], ["!done"]], tag)
            raise

    async def _delay(self) -> None:
        if self.latency_ms:
            await asyncio.sleep(self.latency_ms / 1000)

    # -- commands --------------------------------------------------------------------------------

    def _dispatch(self, conn: _Connection, command: str, attrs: dict, queries: list[str]):
        """(rows, done attributes), a Stream, or raises Trap/_Disconnect. Runs under the lock."""
        if command == "/cancel":
            wanted = attrs.get("tag")
            for task, tag in list(conn.tasks.items()):
                if task is not asyncio.current_task() and (wanted is None or tag == wanted):
                    task.cancel()
            return [], {}
        if command == "/quit":
            raise _Disconnect([["!fatal", "session terminated on request"]])
        if command == "/system/reboot":
            self._log("system,info", f"system rebooted by {conn.user}")
            raise _Disconnect([], reboot=True)
        if command == "/system/resource/print":
            return _select([self._resource()], attrs, queries), {}
        if command == "/interface/monitor-traffic":
            return self._monitor_traffic(attrs)
        if command == "/system/backup/save":
            return self._backup_save(conn, attrs)
        if command == "/system/backup/load":
            return self._backup_load(conn, attrs)
        if command == "/import":
            return self._import(conn, attrs)
        path, _, verb = command.rpartition("/")
        menu = MENU_BY_PATH.get(path)
        if menu is None:
            raise Trap("no such command" if path in PREFIXES or command in PREFIXES else "no such command prefix")
        if verb not in menu.commands:
            raise Trap("no such command")
        return getattr(self, f"_{verb}")(conn, self.tables[path], attrs, queries)

    def _print(self, conn, table: Table, attrs: dict, queries: list[str]):
        rows = _select([table.render(item_id) for item_id in table.items], attrs, queries)
        if "count-only" in attrs:
            return [], {"ret": str(len(rows))}
        return rows, {}

    def _add(self, conn, table: Table, attrs: dict, queries):
        menu = table.menu
        before = attrs.pop("place-before", None)
        if before is not None and not menu.ordered:
            raise Trap("unknown parameter place-before")
        props = table.clean(attrs, adding=True)
        if menu.auto_name and not props.get("name"):
            props["name"] = _free_name(table, menu.auto_name)
        table.check_unique(props)
        if before is not None:
            before = table.resolve(before)[0]
        props.update(self._derived(menu.path, props))
        item_id = table._store(props, before)
        if menu.interface_type:
            self._mirror_interface(menu, table.items[item_id])
        self._log("system,info", f"{_noun(menu)} added by {conn.user}")
        return [], {"ret": item_id}

    def _set(self, conn, table: Table, attrs: dict, queries):
        menu = table.menu
        ref = attrs.pop(".id", None) or attrs.pop("numbers", None)
        props = table.clean(attrs, adding=False)
        if menu.singleton:
            if not table.items:
                table._store({})
            ids = list(table.items)
        else:
            if ref is None:
                raise Trap("missing value(s) of argument(s) numbers")
            ids = table.resolve(ref)
        for item_id in ids:
            item = table.items[item_id]
            old_name = item.get("name")
            table.check_unique({**item, **props}, item_id)
            item.update(props)
            item.update(self._derived(menu.path, item))
            if menu.interface_type:
                self._mirror_interface(menu, item, old_name)
        self._log("system,info", f"{_noun(menu)} changed by {conn.user}")
        return [], {}

    def _remove(self, conn, table: Table, attrs: dict, queries):
        menu = table.menu
        ref = attrs.get(".id") or attrs.get("numbers")
        if ref is None:
            raise Trap("missing value(s) of argument(s) numbers")
        for item_id in table.resolve(ref):
            item = table.items.pop(item_id)
            if menu.interface_type:
                interfaces = self.tables["/interface"]
                for key in [k for k, v in interfaces.items.items() if v.get("name") == item.get("name")]:
                    del interfaces.items[key]
            if menu.path == "/ip/hotspot/active":
                self._log("hotspot,account,info,debug", f"{item['user']} ({item['address']}): logged out: admin reset")
            if menu.path == "/file":
                self.backups.pop(item["name"], None)
        self._log("system,info", f"{_noun(menu)} removed by {conn.user}")
        return [], {}

    def _enable(self, conn, table, attrs, queries):
        return self._set(conn, table, {**_only_ref(attrs), "disabled": "no"}, queries)

    def _disable(self, conn, table, attrs, queries):
        return self._set(conn, table, {**_only_ref(attrs), "disabled": "yes"}, queries)

    def _unset(self, conn, table, attrs, queries):
        name = attrs.get("value-name", "")
        if name not in table.menu.fields or name in table.menu.read_only:
            raise Trap(f"unknown parameter {name}" if name else "missing value(s) of argument(s) value-name")
        ids = list(table.items) if table.menu.singleton else table.resolve(attrs.get(".id") or attrs.get("numbers", ""))
        for item_id in ids:
            table.items[item_id][name] = table.menu.fields[name]
        return [], {}

    def _monitor_traffic(self, attrs: dict):
        names = [name for name in attrs.get("interface", "").split(",") if name]
        if not names:
            raise Trap("missing value(s) of argument(s) interface")
        interfaces = self.tables["/interface"]
        found = []
        for name in names:
            match = next((item for item in interfaces.items.values() if item["name"] == name), None)
            if match is None:
                raise Trap("input does not match any value of interface")
            found.append(match)

        def rows():
            now = self.uptime
            out = []
            for section, item in enumerate(found):
                rx, tx = (_rate(item, "_rx", now) * 8, _rate(item, "_tx", now) * 8) if item["running"] == "true" \
                    else (0, 0)
                out.append({".section": str(section), "name": item["name"],
                            "rx-packets-per-second": str(int(rx / 8 / 900)), "rx-bits-per-second": str(int(rx)),
                            "fp-rx-packets-per-second": "0", "fp-rx-bits-per-second": "0",
                            "rx-drops-per-second": "0", "rx-errors-per-second": "0",
                            "tx-packets-per-second": str(int(tx / 8 / 900)), "tx-bits-per-second": str(int(tx)),
                            "fp-tx-packets-per-second": "0", "fp-tx-bits-per-second": "0",
                            "tx-drops-per-second": "0", "tx-queue-drops-per-second": "0", "tx-errors-per-second": "0"})
            return out

        if "once" in attrs and attrs["once"].lower() not in ("no", "false"):
            return rows(), {}
        return Stream(rows)

    def _backup_save(self, conn, attrs: dict):
        unknown = set(attrs) - {"name", "password", "dont-encrypt", "encryption"}
        if unknown:
            raise Trap(f"unknown parameter {sorted(unknown)[0]}")
        identity = next(iter(self.tables["/system/identity"].items.values()))["name"]
        name = attrs.get("name") or f"{identity}-{time.strftime('%Y%m%d-%H%M')}"
        filename = name if name.endswith(".backup") else f"{name}.backup"
        snapshot = {path: (copy.deepcopy(table.items), table.next_id) for path, table in self.tables.items()
                    if not table.menu.dynamic and path != "/file"}
        self.backups[filename] = {"snapshot": snapshot, "password": attrs.get("password", "")}
        files = self.tables["/file"]
        for key in [k for k, v in files.items.items() if v["name"] == filename]:
            del files.items[key]
        size = 20_000 + 180 * sum(len(items) for items, _ in snapshot.values())
        files._store({"name": filename, "type": "backup", "size": str(size), "creation-time": _clock(time.time()),
                      "last-modified": _clock(time.time())})
        self._log("system,info", f"configuration backup saved by {conn.user}")
        return [], {}

    def _backup_load(self, conn, attrs: dict):
        name = attrs.get("name", "")
        if not name:
            raise Trap("missing value(s) of argument(s) name")
        filename = name if name in self.backups else f"{name}.backup"
        backup = self.backups.get(filename)
        if backup is None:
            raise Trap("failure: no such file")
        if backup["password"] and attrs.get("password", "") != backup["password"]:
            raise Trap("failure: wrong password")
        for path, (items, next_id) in backup["snapshot"].items():
            self.tables[path].items = copy.deepcopy(items)
            self.tables[path].next_id = next_id
        self._log("system,info", f"configuration restored by {conn.user}, rebooting")
        raise _Disconnect([], reboot=True)

    # -- /import: a .rsc file from /file, in the subset routers.routeros_script reads ----------------

    def _import(self, conn, attrs: dict):
        unknown = sorted(set(attrs) - {"file-name"})
        if unknown:
            raise Trap(f"unknown parameter {unknown[0]}")
        name = attrs.get("file-name", "")
        if not name:
            raise Trap("missing value(s) of argument(s) file-name")
        item = next((item for item in self.tables["/file"].items.values() if item["name"] == name), None)
        if item is None:
            raise Trap("failure: no such file")
        try:
            lines = routeros_script.parse(item.get("contents", ""))
        except routeros_script.ScriptError as error:
            raise Trap(error.message) from None
        for line in lines:  # a router parses the whole file before running any of it
            if line.menu not in MENU_BY_PATH:
                raise Trap(f"bad command name {line.menu} (line {line.number})")
        for line in lines:
            try:
                self._run_statement(conn, line.menu, line.statement)
            except Trap as trap:
                self._log("system,error", f"script {name} failed at line {line.number}: {trap.message}")
                raise Trap(f"{trap.message} (line {line.number})", trap.category) from None
        self._log("system,info", f"script {name} imported by {conn.user}")
        return [], {}

    def _run_statement(self, conn, menu: str, statement) -> None:
        if isinstance(statement, routeros_script.If):
            count = len(self._script_find(menu, statement.find))
            holds = count == statement.number if statement.op == "=" else count > statement.number
            branch = statement.then if holds else statement.otherwise
            if branch is not None:
                self._run_statement(conn, menu, branch)
            return
        args = {}
        for key, value in statement.args.items():
            if isinstance(value, routeros_script.Pick):
                found = self._script_find(menu, value.find)
                if not found:
                    raise Trap(f"invalid value for argument {key}")
                value = found[0]
            args[key] = value
        if isinstance(statement.target, routeros_script.Find):
            ids = self._script_find(menu, statement.target)
            if not ids:  # set/remove on an empty list does nothing, as on a router
                return
            args[".id"] = ",".join(ids)
        elif statement.target is not None:
            args["numbers"] = statement.target
        result = self._dispatch(conn, f"{menu}/{statement.verb}", args, [])
        if isinstance(result, Stream):
            raise Trap("failure: a streaming command cannot run from a script")

    def _script_find(self, menu: str, find) -> list[str]:
        table = self.tables[menu]
        # A script writes booleans as yes/no; the API shows them as true/false.
        queries = [f"?{key}={ {'yes': 'true', 'no': 'false'}.get(value, value)}" for key, value in find.where.items()]
        return [item_id for item_id in table.items if _matches(table.render(item_id), queries)]

    # -- the router's own values ---------------------------------------------------------------

    def _resource(self) -> dict:
        now = self.uptime
        total = 128 * 1024 * 1024
        load = int(6 + 5 * math.sin(now / 11 + self._phase) + self.rng.random() * 3)
        used = int(total * (0.32 + 0.02 * math.sin(now / 37 + self._phase)))
        return {
            "uptime": format_duration(now), "version": self.version, "build-time": "2024-11-18 11:34:46",
            "factory-software": "6.41", "free-memory": str(total - used), "total-memory": str(total),
            "cpu": "ARMv7", "cpu-count": "4", "cpu-frequency": "716", "cpu-load": str(max(load, 0)),
            "free-hdd-space": "2179072", "total-hdd-space": "16777216", "write-sect-since-reboot": "312",
            "write-sect-total": "84210", "bad-blocks": "0", "architecture-name": self.architecture,
            "board-name": self.board_name, "platform": "MikroTik",
        }

    def _live(self, path: str, item: dict) -> dict:
        """Values that move with time, computed when printed."""
        if path == "/interface" and "_rx_mean" in item:
            now = self.uptime
            rx, tx = int(_bytes(item, "_rx", now)), int(_bytes(item, "_tx", now))
            return {"rx-byte": str(rx), "tx-byte": str(tx), "rx-packet": str(rx // 900),
                    "tx-packet": str(tx // 900), "fp-rx-byte": str(rx // 3), "fp-tx-byte": str(tx // 3),
                    "fp-rx-packet": str(rx // 2700), "fp-tx-packet": str(tx // 2700)}
        if path == "/ip/hotspot/active":
            elapsed = time.monotonic() - float(item["_since"])
            bytes_in, bytes_out = int(elapsed * float(item["_rate_in"])), int(elapsed * float(item["_rate_out"]))
            return {"uptime": format_duration(elapsed), "bytes-in": str(bytes_in), "bytes-out": str(bytes_out),
                    "packets-in": str(bytes_in // 700), "packets-out": str(bytes_out // 1100)}
        if path == "/ppp/active":
            return {"uptime": format_duration(time.monotonic() - float(item["_since"]))}
        return {}

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
            now = _clock(time.time())
            return {"type": props.get("type") or f"{props['name'].rpartition('.')[2] or 'file'} file",
                    "size": str(len(props.get("contents", "").encode())),
                    "creation-time": props.get("creation-time") or now, "last-modified": now}
        if path == "/ip/firewall/address-list" and "creation-time" not in props:
            return {"creation-time": _clock(time.time())}
        return {}

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
        logs._store({"time": _clock(time.time()), "topics": topics, "message": message})
        while len(logs.items) > LOG_LINES:
            logs.items.pop(next(iter(logs.items)))

    def _mac(self) -> str:
        return "48:8F:5A:" + ":".join(f"{self.rng.randrange(256):02X}" for _ in range(3))

    def _make_tls(self) -> ssl.SSLContext:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.identity)])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=365))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                            x509.IPAddress(ipaddress.ip_address(self.host))]), False)
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
                .sign(key, hashes.SHA256()))
        self.certificate_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
        key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.NamedTemporaryFile("w", suffix=".pem") as pem:  # load_cert_chain reads files only
            pem.write(self.certificate_pem + key_pem)
            pem.flush()
            context.load_cert_chain(pem.name)
        return context

    # -- a fresh router ------------------------------------------------------------------------

    def _seed(self) -> None:
        rng = self.rng
        self._phase = rng.random() * 6.28
        t = self.tables

        def add(path, **props):
            return t[path]._store({_dash(key): value for key, value in props.items()})

        t["/system/identity"]._store({"name": self.identity})
        t["/system/routerboard"]._store({
            "routerboard": "true", "board-name": self.board_name, "model": self.model, "revision": "r2",
            "serial-number": "".join(rng.choice("0123456789ABCDEF") for _ in range(12)),
            "firmware-type": "ipq4000L", "factory-firmware": "6.45.9", "current-firmware": self.version.split()[0],
            "upgrade-firmware": self.version.split()[0]})
        for group, policy in DEFAULT_GROUP_POLICIES.items():
            add("/user/group", name=group, policy=policy)
        add("/user", name=self.username, group="full", password=self.password, comment="system default user")

        # Interfaces: the WAN on ether1, a LAN bridge over ether2..5 and wlan1; cables in ether1, ether2, wlan1.
        link_up = _clock(time.time() - self.initial_uptime)
        wan = rng.uniform(150_000, 600_000)  # mean bytes/s downloaded over the WAN
        interfaces = [("ether1", "ether", wan, wan / 6), ("ether2", "ether", wan / 20, wan / 25),
                      ("ether3", "ether", 0, 0), ("ether4", "ether", 0, 0), ("ether5", "ether", 0, 0),
                      ("wlan1", "wlan", wan / 6, wan * 0.8), ("bridge", "bridge", wan / 5, wan * 0.85)]
        for name, kind, tx_mean, rx_mean in interfaces:
            # ether1's download is its rx; the LAN side sends that download on to the customers (tx).
            rx_mean, tx_mean = (tx_mean, rx_mean) if name == "ether1" else (rx_mean, tx_mean)
            running = "true" if rx_mean else "false"
            in_bridge = name not in ("ether1", "bridge")
            add("/interface", name=name, default_name=name if kind != "bridge" else "", type=kind,
                l2mtu="1598" if kind != "wlan" else "1600", mac_address=self._mac(), running=running,
                last_link_up_time=link_up if running == "true" else "", slave="true" if in_bridge else "false",
                comment="defconf" if name == "bridge" else "",
                _rx_mean=str(rx_mean), _tx_mean=str(tx_mean), _rx_phase=str(rng.random() * 6.28),
                _tx_phase=str(rng.random() * 6.28))
        bridge_mac = t["/interface"].rows(name="bridge")[0]["mac-address"]
        add("/interface/bridge", name="bridge", admin_mac=bridge_mac, mac_address=bridge_mac, comment="defconf")
        for port in ("ether2", "ether3", "ether4", "ether5", "wlan1"):
            add("/interface/bridge/port", interface=port, bridge="bridge", comment="defconf",
                inactive="false" if port in ("ether2", "wlan1") else "true")

        add("/ip/address", address="192.168.88.1/24", network="192.168.88.0", interface="bridge",
            actual_interface="bridge", comment="defconf")
        add("/ip/address", address="10.5.50.1/24", network="10.5.50.0", interface="bridge", actual_interface="bridge",
            comment="hotspot network")
        add("/ip/pool", name="default-dhcp", ranges="192.168.88.10-192.168.88.254")
        add("/ip/pool", name="hs-pool-1", ranges="10.5.50.2-10.5.50.254")
        for name, port in (("telnet", "23"), ("ftp", "21"), ("www", "80"), ("ssh", "22"), ("www-ssl", "443"),
                           ("api", "8728"), ("winbox", "8291"), ("api-ssl", "8729")):
            off = name in ("telnet", "ftp", "www-ssl")
            add("/ip/service", name=name, port=port, disabled="true" if off else "false")

        add("/ip/hotspot/profile", name="default", default="true")
        add("/ip/hotspot/profile", name="hsprof1", hotspot_address="10.5.50.1", dns_name="", html_directory="hotspot")
        add("/ip/hotspot/user/profile", name="default", default="true")
        add("/ip/hotspot", name="hotspot1", interface="bridge", address_pool="hs-pool-1", profile="hsprof1")
        add("/ip/hotspot/user", name="admin", password="", comment="counters and limits for trial users")
        add("/ppp/profile", name="default", default="true")
        add("/ppp/profile", name="default-encryption", use_encryption="yes", default="true")
        t["/ppp/aaa"]._store({})
        t["/radius/incoming"]._store({})

        for props in (
            {"chain": "input", "action": "accept", "connection-state": "established,related,untracked",
             "comment": "defconf: accept established,related,untracked"},
            {"chain": "input", "action": "drop", "connection-state": "invalid", "comment": "defconf: drop invalid"},
            {"chain": "input", "action": "accept", "protocol": "icmp", "comment": "defconf: accept ICMP"},
            {"chain": "input", "action": "drop", "in-interface-list": "!LAN", "comment": "defconf: drop all not coming from LAN"},  # noqa: E501
            {"chain": "forward", "action": "fasttrack-connection", "connection-state": "established,related",
             "comment": "defconf: fasttrack"},
            {"chain": "forward", "action": "drop", "connection-state": "invalid", "comment": "defconf: drop invalid"},
        ):
            t["/ip/firewall/filter"]._store(props)
        t["/ip/firewall/nat"]._store({"chain": "srcnat", "action": "masquerade", "out-interface-list": "WAN",
                                      "ipsec-policy": "out,none", "comment": "defconf: masquerade"})
        t["/ip/firewall/nat"]._store({"chain": "dstnat", "action": "jump", "jump-target": "hotspot", "hotspot": "",
                                      "comment": "place hotspot rules here", "dynamic": "true"})
        self._log("system,info", "router rebooted")
        self._log("system,info", f"identity set to {self.identity}")


# --- small pieces -------------------------------------------------------------------------------

def start_fleet(count: int, **config) -> list[RouterOSSimulator]:
    """``count`` simulators, each on its own port; identities ``<identity>-<n>``."""
    base = config.pop("identity", "sim")
    return [RouterOSSimulator(identity=f"{base}-{n}", **config).start() for n in range(1, count + 1)]


def stop_fleet(simulators) -> None:
    for simulator in simulators:
        simulator.stop()


def _version(text: str) -> tuple:
    numbers = text.split()[0].split(".")
    return tuple(int("".join(ch for ch in part if ch.isdigit()) or 0) for part in numbers)


def _parse(words: list[str]) -> tuple[str, dict, list[str], str | None]:
    """(command, attributes, query words, tag) from a sentence."""
    attrs, queries, tag = {}, [], None
    for word in words[1:]:
        if word.startswith("="):
            name, _, value = word[1:].partition("=")  # "=once" (no second "=") is an empty value
            attrs[name] = value
        elif word.startswith("?"):
            queries.append(word)
        elif word.startswith(".tag="):
            tag = word[5:]
        elif word.startswith("."):
            name, _, value = word[1:].partition("=")
            attrs["." + name] = value
    return words[0], attrs, queries, tag


def _dash(name: str) -> str:
    """Python keyword names to RouterOS property names; a leading "_" marks the simulator's own state."""
    return name if name.startswith("_") else name.replace("_", "-")


def _tag_of(words: list[str]) -> str | None:
    return next((word[5:] for word in words if word.startswith(".tag=")), None)


def _words(row: dict) -> list[str]:
    return [f"={name}={value}" for name, value in row.items()]


def _only_ref(attrs: dict) -> dict:
    return {key: value for key, value in attrs.items() if key in (".id", "numbers")}


def _select(rows: list[dict], attrs: dict, queries: list[str]) -> list[dict]:
    if queries:
        rows = [row for row in rows if _matches(row, queries)]
    proplist = attrs.get(".proplist")
    if proplist:
        wanted = proplist.split(",")
        rows = [{name: row[name] for name in wanted if name in row} for row in rows]
    return rows


def _matches(row: dict, queries: list[str]) -> bool:
    """RouterOS query words: a stack of booleans, ANDed at the end."""
    stack: list[bool] = []
    for word in queries:
        body = word[1:]
        if body.startswith("#"):
            for op in body[1:]:
                if op == "!":
                    stack.append(not stack.pop())
                elif op in "&|":
                    right, left = stack.pop(), stack.pop()
                    stack.append(left and right if op == "&" else left or right)
                elif op == ".":
                    stack.append(stack[-1])
                elif op.isdigit():
                    stack.append(stack[int(op)])
            continue
        if body.startswith("-"):
            stack.append(body[1:] not in row)
        elif body[:1] in "<>" and "=" in body:
            name, _, value = body[1:].partition("=")
            have = row.get(name, "")
            try:
                left, right = float(have), float(value)
            except ValueError:
                left, right = have, value
            stack.append(left < right if body[0] == "<" else left > right)
        elif "=" in body:
            name, _, value = body.partition("=")
            have = row.get(name, "")
            if value.lower() in ("yes", "no") and have in ("true", "false"):
                value = "true" if value.lower() == "yes" else "false"
            stack.append(have == value)
        else:
            stack.append(body in row)
    return all(stack)


def _free_name(table: Table, prefix: str) -> str:
    names = {item.get("name") for item in table.items.values()}
    n = 1
    while f"{prefix}{n}" in names:
        n += 1
    return f"{prefix}{n}"


def _clock(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))


# Traffic: rate(t) = mean * (1 + A sin(t/P + phase)); bytes are its integral, so counters and the
# monitor's bits per second agree and counters only ever grow.
_AMPLITUDE, _PERIOD = 0.35, 20.0


def _rate(item: dict, side: str, t: float) -> float:
    return float(item[side + "_mean"]) * (1 + _AMPLITUDE * math.sin(t / _PERIOD + float(item[side + "_phase"])))


def _bytes(item: dict, side: str, t: float) -> float:
    phase = float(item[side + "_phase"])
    return float(item[side + "_mean"]) * (t + _AMPLITUDE * _PERIOD * (math.cos(phase) - math.cos(t / _PERIOD + phase)))


def _wireguard_private_key() -> str:
    from wireguard_tools import WireguardKey

    return str(WireguardKey.generate())


def _wireguard_public_key(private: str) -> str:
    from wireguard_tools import WireguardKey

    try:
        return str(WireguardKey(private).public_key())
    except ValueError:
        raise Trap("invalid private key") from None
