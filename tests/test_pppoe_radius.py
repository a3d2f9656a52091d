"""PPPoE end to end against real FreeRADIUS 3.2 (issue 19): a PPPoE customer on a monthly package is
accepted with PAP, CHAP and MS-CHAPv2, as a framed PPP user with the package's rate and the service's
pool or their fixed address, one session at a time however long it stays open; past their month
(an invoice unpaid) they are rejected and the Disconnect reaches the router."""
from datetime import timedelta

import pytest
from django.utils import timezone

from billing import invoices
from hotspot import pppoe, services, subscriptions
from hotspot.models import Customer, Package, ServiceType
from radius import services as radius
from radius.models import RadAcct
from radius.nas_simulator import NasSimulator
from routers.models import Router, RouterService

from . import mschap_kit
from .radius_server import accepted, reply_value

pytestmark = pytest.mark.django_db(transaction=True)  # FreeRADIUS reads committed rows
MONTH = 43200


def home_fibre(devices=4):
    return services.save_package(Package(name="Home 5 Mbps", service_type=ServiceType.PPPOE, price=1500,
                                         validity_minutes=MONTH, rate_limit="5M/5M", devices=devices))


def pppoe_service(name="pppoe1", network="10.5.60.0/24"):
    router = Router.objects.create(name=f"Kahawa West {name}", host=f"10.0.{len(name)}.1")
    return RouterService.objects.create(router=router, kind=RouterService.Kind.PPPOE, name=name, managed=True,
                                        interfaces=["ether4"], network=network)


def pppoe_customer(phone="0722 100 200", service=None, static_ip=""):
    customer = services.create_customer(phone, name="Mama Njeri", service_type=ServiceType.PPPOE)
    if service is not None:
        pppoe.set_connection(customer, service, static_ip)
    return customer


def framed(reply) -> dict:
    return {name: reply_value(reply, name) for name in ("Service-Type", "Framed-Protocol", "Mikrotik-Rate-Limit",
                                                          "Framed-Pool", "Framed-IP-Address")}


def test_a_pppoe_customer_is_accepted_with_pap_chap_and_mschapv2_with_rate_and_pool(radius_server):
    service, package = pppoe_service(), home_fibre()
    customer = pppoe_customer(service=service)
    subscriptions.activate(customer, package, "payment")
    expected = {"Service-Type": "Framed-User", "Framed-Protocol": "PPP", "Mikrotik-Rate-Limit": "5M/5M",
                "Framed-Pool": "pppoe1-pool", "Framed-IP-Address": None}
    assert service.pool_name == "pppoe1-pool"  # what provisioning names the pool on the router

    assert framed(radius_server.authenticate(customer.username, customer.password)) == expected
    assert framed(radius_server.authenticate(customer.username, customer.password, chap=True)) == expected
    reply, success = mschap_kit.authenticate(radius_server, customer.username, customer.password)
    assert accepted(reply) and framed(reply) == expected
    # FreeRADIUS proved it knows the password too (RFC 2759's authenticator response).
    assert reply["MS-CHAP2-Success"][0] == success

    wrong, _ = mschap_kit.authenticate(radius_server, customer.username, "not-" + customer.password)
    assert not accepted(wrong)
    assert not accepted(radius_server.authenticate(customer.username, "wrong", chap=True))


def test_a_fixed_address_replaces_the_pool(radius_server):
    service, package = pppoe_service(), home_fibre()
    customer = pppoe_customer(service=service, static_ip="10.5.60.200")
    subscriptions.activate(customer, package, "payment")
    reply, _ = mschap_kit.authenticate(radius_server, customer.username, customer.password)
    assert accepted(reply)
    assert reply_value(reply, "Framed-IP-Address") == "10.5.60.200" and reply_value(reply, "Framed-Pool") is None
    # Changed while they have access: the next connection gets the new address, the pool again after.
    pppoe.set_connection(customer, service, "10.5.60.201")
    assert reply_value(radius_server.authenticate(customer.username, customer.password), "Framed-IP-Address") == \
        "10.5.60.201"
    pppoe.set_connection(customer, service, "")
    assert framed(radius_server.authenticate(customer.username, customer.password))["Framed-Pool"] == "pppoe1-pool"
    customer.refresh_from_db()
    assert customer.static_ip is None


