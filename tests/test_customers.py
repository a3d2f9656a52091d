"""Customers: phone numbers normalised, RADIUS credentials generated, access follows activation."""
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.roles import FINANCE, SUPPORT
from hotspot import services
from hotspot.models import Customer, Package, Subscription
from hotspot.phone import InvalidPhone, normalise_phone
from radius import services as radius
from radius.models import CoaAttempt, RadAcct, RadCheck
from radius.nas_simulator import NasSimulator

from .staff_kit import bearer

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("raw", ["0712345678", "0712 345 678", "+254712345678", "254712345678", "712345678",
                                 "254-712-345-678"])
def test_kenyan_numbers_normalise_to_e164(raw):
    assert normalise_phone(raw) == "254712345678"


def test_safaricom_01_numbers_work_too():
    assert normalise_phone("0110 123 456") == "254110123456"


@pytest.mark.parametrize("raw", ["", "12345", "0812345678", "+255712345678", "07123456789", "phone"])
def test_anything_else_is_refused(raw):
    with pytest.raises(InvalidPhone):
        normalise_phone(raw)


def test_support_adds_a_customer_with_credentials(signed_in):
    client = signed_in(SUPPORT)
    response = client.post("/customers/add/", {"phone": "0722 111 222", "name": "Wanjiru", "service_type": "hotspot"})
    customer = Customer.objects.get()
    assert response.status_code == 302 and response.url == f"/customers/{customer.pk}/"
    assert customer.phone == "254722111222" and customer.username.startswith("c") and len(customer.password) == 8
    page = client.get(response.url).content.decode()
    assert customer.username in page and customer.password in page


def test_a_bad_or_taken_phone_is_a_form_error(signed_in):
    client = signed_in(SUPPORT)
    bad = client.post("/customers/add/", {"phone": "12345", "service_type": "hotspot"})
    assert "Enter a Kenyan mobile number" in bad.content.decode()
    services.create_customer("0722111222")
    taken = client.post("/customers/add/", {"phone": "+254722111222", "service_type": "hotspot"})
    assert "exists already" in taken.content.decode() and Customer.objects.count() == 1


def test_the_list_searches_filters_and_paginates(signed_in, django_assert_num_queries):
    for n in range(55):
        services.create_customer(f"07220000{n:02d}", name=f"Customer {n}",
                                 service_type="pppoe" if n % 5 == 0 else "hotspot")
    client = signed_in(FINANCE)
    with django_assert_num_queries(10):
        first = client.get("/customers/").content.decode()
    assert "Page 1 of 2 · 55 in all" in first and "Add customer" not in first
    assert "11 in all" in client.get("/customers/pppoe/").content.decode()
    found = client.get("/customers/?q=0722000007", HTTP_HX_REQUEST="true").content.decode()
    assert "Customer 7" in found and "Customer 8" not in found


def test_an_empty_pppoe_list_says_there_are_no_pppoe_users_not_no_customers(signed_in):
    services.create_customer("0722000001", name="Hotspot Only")
    page = signed_in(FINANCE).get("/customers/pppoe/").content.decode()
    assert "No PPPoE users yet" in page and "No customers yet" not in page


def test_the_search_box_keeps_the_lists_other_filters(signed_in):
    """The box sends the list's other filters with the words typed, by hand or as-you-type (HTMX)."""
    services.create_customer("0722000001", name="Wanjiru Active")
    services.set_customer_active(services.create_customer("0722000002", name="Wanjiru Gone"), False)
    client = signed_in(FINANCE)
    page = client.get("/customers/?status=inactive&page=1").content.decode()
    start = page.index('class="search" role="search"')  # the list's box, not the top bar's
    box = page[start:page.index("</form>", start)]
    assert '<input type="hidden" name="status" value="inactive">' in box and 'name="page"' not in box
    assert 'hx-include="closest form"' in box
    # What the box then sends: the typed words with the status it carried.
    found = client.get("/customers/?status=inactive&q=Wanjiru", HTTP_HX_REQUEST="true").content.decode()
    assert "Wanjiru Gone" in found and "Wanjiru Active" not in found


@pytest.mark.parametrize("path", ["/customers/", "/customers/hotspot/", "/customers/pppoe/",
                                  "/customers/?status=active&q=Customer"])
