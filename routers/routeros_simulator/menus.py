"""The menus the simulated router has: each one's properties with their defaults, which are required,
read-only or unique, what they refer to, and which commands it takes."""
from dataclasses import dataclass, field


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
    unique_also: tuple = ()     # a second combination that must be unique (a server's interface)
    # property -> the values a comma-separated list may hold (login-by, authentication, service)
    choices: dict = field(default_factory=dict)
    # Servers RouterOS adds disabled unless told disabled=no (their exports always say disabled=no).
    added_disabled: bool = False

    @property
    def booleans(self) -> set:
        return {name for name, default in self.fields.items() if default in ("true", "false")}


def _fields(spec: str, **more) -> dict:
    """``"name= disabled=false"`` -> {"name": "", "disabled": "false"}."""
    fields = dict(item.split("=", 1) for item in spec.split())
    fields.update({key.replace("_", "-"): value for key, value in more.items()})
    return fields


COMMON = "comment= disabled=false"
PPP_AUTHENTICATION = ("pap", "chap", "mschap1", "mschap2")
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
         duplicate="failure: device already added as bridge port",
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
        refs={"interface": ("/interface", ()), "default-profile": ("/ppp/profile", ())},
        choices={"authentication": PPP_AUTHENTICATION}, added_disabled=True, noun="pppoe server"),
    Menu("/ip/address", _fields("address= network= interface= actual-interface= invalid=false dynamic=false " + COMMON),
         required=("address", "interface"), read_only=("actual-interface", "invalid", "dynamic"),
         unique=("address", "interface"), duplicate="failure: already have such address",
         refs={"interface": ("/interface", ())}, noun="address"),
    Menu("/ip/dhcp-client", _fields(
        "interface= add-default-route=yes default-route-distance=1 use-peer-dns=true use-peer-ntp=true "
        "dhcp-options=hostname,clientid script= status=searching... address= gateway= dhcp-server= primary-dns= "
        "expires-after= invalid=false dynamic=false " + COMMON),
        required=("interface",), unique=("interface",), refs={"interface": ("/interface", ())},
        read_only=("status", "address", "gateway", "dhcp-server", "primary-dns", "expires-after", "invalid", "dynamic"),
        duplicate="failure: dhcp-client on that interface already exists", noun="dhcp client"),
    Menu("/ip/route", _fields(
        "dst-address=0.0.0.0/0 gateway= immediate-gw= distance=1 scope=30 target-scope=10 routing-table=main "
        "pref-src= active=false dynamic=false static=true dhcp=false connect=false " + COMMON),
        read_only=("immediate-gw", "active", "dynamic", "static", "dhcp", "connect"), noun="route"),
    Menu("/ip/dhcp-server", _fields(
        "name= interface= address-pool=static-only lease-time=30m authoritative=yes add-arp=false "
        "always-broadcast=false bootp-support=static conflict-detection=true lease-script= use-radius=no "
        "invalid=false dynamic=false " + COMMON),
        required=("interface",), read_only=("invalid", "dynamic"), unique=("name",), unique_also=("interface",),
        auto_name="dhcp", duplicate="failure: already have DHCP server for this interface", added_disabled=True,
        refs={"interface": ("/interface", ()), "address-pool": ("/ip/pool", ("static-only",))}, noun="dhcp server"),
    Menu("/ip/dhcp-server/network", _fields(
        "address= gateway= netmask= dns-server= domain= ntp-server= wins-server= next-server= boot-file-name= "
        "dhcp-option= dynamic=false comment="),
        required=("address",), read_only=("dynamic",), unique=("address",),
        duplicate="failure: already have such network", commands=("print", "add", "set", "remove", "unset"),
        noun="dhcp network"),
    # /ip/dns: the router's resolver; allow-remote-requests lets clients use it (port 53 from anywhere:
    # a firewall rule must keep the WAN out).
    Menu("/ip/dns", _fields(
        "servers= dynamic-servers= use-doh-server= verify-doh-cert=false allow-remote-requests=false "
        "max-udp-packet-size=4096 query-server-timeout=2s query-total-timeout=10s max-concurrent-queries=100 "
        "max-concurrent-tcp-sessions=20 cache-size=2048KiB cache-max-ttl=1w cache-used=24KiB"),
        read_only=("dynamic-servers", "cache-used"), singleton=True, commands=("print", "set"), noun="dns"),
    Menu("/ip/pool", _fields("name= ranges= next-pool=none comment="), required=("name", "ranges"),
         unique=("name",), commands=("print", "add", "set", "remove", "unset"), noun="pool"),
    Menu("/ip/service", _fields("name= port= address= certificate=none tls-version=any vrf=main max-sessions=20 "
                                "invalid=false disabled=false"),
         read_only=("name", "invalid"), commands=("print", "set", "enable", "disable", "unset"), noun="service"),
    Menu("/ip/hotspot", _fields(
        "name= interface= address-pool=none profile=default idle-timeout=5m keepalive-timeout=none "
        "login-timeout=none addresses-per-mac=unlimited proxy-status= invalid=false HTTPS=false " + COMMON),
        required=("interface",), read_only=("proxy-status", "invalid", "HTTPS"), unique=("name",), auto_name="server",
        unique_also=("interface",), added_disabled=True,
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
        choices={"login-by": ("mac", "cookie", "http-chap", "https", "http-pap", "trial", "mac-cookie")},
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
        choices={name: ("yes", "no", "default") for name in (
            "only-one", "change-tcp-mss", "use-compression", "use-encryption", "use-mpls", "use-upnp")},
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
        required=("address",), choices={"service": ("ppp", "login", "hotspot", "wireless", "dhcp", "ipsec", "dot1x")},
        noun="radius client"),
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


def noun(menu: Menu) -> str:
    return menu.noun or menu.path.rsplit("/", 1)[-1].replace("-", " ")