def test_fixed_addresses_are_checked_against_the_services_network_and_each_other():
    service = pppoe_service()
    first = pppoe_customer(service=service, static_ip=" 10.5.60.230 ")
    assert Customer.objects.get(pk=first.pk).static_ip == "10.5.60.230"
    second = pppoe_customer("0722 100 201")
    refusals = {
        "10.5.61.4": "not in pppoe1's network 10.5.60.0/24",
        "10.5.60.0": "the network's own or its broadcast address",
        "10.5.60.255": "the network's own or its broadcast address",
        "10.5.60.1": "the router's address on pppoe1",
        # The pool's: the router could hand it to someone else (the pool stops short of the top quarter).
        "10.5.60.9": r"in pppoe1's pool \(10\.5\.60\.2-10\.5\.60\.191\).*must be in 10\.5\.60\.192-10\.5\.60\.254",
        "10.5.60.191": "in pppoe1's pool",
        "10.5.60.230": "another customer's fixed address",
        "ten.five": "is not an IPv4 address",
        "fe80::1": "is not an IPv4 address",
    }
    for address, why in refusals.items():
        with pytest.raises(pppoe.ConnectionRefused, match=why):
            pppoe.set_connection(second, service, address)
    with pytest.raises(pppoe.ConnectionRefused, match="needs the PPPoE service"):
        pppoe.set_connection(second, None, "10.5.60.231")
    hotspot_side = RouterService.objects.create(router=service.router, kind=RouterService.Kind.HOTSPOT,
                                                name="hotspot1", managed=True, network="10.5.50.0/24")
    with pytest.raises(pppoe.ConnectionRefused, match="not PPPoE"):
        pppoe.set_connection(second, hotspot_side, "10.5.50.9")
    going = RouterService.objects.create(router=service.router, kind=RouterService.Kind.PPPOE, name="pppoe2",
                                         managed=True, network="10.5.70.0/24", state=RouterService.State.REMOVING)
    with pytest.raises(pppoe.ConnectionRefused, match="being removed"):
        pppoe.set_connection(second, going, "")
    walk_in = services.create_customer("0722 100 202")
    with pytest.raises(pppoe.ConnectionRefused, match="Only a PPPoE customer"):
        pppoe.set_connection(walk_in, service, "")
    assert Customer.objects.get(pk=second.pk).static_ip is None


def test_one_session_at_a_time_whatever_the_package_allows(radius_server):
    customer = pppoe_customer(service=pppoe_service())
    subscriptions.activate(customer, home_fibre(devices=4), "payment")
    assert accepted(radius_server.authenticate(customer.username, customer.password))
    radius_server.account("Start", customer.username, "ppp-1", Framed_IP_Address="10.5.60.2")
    second = radius_server.authenticate(customer.username, customer.password)
    assert not accepted(second) and "already logged in" in reply_value(second, "Reply-Message")
    radius_server.account("Stop", customer.username, "ppp-1", Acct_Session_Time=60)
    assert accepted(radius_server.authenticate(customer.username, customer.password))


def open_session(username, session_id, started_days_ago, updated_minutes_ago):
    now = timezone.now()
    RadAcct.objects.create(acct_session_id=session_id, acct_unique_id=session_id, username=username,
                           nas_ip_address="127.0.0.1", framed_ip_address="10.5.60.9",
                           acct_start_time=now - timedelta(days=started_days_ago),
                           acct_update_time=now - timedelta(minutes=updated_minutes_ago))


def test_a_pppoe_session_open_for_months_still_counts_while_the_router_reports_it(radius_server):
    customer = pppoe_customer(service=pppoe_service())
    subscriptions.activate(customer, home_fibre(), "payment")
    # Up since 70 days, its last Interim-Update five minutes ago: the same login again is refused.
    open_session(customer.username, "ppp-long", started_days_ago=70, updated_minutes_ago=5)
    assert not accepted(radius_server.authenticate(customer.username, customer.password))
    # One the router stopped reporting two days ago is stale and blocks no one.
    RadAcct.objects.filter(acct_unique_id="ppp-long").update(acct_update_time=timezone.now() - timedelta(days=2))
    assert accepted(radius_server.authenticate(customer.username, customer.password))
    # A hotspot user's session is never that long: their count stays bounded to recent months.
    services.save_package(Package(name="Day", price=50, validity_minutes=1440))
    walk_in = services.create_customer("0722 100 203")
    subscriptions.activate(walk_in, Package.objects.get(name="Day"), "payment")
    radius.update_access(walk_in.username, simultaneous_use=1)
    open_session(walk_in.username, "hs-long", started_days_ago=40, updated_minutes_ago=5)
    assert accepted(radius_server.authenticate(walk_in.username, walk_in.password))


