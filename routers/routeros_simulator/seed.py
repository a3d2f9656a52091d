"""What a fresh router holds: a hAP after its default configuration (ether1 the WAN with a DHCP client and
its default route), with a hotspot on ``bridge``; or,
``factory_default``, a router with nothing but a DHCP client on its WAN port (ether1)."""
import time
import zlib

from .clock import clock
from .table import dash

DEFAULT_GROUP_POLICIES = {
    "read": "local,telnet,ssh,reboot,read,test,winbox,password,web,sniff,sensitive,api,romon,rest-api",
    "write": "local,telnet,ssh,reboot,read,write,test,winbox,password,web,sniff,sensitive,api,romon,rest-api",
    "full": "local,telnet,ssh,ftp,reboot,read,write,policy,test,winbox,password,web,sniff,sensitive,api,romon,"
            "rest-api",
}


def seed_router(sim) -> None:
    """Fill a new RouterOSSimulator's tables as a fresh router's are; its traffic phases from its rng."""
    rng = sim.rng
    sim._phase = rng.random() * 6.28
    t = sim.tables

    def add(path, **props):
        return t[path]._store({dash(key): value for key, value in props.items()})

    t["/system/identity"]._store({"name": sim.identity})
    t["/system/routerboard"]._store({
        "routerboard": "true", "board-name": sim.board_name, "model": sim.model, "revision": "r2",
        "serial-number": "".join(rng.choice("0123456789ABCDEF") for _ in range(12)),
        "firmware-type": "ipq4000L", "factory-firmware": "6.45.9", "current-firmware": sim.version.split()[0],
        "upgrade-firmware": sim.version.split()[0]})
    for group, policy in DEFAULT_GROUP_POLICIES.items():
        add("/user/group", name=group, policy=policy)
    add("/user", name=sim.username, group="full", password=sim.password, comment="system default user")
    if sim.factory_default:
        _seed_factory_default(sim, add)
        return

    # Interfaces: the WAN on ether1, a LAN bridge over ether2..5 and wlan1; cables in ether1, ether2, wlan1.
    link_up = clock(time.time() - sim.initial_uptime)
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
            l2mtu="1598" if kind != "wlan" else "1600", mac_address=sim._mac(), running=running,
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
    # The WAN: ether1 leased its address upstream (the default configuration's DHCP client); its host
    # from the identity, not the rng, so the draws after it (MACs, phases) stay as they were.
    _wan_lease(add, 2 + zlib.crc32(sim.identity.encode()) % 248)
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
    t["/ip/dns"]._store({"allow-remote-requests": "true"})

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
    sim._log("system,info", "router rebooted")
    sim._log("system,info", f"identity set to {sim.identity}")


def _seed_factory_default(sim, add) -> None:
    """ether1 leased an address from the ISP upstream (a dynamic address and default route), ether2..5
    free and not bridged; no hotspot, pool, DHCP server, NAT or firewall rule; the DNS resolver
    answers the router only."""
    rng, t = sim.rng, sim.tables
    link_up = clock(time.time() - sim.initial_uptime)
    wan = rng.uniform(150_000, 600_000)
    for name in ("ether1", "ether2", "ether3", "ether4", "ether5"):
        rx_mean, tx_mean = (wan, wan / 6) if name == "ether1" else (0, 0)
        running = "true" if name == "ether1" else "false"
        add("/interface", name=name, default_name=name, type="ether", mac_address=sim._mac(), running=running,
            last_link_up_time=link_up if running == "true" else "", slave="false",
            _rx_mean=str(rx_mean), _tx_mean=str(tx_mean), _rx_phase=str(rng.random() * 6.28),
            _tx_phase=str(rng.random() * 6.28))
    host = rng.randrange(2, 250)
    _wan_lease(add, host)
    for name, port in (("telnet", "23"), ("ftp", "21"), ("www", "80"), ("ssh", "22"), ("www-ssl", "443"),
                       ("api", "8728"), ("winbox", "8291"), ("api-ssl", "8729")):
        add("/ip/service", name=name, port=port, disabled="true" if name in ("telnet", "ftp", "www-ssl") else "false")
    t["/ip/dns"]._store({"dynamic-servers": "192.168.1.1"})
    add("/ip/hotspot/profile", name="default", default="true")
    add("/ip/hotspot/user/profile", name="default", default="true")
    add("/ppp/profile", name="default", default="true")
    add("/ppp/profile", name="default-encryption", use_encryption="yes", default="true")
    t["/ppp/aaa"]._store({})
    t["/radius/incoming"]._store({})
    sim._log("system,info", "router rebooted")
    sim._log("system,info", "dhcp-client on ether1 got IP address 192.168.1.%d" % host)


def _wan_lease(add, host: int) -> None:
    """ether1's DHCP client bound upstream (192.168.1.0/24): its dynamic address, the default route
    through the ISP's gateway and the connected route, as a real router's WAN shows them."""
    add("/ip/dhcp-client", interface="ether1", status="bound", address=f"192.168.1.{host}/24", gateway="192.168.1.1",
        dhcp_server="192.168.1.1", primary_dns="192.168.1.1", expires_after="23h51m", comment="defconf")
    add("/ip/address", address=f"192.168.1.{host}/24", network="192.168.1.0", interface="ether1",
        actual_interface="ether1", dynamic="true")
    add("/ip/route", dst_address="0.0.0.0/0", gateway="192.168.1.1", immediate_gw="192.168.1.1%ether1",
        distance="1", active="true", dynamic="true", static="false", dhcp="true")
    add("/ip/route", dst_address="192.168.1.0/24", gateway="ether1", immediate_gw="ether1", distance="0",
        scope="10", pref_src=f"192.168.1.{host}", active="true", dynamic="true", static="false", connect="true")
