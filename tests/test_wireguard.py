"""WireGuard: a technician gives a router behind NAT a tunnel, runs its onboarding script on the router,
and activates it; from then on the router's API host and RADIUS address are its tunnel address.
Keys are real X25519 pairs, addresses never collide, the script is valid for the simulated RouterOS
(run through /import over the real API client) and running it twice changes nothing."""
import io
import json
import shutil
import subprocess
import threading

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from wireguard_tools import WireguardConfig, WireguardKey

from accounts.roles import SUPPORT, TECHNICIAN
from radius.models import Nas
from routers import drift, onboarding, provisioning, services, tags, wireguard
from routers.models import Router, RouterVpnConfig, ServiceControlLog
from routers.routeros import RouterClient, RouterCommandRefused
from routers.routeros_simulator import RouterOSSimulator

from .staff_kit import bearer

ADMIN_PASSWORD = "kisumu-admin-password"
RADIUS_SECRET = "kisumu-radius-secret"
TAG = tags.TAG
MENUS = ("/interface/wireguard", "/interface/wireguard/peers", "/ip/address", "/ip/firewall/filter", "/user/group",
         "/user", "/ip/service", "/radius", "/radius/incoming")


@pytest.fixture(autouse=True)
def our_server(settings):
    settings.WIREGUARD_NETWORK = "10.99.0.0/16"
    settings.WIREGUARD_ENDPOINT = "vpn.example.co.ke"
    settings.WIREGUARD_PORT = 51820


@pytest.fixture
def kisumu():
    """A router on a rooftop behind the mobile operator's CGNAT, as fresh as it came."""
    with RouterOSSimulator(identity="Kisumu Rooftop", password=ADMIN_PASSWORD) as running:
        yield running


def make_router(name="Kisumu Rooftop", host="127.0.0.1", port=8728, secret=RADIUS_SECRET) -> Router:
    return services.create_router(name=name, host=host, api_port=port, api_username="admin",
                                  api_password=ADMIN_PASSWORD, radius_secret=secret)


def run_on_router(sim: RouterOSSimulator, script: str, name: str = "onboarding.rsc") -> None:
    """What the admin does at the router: upload the file, then /import it."""
    with RouterClient(sim.host, sim.port, "admin", ADMIN_PASSWORD) as admin:
        existing = admin.print("/file", name=name)
        if existing:
            admin.set("/file", existing[0]["id"], contents=script)
        else:
            admin.add("/file", name=name, contents=script)
        admin.call("/", "import", file_name=name)


def state(sim: RouterOSSimulator) -> dict:
    interfaces = [(row[".id"], row["name"], row["type"]) for row in sim.table("/interface").rows()]  # counters move
    return {"/interface": interfaces, **{menu: sim.table(menu).rows() for menu in MENUS}}


def ours(sim: RouterOSSimulator, menu: str) -> list[dict]:
    return [row for row in sim.table(menu).rows() if row.get("comment", "").startswith(TAG)]


# --- keys and addresses ----------------------------------------------------------------------------

def test_key_pairs_are_real_x25519_pairs():
    private, public = wireguard.generate_keypair()

    assert len(WireguardKey(private).keydata) == 32
    # An implementation of the curve independent of ours (wireguard-tools' pure-Python one).
    assert str(WireguardKey(private).public_key()) == public
    assert wireguard.public_key(private) == public
    if shutil.which("wg"):
        assert subprocess.run(["wg", "pubkey"], input=private, capture_output=True, text=True).stdout.strip() == public
    assert wireguard.generate_keypair()[0] != private


@pytest.mark.django_db
def test_each_router_gets_the_lowest_free_address_and_keeps_its_tunnel(technician):
    first, second, third = (make_router(name, host=f"198.51.100.{n}") for n, name in
                            enumerate(("Kisumu Rooftop", "Kondele Shop", "Nyalenda Tower"), start=2))

    addresses = [wireguard.enrol(router, by=technician)[0].tunnel_address for router in (first, second, third)]
    again, created = wireguard.enrol(first, by=technician)

    assert addresses == ["10.99.0.2", "10.99.0.3", "10.99.0.4"]  # 10.99.0.1 is ours
    assert not created and again.public_key == first.vpn.public_key and again.tunnel_address == "10.99.0.2"
    # FreeRADIUS knows each tunnel address from enrolment: the script moves RADIUS there at once.
    assert Nas.objects.get(nasname="10.99.0.3").secret == RADIUS_SECRET
    services.delete_router(second, by=technician)
    assert not Nas.objects.filter(nasname="10.99.0.3").exists()
    late = make_router("Mamboleo Kiosk", host="198.51.100.9")
    assert wireguard.enrol(late, by=technician)[0].tunnel_address == "10.99.0.3"
    assert wireguard.server_address(wireguard.server()) == "10.99.0.1"


