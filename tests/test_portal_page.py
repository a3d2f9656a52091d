"""The captive portal's first page from its kept rendering (hotspot.portal_page, issue 23): the same
bytes as a fresh render, each router's own variables, a package or setting change shown on the next
request, no database query while nothing changed, and still small."""
import gzip

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from hotspot import portal, services
from hotspot.models import Package
from siteconfig import store

pytestmark = pytest.mark.django_db
ROUTER = {"mac": "AA:BB:CC:DD:EE:10", "ip": "10.5.50.23", "link-login-only": "http://10.5.50.1/login",
          "link-orig": "http://example.com/?a=1&b=<2>\"'"}


def package(name="Daily", price=50, **fields):
    return services.save_package(Package(name=name, price=price, validity_minutes=1440, **fields))


def first_page(client, **params) -> str:
    response = client.get("/portal/", {**ROUTER, **params})
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("lang", ["en", "sw"])
def test_the_kept_page_is_byte_for_byte_a_fresh_render(client, lang):
    package("Day <pass> & more", 50)
    package("Week", 250, display_order=1)
    params = {**ROUTER, "lang": lang, "voucher": 'AB"<12>'}
    kept = client.get("/portal/", params)
    request = RequestFactory().get("/portal/", params)
    fresh = portal.page(request, "index.html", lang, packages=portal.on_sale(), voucher=params["voucher"])
    assert kept.content == fresh.content
    assert "Day &lt;pass&gt; &amp; more" in kept.content.decode()


def test_each_router_sees_its_own_variables(client):
    package()
    one = first_page(client)
    other = first_page(client, **{"mac": "11:22:33:44:55:66", "ip": "10.5.50.99", "link-login-only": "http://login.wifi/login",
                                  "link-orig": ""})
    assert one.count('value="http://10.5.50.1/login"') == 4 and 'value="AA:BB:CC:DD:EE:10"' in one
    assert one.count('value="http://login.wifi/login"') == 0
    assert other.count('value="http://login.wifi/login"') == 4 and 'value="11:22:33:44:55:66"' in other
    assert "AA:BB:CC:DD:EE:10" not in other and "10.5.50.1/login" not in other
    # The destination as the browser normalises it (hotspot.router_urls), escaped as the template escapes.
    assert 'value="http://example.com/?a=1&amp;b=%3C2%3E%22%27"' in one


def test_a_package_change_shows_at_once(client, django_capture_on_commit_callbacks):
    daily = package()
    assert "Daily" in first_page(client)
    daily.name, daily.price = "All day", 60
    services.save_package(daily)
    html = first_page(client)
    assert "All day" in html and "KES 60" in html and "Daily" not in html
    with django_capture_on_commit_callbacks(execute=True):
        week = package("Week", 250)
    assert "Week" in first_page(client)
    services.set_package_active(week, False)  # an UPDATE, no post_save
    assert "Week" not in first_page(client)
    services.delete_package(daily)
    assert "All day" not in first_page(client)


def package_queries(client) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as queries:
        html = first_page(client)
    return html, len([q for q in queries.captured_queries if "hotspot_package" in q["sql"]])


@pytest.mark.django_db(transaction=True)  # as a web request runs: outside a transaction
def test_no_query_while_nothing_changed_and_one_after_a_change(client):
    daily = package()
    assert package_queries(client)[1] == 1
    assert package_queries(client) == (package_queries(client)[0], 0)
    Package.objects.filter(pk=daily.pk).update(price=75)  # no signal: the kept rows stay
    assert "KES 50" in package_queries(client)[0]
    services.set_package_active(daily, True)  # the service names a new version, committed at once
    html, queries = package_queries(client)
    assert "KES 75" in html and queries == 1


def test_inside_a_transaction_the_rows_are_read_each_time_and_not_kept(client):
    package()
    assert package_queries(client)[1] == 1 and package_queries(client)[1] == 1


def test_portal_settings_and_branding_show_on_the_next_request(client):
    package()
    assert "Karibu sana" not in first_page(client)
    store.save("portal", {"welcome_text": "Karibu sana", "show_voucher": False})
    store.save("general", {"business_name": "Kilimani WiFi"})
    html = first_page(client)
    assert "Karibu sana" in html and "Kilimani WiFi" in html and "/portal/voucher/" not in html


def test_the_page_stays_small_with_many_packages(client):
    for n in range(20):
        package(f"Package number {n} with a longer name", 10 + n, display_order=n)
    response = client.get("/portal/", ROUTER, HTTP_ACCEPT_ENCODING="gzip")
    assert response["Content-Encoding"] == "gzip" and len(response.content) <= 14 * 1024
    assert len(gzip.decompress(response.content)) <= 14 * 1024