def test_unpaid_the_month_ends_rejected_and_disconnected_at_the_router(radius_server):
    service, package = pppoe_service(), home_fibre()
    customer = pppoe_customer(service=service, static_ip="10.5.60.240")
    started = timezone.now() - timedelta(minutes=MONTH - 60)  # an hour of the month left
    subscription = subscriptions.activate(customer, package, "payment", now=started)
    reply, _ = mschap_kit.authenticate(radius_server, customer.username, customer.password)
    assert accepted(reply) and reply_value(reply, "Mikrotik-Rate-Limit") == "5M/5M"
    assert reply_value(reply, "Framed-IP-Address") == "10.5.60.240"
    radius_server.account("Start", customer.username, "ppp-9", Framed_IP_Address="10.5.60.240")
    [invoice] = invoices.issue_due()  # next month's, never paid
    assert invoice.customer_id == customer.pk and invoice.period_start == subscription.expires_at
    with NasSimulator(secret=b"kahawa-nas-secret") as nas:
        radius.register_nas("127.0.0.1", "kahawa-nas-secret", "Kahawa West", coa_port=nas.port)
        sweep = subscriptions.expire_due(now=subscription.expires_at + timedelta(seconds=1))
        assert sweep.expired == [subscription.pk]
        assert [r.attributes for r in nas.received] == [
            {"User-Name": customer.username, "Acct-Session-Id": "ppp-9", "Framed-IP-Address": "10.5.60.240"}]
        assert [r.kind for r in nas.received] == ["disconnect"]
    for attempt in (lambda: radius_server.authenticate(customer.username, customer.password),
                    lambda: radius_server.authenticate(customer.username, customer.password, chap=True),
                    lambda: mschap_kit.authenticate(radius_server, customer.username, customer.password)[0]):
        assert not accepted(attempt())


def test_a_customer_moved_between_hotspot_and_pppoe_gets_the_right_reply(radius_server):
    service = pppoe_service()
    customer = services.create_customer("0722 100 204")
    subscriptions.activate(customer, home_fibre(), "payment")
    assert reply_value(radius_server.authenticate(customer.username, customer.password), "Framed-Protocol") is None
    services.update_customer(customer, name="Baraka", notes="", service_type=ServiceType.PPPOE, phone="0722100204")
    pppoe.set_connection(customer, service)
    assert framed(radius_server.authenticate(customer.username, customer.password))["Framed-Pool"] == "pppoe1-pool"
    services.update_customer(customer, name="Baraka", notes="", service_type=ServiceType.HOTSPOT, phone="0722100204")
    back = framed(radius_server.authenticate(customer.username, customer.password))
    assert back["Framed-Protocol"] is None and back["Framed-Pool"] is None and back["Mikrotik-Rate-Limit"] == "5M/5M"


def test_a_router_refusing_the_disconnect_has_the_ppp_session_ended_over_its_api():
    from radius.models import CoaAttempt
    from radius.nas_simulator import NAK
    from routers.routeros_simulator import RouterOSSimulator

    package = home_fibre()
    with RouterOSSimulator(identity="Kahawa West", password="kahawa-api") as kahawa, \
            NasSimulator(secret=b"kahawa-nas-secret") as nas:
        router = Router.objects.create(name="Kahawa West", host="127.0.0.1", api_port=kahawa.port,
                                       api_username="admin", api_password="kahawa-api")
        service = RouterService.objects.create(router=router, kind=RouterService.Kind.PPPOE, name="pppoe1",
                                               managed=True, interfaces=["ether4"], network="10.5.60.0/24")
        customer = pppoe_customer(service=service, static_ip="10.5.60.241")
        subscription = subscriptions.activate(customer, package, "payment",
                                              now=timezone.now() - timedelta(minutes=MONTH - 60))
        radius.register_nas("127.0.0.1", "kahawa-nas-secret", "Kahawa West", coa_port=nas.port)
        nas.answer(customer.username, NAK)
        kahawa.login_ppp(customer.username, address="10.5.60.241")
        open_session(customer.username, "ppp-10", started_days_ago=45, updated_minutes_ago=3)
        RadAcct.objects.filter(acct_unique_id="ppp-10").update(framed_ip_address="10.5.60.241")

        subscriptions.expire_due(now=subscription.expires_at + timedelta(seconds=1))
        assert [r.kind for r in nas.received] == ["disconnect"]
        assert kahawa.table("/ppp/active").rows() == []
    [attempt] = CoaAttempt.objects.all()
    assert attempt.outcome == CoaAttempt.Outcome.NAK and attempt.api_kicked == 1