def test_concurrent_enrolments_never_share_an_address(transactional_db):
    routers = [make_router(f"Site {n}", host=f"198.51.100.{n}") for n in range(1, 9)]
    results, errors = {}, []

    def enrol(router):
        try:
            results[router.pk] = wireguard.enrol(router)[0].tunnel_address
        except Exception as error:  # noqa: BLE001 - the test reports any failure below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=enrol, args=(router,)) for router in routers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    assert sorted(results.values(), key=lambda a: int(a.rsplit(".", 1)[1])) == [f"10.99.0.{n}" for n in range(2, 10)]
    assert RouterVpnConfig.objects.count() == 8


@pytest.mark.django_db
def test_a_router_needs_a_readable_radius_secret_without_control_characters():
    with pytest.raises(wireguard.VpnRefused, match="RADIUS secret"):
        wireguard.enrol(make_router(secret=""))
    with pytest.raises(wireguard.VpnRefused, match="control character"):
        wireguard.enrol(make_router("Kondele Shop", host="198.51.100.3", secret="kondele\nsecret"))
    assert not RouterVpnConfig.objects.exists()


# --- our server's config ---------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_server_config_lists_every_router():
    tunnels = [wireguard.enrol(make_router(name, host=f"198.51.100.{n}"))[0]
               for n, name in enumerate(("Kisumu Rooftop", "Kondele Shop"), start=2)]
    server = wireguard.server()

    full = WireguardConfig.from_wgconfig(io.StringIO(wireguard.server_config(with_private_key=True)))
    served = wireguard.server_config(with_private_key=False)

    assert str(full.private_key) == server.private_key
    assert full.listen_port == 51820 and [str(a) for a in full.addresses] == ["10.99.0.1/16"]
    assert {str(key): [str(ip) for ip in peer.allowed_ips] for key, peer in full.peers.items()} == {
        tunnels[0].public_key: ["10.99.0.2/32"], tunnels[1].public_key: ["10.99.0.3/32"]}
    assert [peer.friendly_name for peer in full.peers.values()] == ["Kisumu Rooftop", "Kondele Shop"]
    assert server.private_key not in served and "PrivateKey" not in served
    assert "PostUp = wg set %i private-key /etc/wireguard/%i.key" in served
    stripped = wireguard.strip_config()
    assert "Address" not in stripped and f"PublicKey = {tunnels[1].public_key}" in stripped


@pytest.mark.django_db
def test_the_commands_print_the_config_and_record_handshakes(capsys, monkeypatch):
    vpn, _ = wireguard.enrol(make_router())
    server = wireguard.server()

    call_command("wireguard_server_config")
    full = capsys.readouterr().out
    call_command("wireguard_server_config", "--strip")
    stripped = capsys.readouterr().out
    call_command("wireguard_server_config", "--private-key")
    key = capsys.readouterr().out.strip()
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{vpn.public_key}\t1767225600\n{server.public_key}\t0\n"))
    call_command("wireguard_handshakes")

    assert f"PrivateKey = {server.private_key}" in full and "Address = 10.99.0.1/16" in full
    assert "Address" not in stripped and vpn.public_key in stripped
    assert key == server.private_key
    vpn.refresh_from_db()
    assert vpn.last_handshake_at.timestamp() == 1767225600
    assert "1 routers' last handshake updated" in capsys.readouterr().out


# --- the onboarding script on a router ---------------------------------------------------------------

