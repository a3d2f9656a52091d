"""A hotspot customer's credentials do not open a PPPoE line: FreeRADIUS (real, 3.2) rejects a PPP
dial-in (Framed-Protocol = PPP, as a MikroTik PPPoE server sends) unless the user is a PPPoE customer,
whose rows carry Framed-Protocol = PPP (hotspot.pppoe); their hotspot logins are unchanged."""
import pytest

from hotspot import services, subscriptions
from hotspot.models import Package, ServiceType

from .radius_server import accepted, reply_value

pytestmark = pytest.mark.django_db(transaction=True)  # FreeRADIUS reads committed rows


def customer_on(service_type, phone):
    package = services.save_package(Package(name=f"{service_type} plan", service_type=service_type, price=50,
                                            validity_minutes=1440, rate_limit="2M/2M", devices=3))
    customer = services.create_customer(phone, name="Wanjiru", service_type=service_type)
    subscriptions.activate(customer, package, "payment")
    return customer


def test_a_hotspot_customer_dialing_pppoe_is_rejected_but_logs_in_on_the_hotspot(radius_server):
    customer = customer_on(ServiceType.HOTSPOT, "0722 100 301")

    dial = radius_server.authenticate(customer.username, customer.password, Framed_Protocol="PPP",
                                      Service_Type="Framed-User")
    hotspot = radius_server.authenticate(customer.username, customer.password)

    assert not accepted(dial)
    assert accepted(hotspot) and reply_value(hotspot, "Mikrotik-Rate-Limit") == "2M/2M"


def test_a_pppoe_customer_dialing_pppoe_is_accepted(radius_server):
    customer = customer_on(ServiceType.PPPOE, "0722 100 302")

    dial = radius_server.authenticate(customer.username, customer.password, Framed_Protocol="PPP",
                                      Service_Type="Framed-User")

    assert accepted(dial) and reply_value(dial, "Framed-Protocol") == "PPP"
