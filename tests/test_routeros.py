"""The RouterOS adapter through the real routeros-api client against the simulator: the wire format,
login, menus, refusals, dead and rebooting routers, and hundreds of routers in one process."""
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import routeros_api
from routeros_api import base_api
from routeros_api.api_socket import SocketWrapper

from routers.routeros import RouterAuthFailed, RouterClient, RouterCommandRefused, RouterUnreachable, parse_duration
from routers.routeros_simulator import (
    RouterOSSimulator,
    decode_length,
    encode_length,
    start_fleet,
    stop_fleet,
)

PASSWORD = "kilimani-api-secret"


@pytest.fixture
def router():
    """The Kilimani hotspot's hAP, fresh from its default configuration."""
    with RouterOSSimulator(identity="Kilimani Hotspot", password=PASSWORD, reboot_seconds=0.6) as running:
        yield running


def client(sim, **overrides) -> RouterClient:
    options = {"username": "admin", "password": PASSWORD, "timeout": 2.0, **overrides}
    return RouterClient(sim.host, sim.port, **options)


class RawConnection:
    """routeros-api's own framing over a bare socket, for what its high-level API hides (tags, cancel)."""

    def __init__(self, sim):
        sock = socket.create_connection(sim.address, timeout=2)
        self.sock = sock
        self.connection = base_api.Connection(SocketWrapper(sock))

    def send(self, *words: str) -> None:
        self.connection.send_sentence([word.encode() for word in words])

    def receive(self) -> list[str]:
        return [word.decode() for word in self.connection.receive_sentence()]

    def close(self):
        self.sock.close()


# --- the wire format -------------------------------------------------------------------------------

@pytest.mark.parametrize("length", [0, 1, 0x7F, 0x80, 0x3FFF, 0x4000, 0x1FFFFF, 0x200000, 0xFFFFFFF, 0x10000000,
                                    0xFFFFFFFF])
def test_it_encodes_every_length_range_as_routeros_api_does(length):
    encoded = encode_length(length)
    assert encoded == base_api.encode_length(length)
    assert decode_length(encoded) == (length, len(encoded))
    stream = iter(encoded)
    assert base_api.decode_length(lambda n: bytes([next(stream)])) == length