@pytest.mark.django_db
def test_the_script_leaves_exactly_the_tunnel_the_api_user_and_radius(kisumu, technician):
    router = make_router(port=kisumu.port)
    vpn, _ = wireguard.enrol(router, by=technician)
    server = wireguard.server()

    run_on_router(kisumu, onboarding.script_for(router, by=technician))

    [wg] = kisumu.table("/interface/wireguard").rows()
    assert (wg["name"], wg["listen-port"], wg["private-key"], wg["public-key"]) == (
        "wg-hotspot-billing", "13232", vpn.private_key, vpn.public_key)
    [peer] = kisumu.table("/interface/wireguard/peers").rows()
    assert {key: peer[key] for key in ("interface", "public-key", "endpoint-address", "endpoint-port",
                                       "allowed-address", "persistent-keepalive")} == {
        "interface": "wg-hotspot-billing", "public-key": server.public_key, "endpoint-address": "vpn.example.co.ke",
        "endpoint-port": "51820", "allowed-address": "10.99.0.1/32", "persistent-keepalive": "25s"}
    assert [(row["address"], row["interface"]) for row in ours(kisumu, "/ip/address")] == [
        ("10.99.0.2/16", "wg-hotspot-billing")]
    first_rule = kisumu.table("/ip/firewall/filter").rows()[0]
    assert (first_rule["chain"], first_rule["action"], first_rule["in-interface"], first_rule["src-address"],
            first_rule["comment"]) == ("input", "accept", "wg-hotspot-billing", "10.99.0.1",
                                       f"{TAG}: wireguard server may reach the router")
    assert len(ours(kisumu, "/ip/firewall/filter")) == 1
    [group] = kisumu.table("/user/group").rows(name="hotspot_billing")
    assert set(group["policy"].split(",")) == {"api", "read", "write", "reboot", "test", "sensitive", "ftp"}
    [user] = kisumu.table("/user").rows(name="hotspot_billing")
    assert (user["group"], user["address"]) == ("hotspot_billing", "10.99.0.1/32")
    [api] = kisumu.table("/ip/service").rows(name="api")
    assert (api["address"], api["disabled"]) == ("10.99.0.1/32", "false")
    [radius] = kisumu.table("/radius").rows()
    assert {key: radius[key] for key in ("service", "address", "secret", "src-address", "comment")} == {
        "service": "hotspot,ppp", "address": "10.99.0.1", "secret": RADIUS_SECRET, "src-address": "10.99.0.2",
        "comment": f"{TAG}: radius"}
    assert kisumu.table("/radius/incoming").rows()[0]["accept"] == "true"
    # The password kept (encrypted) for the API user is the one the router now accepts.
    with RouterClient(kisumu.host, kisumu.port, vpn.api_username, vpn.api_password) as billing:
        assert billing.identity() == "Kisumu Rooftop"


@pytest.mark.django_db
def test_the_tunnel_rule_goes_before_the_first_static_rule_not_a_dynamic_one(kisumu):
    rules = kisumu.table("/ip/firewall/filter")
    first = next(iter(rules.items))
    rules._store({"chain": "forward", "action": "passthrough", "comment": "special dummy rule to show fasttrack "
                  "counters", "dynamic": "true"}, before=first)  # what RouterOS shows first with fasttrack on
    router = make_router(port=kisumu.port)
    wireguard.enrol(router)

    run_on_router(kisumu, onboarding.onboarding_script(router.vpn))

    comments = [row.get("comment", "") for row in rules.rows()]
    assert comments[0].startswith("special dummy rule")
    assert comments[1] == f"{TAG}: wireguard server may reach the router"


@pytest.mark.django_db
def test_running_the_script_twice_changes_nothing(kisumu):
    router = make_router(port=kisumu.port)
    wireguard.enrol(router)
    script = onboarding.onboarding_script(router.vpn)
    run_on_router(kisumu, script)
    before = state(kisumu)

    run_on_router(kisumu, script)

    assert state(kisumu) == before
    assert onboarding.onboarding_script(RouterVpnConfig.objects.get()) == script  # every download reads the same


@pytest.mark.django_db
def test_a_secret_with_quotes_dollars_and_backslashes_arrives_as_it_is(kisumu):
    nasty = 'kis"umu$secret\\?x'
    router = make_router(port=kisumu.port, secret=nasty)
    wireguard.enrol(router)

    run_on_router(kisumu, onboarding.onboarding_script(router.vpn))

    assert kisumu.table("/radius").rows()[0]["secret"] == nasty