def test_each_customer_list_takes_the_same_queries_for_2_or_40_customers(signed_in, path,
                                                                          django_assert_num_queries):
    client = signed_in(FINANCE)
    for rows in (2, 40):
        for n in range(Customer.objects.count(), rows):
            services.create_customer(f"07220000{n:02d}", name=f"Customer {n}",
                                     service_type="pppoe" if n % 2 else "hotspot")
        with django_assert_num_queries(10):
            html = client.get(path).content.decode()
        assert "Customer 1" in html or "Customer 0" in html


@pytest.fixture
def subscribed():
    package = services.save_package(Package(name="Daily", price=50, validity_minutes=1440, rate_limit="2M/5M"))
    customer = services.create_customer("0733 000 111", name="Otieno")
    now = timezone.now()
    Subscription.objects.create(customer=customer, package=package, status=Subscription.Status.ACTIVE,
                                starts_at=now - timedelta(hours=1), expires_at=now + timedelta(hours=23))
    return customer


def test_deactivating_revokes_and_disconnects_activating_restores(signed_in, subscribed):
    secret = "customer-nas-secret"
    with NasSimulator(secret=secret.encode()) as nas:
        radius.register_nas("127.0.0.1", secret, "Rongai", coa_port=nas.port)
        services.set_customer_active(subscribed, True)
        assert radius.has_access(subscribed.username)
        RadAcct.objects.create(acct_session_id="s1", acct_unique_id="u1", username=subscribed.username,
                               nas_ip_address="127.0.0.1", acct_start_time=timezone.now())
        client = signed_in(SUPPORT)
        client.post(f"/customers/{subscribed.pk}/deactivate/")
        subscribed.refresh_from_db()
        assert subscribed.status == "inactive" and not radius.has_access(subscribed.username)
        assert [r.attributes["User-Name"] for r in nas.received] == [subscribed.username]
        assert CoaAttempt.objects.get().requested_by == "samuel"
        client.post(f"/customers/{subscribed.pk}/activate/")
    group = RadCheck.objects.filter(username=subscribed.username, attribute="Expiration").exists()
    assert radius.has_access(subscribed.username) and group
    assert radius.access_of(subscribed.username)["groups"] == [subscribed.subscriptions.get().package.radius_group]


def test_the_api_manages_customers(client, admin, finance_clerk):
    made = client.post("/api/users", {"phone": "0711 222 333", "name": "Akinyi"}, content_type="application/json",
                       **bearer(admin))
    assert made.status_code == 201 and made.json()["phone"] == "254711222333" and made.json()["username"]
    customer_id = made.json()["id"]
    again = client.post("/api/users", {"phone": "254711222333"}, content_type="application/json", **bearer(admin))
    assert again.status_code == 409
    bad = client.post("/api/users", {"phone": "nope"}, content_type="application/json", **bearer(admin))
    assert bad.status_code == 422 and "Kenyan mobile number" in bad.json()["detail"]
    page = client.get("/api/users?q=Akinyi", **bearer(finance_clerk)).json()
    assert page["count"] == 1 and "password" not in page["results"][0]
    changed = client.put(f"/api/users/{customer_id}", {"phone": "0711222333", "name": "Akinyi O.",
                         "service_type": "pppoe"}, content_type="application/json", **bearer(admin)).json()
    assert changed["name"] == "Akinyi O." and changed["service_type"] == "pppoe"
    assert client.post(f"/api/users/{customer_id}/deactivate", **bearer(admin)).json()["status"] == "inactive"
    assert client.post(f"/api/users/{customer_id}/disconnect", **bearer(admin)).json()["disconnected"] == 0
    hotspot = client.post("/api/hotspot/users", {"phone": "0799 000 111", "service_type": "pppoe"},
                          content_type="application/json", **bearer(admin)).json()
    assert hotspot["service_type"] == "hotspot"
    assert client.get("/api/hotspot/users", **bearer(admin)).json()["count"] == 1
    stats = client.get("/api/hotspot/stats", **bearer(admin)).json()
    assert stats["customers"] == {"total": 2, "hotspot": 1, "pppoe": 1, "active": 1}
    assert client.delete(f"/api/users/{customer_id}", **bearer(admin)).status_code == 204
