"""The Content-Security-Policy header: on every page, no inline script allowed, and the portal's
connect page alone may post a form to the router (the validated origin, nothing else)."""
import pytest

from hotspot import services, vouchers
from hotspot.models import Package

pytestmark = pytest.mark.django_db
ROUTER = {"mac": "AA:BB:CC:DD:EE:61", "ip": "10.5.50.61", "link-login-only": "http://10.5.50.1:8080/login?x=1",
          "link-orig": "http://example.com/"}


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in header.split(";") if part.strip())}


def test_pages_allow_script_from_our_files_only(client, admin_client):
    for response in (client.get("/portal/"), client.get("/login/"), admin_client.get("/"),
                     client.get("/api/health/ping"), client.get("/customers/")):
        policy = directives(response)
        assert policy["script-src"] == ["'self'"] and policy["form-action"] == ["'self'"]
        assert policy["connect-src"] == ["'self'"] and policy["frame-ancestors"] == ["'none'"]


def test_the_connect_page_may_post_to_its_router_and_only_there(client):
    package = services.save_package(Package(name="Daily", price=50, validity_minutes=1440))
    code, other = vouchers.generate_batch(package, 2).vouchers.values_list("code", flat=True)
    connect = client.post("/portal/voucher/", {"code": code, **ROUTER})
    assert b'action="http://10.5.50.1:8080/login?x=1"' in connect.content
    assert directives(connect)["form-action"] == ["'self'", "http://10.5.50.1:8080"]
    elsewhere = client.post("/portal/voucher/", {"code": other, **ROUTER, "link-login-only": "http://evil.example/"})
    assert b"Connect" in elsewhere.content and b'id="go"' not in elsewhere.content  # no router: no form
    assert directives(elsewhere)["form-action"] == ["'self'"]