@pytest.mark.django_db
def test_import_refuses_what_it_does_not_know_and_names_the_line(kisumu):
    cases = {
        '/interface wireguard\nadd name="wg-a"\n:put "hello"\n': "syntax error: unknown command (line 3 column 1)",
        '/tool fetch\nadd url="http://x"\n': "bad command name /tool/fetch (line 2)",
        '/user\nadd name="x" password="$secret" group=full\n': "variables are not supported (line 2",
        '/interface wireguard\nadd name="wg-a" \\\n  listen-port=1\n': "syntax error",
        '/ip address\nset [find] address=1.2.3.4/24 extra\n': "expected name=value (line 2",
    }
    for script, message in cases.items():
        with pytest.raises(RouterCommandRefused) as refused:
            run_on_router(kisumu, script, name="bad.rsc")
        assert message in refused.value.message, script
    assert not kisumu.table("/interface/wireguard").rows()  # a syntax error runs nothing

    with pytest.raises(RouterCommandRefused) as refused:
        run_on_router(kisumu, '/interface wireguard\nadd name="wg-a"\n/interface wireguard peers\n'
                              'add interface="wg-missing" public-key="' + "A" * 43 + '="\n', name="half.rsc")
    assert refused.value.message == "input does not match any value of interface (line 4)"
    assert [row["name"] for row in kisumu.table("/interface/wireguard").rows()] == ["wg-a"]  # what ran stays
    with RouterClient(kisumu.host, kisumu.port, "admin", ADMIN_PASSWORD) as admin:
        with pytest.raises(RouterCommandRefused, match="no such file"):
            admin.call("/", "import", file_name="missing.rsc")
        with pytest.raises(RouterCommandRefused, match="unknown parameter verbose"):
            admin.call("/", "import", file_name="half.rsc", verbose="yes")


# --- activation --------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_activation_moves_the_api_host_and_the_nas_to_the_tunnel(settings, technician):
    # Loopback stands in for the tunnel: the simulated router listens on its tunnel address.
    settings.WIREGUARD_NETWORK = "127.99.0.0/16"
    with RouterOSSimulator(identity="Kisumu Rooftop", password=ADMIN_PASSWORD, host="127.99.0.2") as tunnel_end:
        router = make_router(host="127.0.0.1", port=tunnel_end.port)
        vpn, _ = wireguard.enrol(router, by=technician)
        assert vpn.tunnel_address == "127.99.0.2"

        with pytest.raises(wireguard.TunnelNotAnswering) as early:
            wireguard.activate(router, by=technician)  # the script has not run: no such API user yet
        router.refresh_from_db()
        assert early.value.reason == "auth_failed" and router.host == "127.0.0.1"

        run_on_router(tunnel_end, onboarding.onboarding_script(vpn))
        wireguard.activate(router, by=technician)

    router.refresh_from_db()
    vpn.refresh_from_db()
    assert (router.host, router.api_username, router.api_password) == ("127.99.0.2", "hotspot_billing",
                                                                         vpn.api_password)
    assert (router.status, router.identity) == ("online", "Kisumu Rooftop")
    assert vpn.active and vpn.previous_host == "127.0.0.1" and vpn.last_handshake_at
    assert list(Nas.objects.values_list("nasname", "secret")) == [("127.99.0.2", RADIUS_SECRET)]
    actions = list(ServiceControlLog.objects.filter(router=router).order_by("pk")
                   .values_list("action", "outcome", "user__username"))
    assert actions == [("create", "ok", None), ("vpn-enrol", "ok", "tabitha"), ("vpn-activate", "failed", "tabitha"),
                       ("update", "ok", "tabitha"), ("vpn-activate", "ok", "tabitha"), ("test", "ok", "tabitha")]
    for detail in ServiceControlLog.objects.values_list("detail", flat=True):
        assert vpn.api_password not in detail and vpn.private_key not in detail and RADIUS_SECRET not in detail