@pytest.mark.parametrize("size", [200, 20_000, 3_000_000])  # two, three and four length bytes
def test_it_round_trips_long_words(router, size):
    comment = ("hotspot customer note " * (size // 22 + 1))[:size]
    with client(router) as api:
        item_id = api.add("/ip/firewall/address-list", list="paid", address="10.5.50.23", comment=comment)
        [row] = api.print("/ip/firewall/address-list", id=item_id)
    assert row["comment"] == comment
    assert router.table("/ip/firewall/address-list").rows(address="10.5.50.23")[0]["comment"] == comment


def test_it_echoes_tags_and_leaves_untagged_replies_untagged(router):
    raw = RawConnection(router)
    raw.send("/login", "=name=admin", f"=password={PASSWORD}", ".tag=login")
    assert raw.receive() == ["!done", ".tag=login"]
    raw.send("/system/identity/print")
    assert raw.receive() == ["!re", "=name=Kilimani Hotspot"]
    assert raw.receive() == ["!done"]
    raw.close()


def test_it_answers_interleaved_tagged_commands_to_the_right_caller(router):
    """routeros-api tags every command; two in flight at once come back each to its own promise."""
    pool = routeros_api.RouterOsApiPool(router.host, "admin", PASSWORD, port=router.port, plaintext_login=True)
    api = pool.get_api()
    interfaces = api.get_resource("/interface").get_async()
    identity = api.get_resource("/system/identity").get_async()
    assert identity.get() == [{"name": "Kilimani Hotspot"}]
    assert [row["name"] for row in interfaces.get()][:2] == ["ether1", "ether2"]
    pool.disconnect()


def test_it_streams_a_monitor_until_cancelled(router):
    raw = RawConnection(router)
    raw.send("/login", "=name=admin", f"=password={PASSWORD}")
    assert raw.receive() == ["!done"]
    raw.send("/interface/monitor-traffic", "=interface=ether1", ".tag=watch")
    first = raw.receive()
    assert first[0] == "!re" and "=name=ether1" in first and first[-1] == ".tag=watch"
    raw.send("/cancel", "=tag=watch", ".tag=stop")
    replies = [raw.receive() for _ in range(3)]
    assert ["!trap", "=category=2", "=message=interrupted", ".tag=watch"] in replies
    assert ["!done", ".tag=watch"] in replies and ["!done", ".tag=stop"] in replies
    raw.close()


# --- login ------------------------------------------------------------------------------------------

def test_it_logs_in_and_reads_the_router(router):
    with client(router) as api:
        assert api.identity() == "Kilimani Hotspot"
        resource = api.resource()
        board = api.routerboard()
    assert resource["version"] == "7.16.2 (stable)" and resource["board_name"] == "hAP ac^2"
    assert resource["uptime_seconds"] > 3 * 86400 and 0 < resource["free_memory"] < resource["total_memory"]
    assert board["routerboard"] and board["model"] == "RBD52G-5HacD2HnD" and len(board["serial_number"]) == 12
    assert router.logins == 1


def test_a_wrong_password_is_auth_failed(router):
    with pytest.raises(RouterAuthFailed) as caught:
        client(router, password="guess").connect()
    assert caught.value.message == "invalid user name or password (6)"
    assert caught.value.reason == "auth_failed" and not caught.value.retryable
    assert "login failure for user admin" in router.table("/log").rows()[-1]["message"]


def test_it_logs_in_to_an_old_router_with_the_md5_challenge():
    with RouterOSSimulator(version="6.40.9 (bugfix)", password=PASSWORD) as old:
        with client(old) as api:
            assert api.identity() == "MikroTik"


def test_an_api_user_added_by_provisioning_can_log_in(router):
    with client(router) as api:
        api.add("/user/group", name="billing", policy="read,write,api,test")
        api.add("/user", name="billing-api", group="billing", password="s3cret")
        assert "password" not in api.print("/user", name="billing-api")[0]
    with client(router, username="billing-api", password="s3cret") as api:
        assert api.identity() == "Kilimani Hotspot"


# --- menus ------------------------------------------------------------------------------------------

def test_print_filters_by_query_and_proplist(router):
    with client(router) as api:
        ethernet = api.print("/interface", proplist=("name", "running"), type="ether")
        down = api.print("/interface", type="ether", running=False)
        hotspot = api.print("/ip/hotspot", name="hotspot1")
    assert [row["name"] for row in ethernet] == ["ether1", "ether2", "ether3", "ether4", "ether5"]
    assert set(ethernet[0]) == {"name", "running"}
    assert [row["name"] for row in down] == ["ether3", "ether4", "ether5"]
    assert hotspot[0]["interface"] == "bridge" and hotspot[0]["profile"] == "hsprof1"


def test_add_set_remove_read_back(router):
    with client(router) as api:
        radius_id = api.add("/radius", address="10.99.0.1", secret="s", service="hotspot,ppp", comment="hotspot-isp")
        assert radius_id.startswith("*")
        api.set("/radius", radius_id, timeout="3s", comment="")
        [row] = api.print("/radius", comment="", address="10.99.0.1")
        assert row["timeout"] == "3s" and "comment" not in row  # "=comment=" clears it
        api.set("/radius/incoming", None, accept=True)
        assert api.print("/radius/incoming") == [{"accept": "true", "port": "3799", "vrf": "main"}]
        api.call("/ip/hotspot/profile", "set", numbers="hsprof1", use_radius=True)
        assert api.print("/ip/hotspot/profile", name="hsprof1")[0]["use-radius"] == "true"
        api.remove("/radius", radius_id)
        assert api.print("/radius") == []


def test_the_router_refuses_what_routeros_would(router):
    with client(router) as api:
        api.add("/ip/firewall/address-list", list="paid", address="10.5.50.9")
        refusals = {}
        for attempt, call in {
            "duplicate": lambda: api.add("/ip/firewall/address-list", list="paid", address="10.5.50.9"),
            "missing": lambda: api.add("/ip/address", address="10.8.0.1/24"),
            "unknown": lambda: api.add("/radius", address="10.99.0.1", colour="blue"),
            "reference": lambda: api.add("/ip/hotspot/user", name="u1", profile="no-such-profile"),
            "item": lambda: api.remove("/ip/hotspot/walled-garden", "*99"),
            "path": lambda: api.print("/ip/frobnicate"),
        }.items():
            with pytest.raises(RouterCommandRefused) as caught:
                call()
            refusals[attempt] = caught.value.message
        assert api.identity() == "Kilimani Hotspot"  # a refusal leaves the connection usable
    assert refusals == {
        "duplicate": "failure: already have such entry", "missing": "missing value(s) of argument(s) interface",
        "unknown": "unknown parameter colour", "reference": "input does not match any value of profile",
        "item": "no such item", "path": "no such command prefix",
    }


def test_a_refused_command_carries_the_routers_message(router):
    router.refuse["/radius/add"] = "failure: radius client already exists"
    with client(router) as api:
        with pytest.raises(RouterCommandRefused) as caught:
            api.add("/radius", address="10.99.0.1", secret="s", service="hotspot")
    assert caught.value.message == "failure: radius client already exists"
    assert caught.value.command == "/radius/add" and caught.value.reason == "refused"
    assert not caught.value.retryable


def test_routeros_7_18_empty_replies_read_as_no_rows():
    with RouterOSSimulator(version="7.18.2 (stable)", password=PASSWORD) as newer:
        with client(newer) as api:
            assert api.print("/ip/hotspot/active") == []


def test_wireguard_interface_and_peer(router):
    with client(router) as api:
        api.add("/interface/wireguard", name="wg-isp", listen_port=13231)
        [wg] = api.print("/interface/wireguard", name="wg-isp")
        peer = api.add("/interface/wireguard/peers", interface="wg-isp", public_key=wg["public-key"],
                       allowed_address="10.200.0.1/32", endpoint_address="203.0.113.5", endpoint_port=51820,
                       persistent_keepalive="25s", comment="hotspot-isp")
        [row] = api.print("/interface/wireguard/peers", id=peer)
        assert [i["type"] for i in api.interfaces() if i["name"] == "wg-isp"] == ["wg"]
        with pytest.raises(RouterCommandRefused):
            api.add("/interface/wireguard/peers", interface="wg-isp", public_key="not-a-key")
    assert len(wg["public-key"]) == 44 and row["allowed-address"] == "10.200.0.1/32"


# --- live data --------------------------------------------------------------------------------------

def test_traffic_counters_move_between_reads(router):
    with client(router) as api:
        before = {row["name"]: row for row in api.interfaces()}
        time.sleep(0.3)
        after = {row["name"]: row for row in api.interfaces()}
        rates = api.traffic(["ether1", "ether3"])
    assert after["ether1"]["rx_bytes"] > before["ether1"]["rx_bytes"]
    assert after["bridge"]["tx_bytes"] > before["bridge"]["tx_bytes"]
    assert after["ether3"]["rx_bytes"] == before["ether3"]["rx_bytes"] == 0  # no cable
    assert rates["ether1"]["rx_bps"] > 0 and rates["ether3"] == {"rx_bps": 0, "tx_bps": 0}


def test_kicking_a_hotspot_user_ends_the_session(router):
    router.login_hotspot("254712345678", address="10.5.50.23", uptime=600)
    router.login_hotspot("254700000001")
    with client(router) as api:
        [session] = [s for s in api.hotspot_active() if s["user"] == "254712345678"]
        assert session["uptime_seconds"] >= 600 and session["bytes_out"] > 0 and session["radius"]
        assert api.kick_hotspot(user="254712345678") == 1
        assert api.kick_hotspot(user="254712345678") == 0
        assert api.kick_hotspot(id=session["id"]) == 0  # gone already: no error
        assert [s["user"] for s in api.hotspot_active()] == ["254700000001"]
    assert "254712345678 (10.5.50.23): logged out: admin reset" in [r["message"] for r in router.table("/log").rows()]


def test_kicking_a_ppp_session(router):
    router.login_ppp("pppoe-wanjiru", uptime=3600)
    with client(router) as api:
        [session] = api.ppp_active()
        assert session["name"] == "pppoe-wanjiru" and session["uptime_seconds"] >= 3600
        assert api.kick_ppp(name="pppoe-wanjiru") == 1
        assert api.ppp_active() == []


def test_a_ppp_session_counts_its_bytes_on_its_dynamic_interface_from_login_to_logout(router):
    router.login_ppp("254711000111", rate_in=20_000, rate_out=200_000)
    router.login_ppp("254711000222")
    with client(router) as api:
        def links():
            return {row["name"]: row for row in api.print("/interface", proplist=("name", "type", "dynamic",
                                                                                   "rx-byte", "tx-byte"))
                    if row["type"] == "pppoe-in"}
        before = links()
        assert set(before) == {"<pppoe-254711000111>", "<pppoe-254711000222>"}
        assert before["<pppoe-254711000111>"]["dynamic"] == "true"
        time.sleep(0.3)
        after = links()["<pppoe-254711000111>"]
        # The customer's download is the router's tx on the link, counted from the login.
        moved = int(after["tx-byte"]) - int(before["<pppoe-254711000111>"]["tx-byte"])
        assert 0 < int(after["rx-byte"]) < int(after["tx-byte"]) < 200_000 * 5 and moved > 0
        assert api.kick_ppp(name="254711000111") == 1
        assert set(links()) == {"<pppoe-254711000222>"}
    router.logout_ppp("254711000222")
    assert router.table("/ppp/active").rows() == [] and not router.table("/interface").rows(type="pppoe-in")


def test_the_default_configuration_has_a_wan_a_dhcp_client_on_ether1_with_its_default_route(router):
    [lease] = router.table("/ip/dhcp-client").rows()
    assert (lease["interface"], lease["status"]) == ("ether1", "bound")
    [default] = router.table("/ip/route").rows(dst_address="0.0.0.0/0")
    assert default["immediate-gw"] == "192.168.1.1%ether1" and default["dhcp"] == "true"
    assert [row["interface"] for row in router.table("/ip/address").rows(dynamic="true")] == ["ether1"]
    assert [row["interface"] for row in router.table("/ip/hotspot").rows()] == ["bridge"]


def test_logs_are_the_newest_lines(router):
    with client(router) as api:
        api.set("/system/identity", None, name="Kilimani Tower")
        logs = api.logs(limit=2)
    assert len(logs) == 2 and logs[-1]["message"] == "identity changed by admin"


# --- failure ------------------------------------------------------------------------------------------

def test_a_silent_router_is_unreachable_within_the_timeout():
    with RouterOSSimulator(dead="silent", password=PASSWORD) as dead:
        started = time.monotonic()
        with pytest.raises(RouterUnreachable) as caught:
            client(dead, timeout=0.5).connect()
    assert time.monotonic() - started < 1.5
    assert caught.value.message == "timed out" and caught.value.retryable


def test_a_refusing_port_is_unreachable_at_once():
    with RouterOSSimulator(dead="refused") as dead:
        started = time.monotonic()
        with pytest.raises(RouterUnreachable) as caught:
            client(dead).connect()
    assert time.monotonic() - started < 0.5
    assert "refused" in caught.value.message.lower()


def test_a_command_that_never_answers_times_out_and_ends_the_connection(router):
    router.hang.add("/ip/hotspot/active/print")
    with client(router, timeout=0.4) as api:
        with pytest.raises(RouterUnreachable, match="timed out"):
            api.hotspot_active()
        with pytest.raises(RouterUnreachable, match="not connected"):
            api.identity()


def test_a_dropped_connection_mid_command_is_unreachable(router):
    router.drop.add("/interface/print")
    with client(router) as api:
        with pytest.raises(RouterUnreachable):
            api.interfaces()


def test_a_fatal_reply_ends_the_connection(router):
    """RouterOS sends ``!fatal`` and a bare reason word, which routeros-api cannot even parse."""
    with client(router) as api:
        with pytest.raises(RouterUnreachable):
            api.call("/", "quit")


def test_a_router_going_dead_and_coming_back(router):
    with client(router) as api:
        router.set_dead("refused")
        with pytest.raises(RouterUnreachable):
            api.identity()
    router.set_dead(None)
    with client(router) as api:
        assert api.identity() == "Kilimani Hotspot"


def test_reboot_drops_refuses_then_returns_with_uptime_reset(router):
    router.login_hotspot("254712345678")
    with client(router) as api:
        api.reboot()
    started = time.monotonic()
    with pytest.raises(RouterUnreachable):
        client(router).connect()
    while time.monotonic() - started < 5:
        try:
            with client(router) as api:
                resource = api.resource()
                active = api.hotspot_active()
            break
        except RouterUnreachable:
            time.sleep(0.1)
    else:
        pytest.fail("the router did not come back")
    assert time.monotonic() - started >= 0.4
    assert resource["uptime_seconds"] < 5 and active == [] and router.reboots == 1


def test_restoring_a_backup_brings_back_the_saved_configuration(router):
    with client(router) as api:
        filename = api.backup("before-provisioning")
        api.set("/system/identity", None, name="Changed")
        api.add("/ip/hotspot/walled-garden", dst_host="*.safaricom.co.ke", comment="hotspot-isp")
        assert [f["name"] for f in api.print("/file", type="backup")] == ["before-provisioning.backup"]
        api.restore(filename)
    deadline = time.monotonic() + 5
    while True:
        try:
            with client(router) as api:
                assert api.identity() == "Kilimani Hotspot"
                assert api.print("/ip/hotspot/walled-garden") == []
                break
        except RouterUnreachable:
            assert time.monotonic() < deadline, "the router did not come back"
            time.sleep(0.1)


def test_tls_with_the_routers_certificate():
    with RouterOSSimulator(tls=True, password=PASSWORD) as secure:
        with client(secure, use_tls=True, tls_ca=secure.certificate_pem) as api:
            assert api.identity() == "MikroTik"
        with pytest.raises(RouterUnreachable, match="TLS"):
            client(secure, use_tls=True).connect()  # not a certificate anyone vouches for
        with client(secure, use_tls=True, tls_verify=False) as api:
            assert api.identity() == "MikroTik"


def test_durations_parse_in_every_routeros_form():
    assert parse_duration("1w2d3h4m5s") == 788645
    assert parse_duration("1d02:03:04") == 93784
    assert parse_duration("00:05:00") == 300
    assert parse_duration("300ms") == 0 and parse_duration("") == 0


# --- scale ------------------------------------------------------------------------------------------

def test_two_hundred_routers_in_one_process_answer_at_once():
    started = time.monotonic()
    fleet = start_fleet(200, identity="site", password=PASSWORD, latency_ms=20)
    try:
        booted = time.monotonic()

        def identity(sim):
            with client(sim, timeout=5) as api:
                return api.identity()

        with ThreadPoolExecutor(max_workers=50) as pool:
            names = list(pool.map(identity, fleet))
        polled = time.monotonic()
    finally:
        stop_fleet(fleet)
    print(f"\n200 simulators started in {booted - started:.2f}s, all polled (login + print, 20 ms latency, "
          f"50 threads) in {polled - booted:.2f}s")
    assert names == [f"site-{n}" for n in range(1, 201)]
    assert polled - started < 10