@pytest.mark.django_db
def test_provisioning_over_the_tunnel_keeps_what_the_onboarding_script_set(settings, technician):
    settings.WIREGUARD_NETWORK = "127.99.0.0/16"
    settings.RADIUS_SERVER_ADDRESS = "203.0.113.10"  # the public address: not for tunnelled routers
    with RouterOSSimulator(identity="Kisumu Rooftop", password=ADMIN_PASSWORD, host="127.99.0.2") as tunnel_end:
        router = make_router(host="127.0.0.1", port=tunnel_end.port)
        vpn, _ = wireguard.enrol(router, by=technician)
        run_on_router(tunnel_end, onboarding.onboarding_script(vpn))
        wireguard.activate(router, by=technician)
        router.refresh_from_db()
        rules_before = ours(tunnel_end, "/ip/firewall/filter")

        job = provisioning.run_job(provisioning.start_job(router).pk)

        assert job.status == "done", job.steps
        [client] = ours(tunnel_end, "/radius")
        assert client["address"] == "127.99.0.1"  # our end of the tunnel, as the script set it
        rules = ours(tunnel_end, "/ip/firewall/filter")
        assert [rule for rule in rules if rule["comment"].startswith(f"{TAG}: wireguard")] == [
            rule for rule in rules_before if rule["comment"].startswith(f"{TAG}: wireguard")]
        assert drift.check(router) == []


@pytest.mark.django_db
def test_activation_can_skip_the_check_and_is_idempotent(technician):
    router = make_router(host="198.51.100.7")
    wireguard.enrol(router, by=technician)

    wireguard.activate(router, by=technician, check=False)
    wireguard.activate(router, by=technician, check=False)

    router.refresh_from_db()
    assert router.host == "10.99.0.2" and router.vpn.last_handshake_at is None
    assert ServiceControlLog.objects.filter(action="vpn-activate").count() == 1


# --- the API -----------------------------------------------------------------------------------------

@pytest.fixture
def api(client):
    def call(user, method: str, url: str):
        return getattr(client, method)(url, content_type="application/json", **bearer(user))
    return call


@pytest.mark.django_db
def test_the_api_is_for_technicians_and_keeps_secrets_to_the_script(api, technician, support_agent):
    router = make_router(host="198.51.100.7")
    base = f"/api/routers/{router.pk}/vpn"
    for method, url in (("post", base), ("get", base), ("get", f"{base}/onboarding.rsc"),
                        ("post", f"{base}/activate"), ("get", "/api/vpn/server.conf")):
        refused = api(support_agent, method, url)
        assert refused.status_code == 403 and "detail" in refused.json(), url
    assert api(technician, "get", base).status_code == 404

    created = api(technician, "post", base)
    again = api(technician, "post", base)
    shown = api(technician, "get", base)
    download = api(technician, "get", f"{base}/onboarding.rsc")
    conf = api(technician, "get", "/api/vpn/server.conf")

    vpn, server = RouterVpnConfig.objects.get(), wireguard.server()
    assert (created.status_code, again.status_code, shown.status_code) == (201, 200, 200)
    body = created.json()
    assert (body["tunnel_address"], body["server_address"], body["endpoint"], body["endpoint_port"]) == (
        "10.99.0.2", "10.99.0.1", "vpn.example.co.ke", 51820)
    assert body["router_public_key"] == vpn.public_key and body["server_public_key"] == server.public_key
    assert body["script"] == onboarding.onboarding_script(vpn)  # the one place secrets are answered
    for secret in (vpn.private_key, vpn.api_password, RADIUS_SECRET, server.private_key):
        assert secret not in json.dumps({k: v for k, v in body.items() if k != "script"})
        assert secret not in shown.content.decode() and secret not in conf.content.decode()
    assert download.status_code == 200 and download["Content-Type"] == "text/plain; charset=utf-8"
    assert download["Content-Disposition"] == f'attachment; filename="onboarding-{router.pk}.rsc"'
    assert download.content.decode() == body["script"]
    assert conf["Content-Type"] == "text/plain; charset=utf-8" and vpn.public_key in conf.content.decode()
    assert conf["Content-Disposition"] == 'attachment; filename="wg0.conf"'
    assert ServiceControlLog.objects.filter(action="vpn-script").count() == 3  # two answers and the download


@pytest.mark.django_db
def test_the_api_answers_bad_requests_with_json(api, technician):
    bare = make_router(host="198.51.100.7", secret="")
    unreachable = make_router("Kondele Shop", host="198.51.100.8")
    api(technician, "post", f"/api/routers/{unreachable.pk}/vpn")

    no_secret = api(technician, "post", f"/api/routers/{bare.pk}/vpn")
    no_router = api(technician, "post", "/api/routers/999999/vpn")
    not_enrolled = api(technician, "post", f"/api/routers/{bare.pk}/vpn/activate")
    no_script = api(technician, "get", f"/api/routers/{bare.pk}/vpn/onboarding.rsc")
    silent = api(technician, "post", f"/api/routers/{unreachable.pk}/vpn/activate")
    forced = api(technician, "post", f"/api/routers/{unreachable.pk}/vpn/activate?force=true")

    assert (no_secret.status_code, no_router.status_code, not_enrolled.status_code, no_script.status_code) == (
        409, 404, 404, 404)
    assert "RADIUS secret" in no_secret.json()["detail"] and "no tunnel" in not_enrolled.json()["detail"]
    assert silent.status_code == 502 and silent.json()["reason"] == "unreachable"
    services.update_router(unreachable, radius_secret="")  # the script can no longer be written
    assert api(technician, "post", f"/api/routers/{unreachable.pk}/vpn").status_code == 409
    assert api(technician, "get", f"/api/routers/{unreachable.pk}/vpn/onboarding.rsc").status_code == 409
    assert forced.status_code == 200 and forced.json()["active"] is True


# --- the pages ---------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_pages_show_tunnels_and_the_script_only_to_technicians(signed_in, technician):
    router = make_router(host="198.51.100.7")
    client = signed_in(SUPPORT)
    assert client.get("/routers/vpn/").status_code == 403
    assert client.get(f"/routers/{router.pk}/vpn/").status_code == 403
    assert client.post(f"/routers/{router.pk}/vpn/create/").status_code == 403

    careful = Client(enforce_csrf_checks=True)
    careful.force_login(technician)
    assert careful.post(f"/routers/{router.pk}/vpn/create/").status_code == 403  # no CSRF token
    client = signed_in(TECHNICIAN)
    before = client.get(f"/routers/{router.pk}/vpn/")
    created = client.post(f"/routers/{router.pk}/vpn/create/", follow=True)
    overview = client.get("/routers/vpn/")
    download = client.get(f"/routers/{router.pk}/vpn/onboarding.rsc")
    conf = client.get("/routers/vpn/server.conf")

    vpn, server = RouterVpnConfig.objects.get(), wireguard.server()
    assert "Create tunnel" in before.content.decode()
    page = created.content.decode()
    assert "10.99.0.2" in page and "Download .rsc" in page and "Activate" in page and vpn.private_key in page
    listing = overview.content.decode()
    assert "Kisumu Rooftop" in listing and "10.99.0.2" in listing and server.public_key in listing
    for secret in (vpn.private_key, vpn.api_password, RADIUS_SECRET, server.private_key):
        assert secret not in listing and secret not in conf.content.decode()
    assert download["Content-Type"] == "text/plain; charset=utf-8" and "attachment" in download["Content-Disposition"]
    assert conf.status_code == 200 and "wg0.conf" in conf["Content-Disposition"]


@pytest.mark.django_db
def test_the_tunnel_list_costs_the_same_queries_for_2_tunnels_or_40(signed_in, django_assert_num_queries):
    def make_tunnels(numbers):
        for n in numbers:
            router = Router.objects.create(name=f"Site {n:02d}", host=f"198.51.100.{n + 1}")
            RouterVpnConfig.objects.create(router=router, private_key="k", public_key=f"{n:043d}=",
                                           tunnel_address=f"10.99.0.{n + 2}", api_username="hotspot-api",
                                           api_password="p")

    client = signed_in(TECHNICIAN)
    # session, user, 2x perms, roles, our server's row, the pager's count, the page's tunnels with their
    # routers, session save (3); the rows: our server's four, the tunnels' header, then one a tunnel.
    make_tunnels(range(2))
    with django_assert_num_queries(11):
        assert client.get("/routers/vpn/").content.decode().count("<tr") == 4 + 1 + 2
    make_tunnels(range(2, 40))
    with django_assert_num_queries(11):
        assert client.get("/routers/vpn/").content.decode().count("<tr") == 4 + 1 + 40
