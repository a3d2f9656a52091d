"""One address, one RADIUS client: a second router at an address another router's RADIUS secret
already holds is refused (FreeRADIUS tells clients apart by source address only), never silently
given the first router's NAS row with its own secret."""
import json

import pytest

from accounts.roles import TECHNICIAN
from radius.models import Nas
from routers import services
from routers.models import Router

from .staff_kit import bearer

pytestmark = pytest.mark.django_db
KILIMANI_SECRET, RONGAI_SECRET = "kilimani-radius-secret", "rongai-radius-secret"


def kilimani() -> Router:
    return services.create_router(name="Kilimani Hotspot", host="10.8.0.2", api_username="admin",
                                  api_password="api-password", radius_secret=KILIMANI_SECRET)


def call(client, user, method, url, body):
    return getattr(client, method)(url, json.dumps(body), content_type="application/json", **bearer(user))


def test_the_api_refuses_a_second_router_at_the_same_radius_address(client, technician):
    first = kilimani()
    added = call(client, technician, "post", "/api/routers", {
        "name": "Rongai", "host": "10.8.0.2", "api_password": "x", "radius_secret": RONGAI_SECRET})
    assert added.status_code == 409 and "Kilimani Hotspot" in added.json()["detail"]
    assert Nas.objects.get(nasname="10.8.0.2").secret == KILIMANI_SECRET
    assert not Router.objects.filter(name="Rongai").exists()
    # Moving another router onto the address is the same clash.
    rongai = call(client, technician, "post", "/api/routers", {
        "name": "Rongai", "host": "10.8.0.3", "api_password": "x", "radius_secret": RONGAI_SECRET}).json()
    moved = call(client, technician, "put", f"/api/routers/{rongai['id']}", {"host": "10.8.0.2"})
    assert moved.status_code == 409 and "Kilimani Hotspot" in moved.json()["detail"]
    assert Nas.objects.get(nasname="10.8.0.2").secret == KILIMANI_SECRET
    assert Nas.objects.get(nasname="10.8.0.3").secret == RONGAI_SECRET
    # Without a RADIUS secret a router writes no NAS row, so sharing the API address is fine.
    api_only = call(client, technician, "post", "/api/routers", {"name": "Lab", "host": "10.8.0.2",
                                                                 "api_port": 18728, "api_password": "x"})
    assert api_only.status_code == 201
    first.refresh_from_db()
    assert first.radius_secret == KILIMANI_SECRET


def test_the_page_form_names_the_router_already_at_the_address(signed_in):
    kilimani()
    client = signed_in(TECHNICIAN)
    refused = client.post("/routers/add/", {"name": "Rongai", "host": "10.8.0.2", "api_username": "admin",
                                            "api_password": "x", "radius_secret": RONGAI_SECRET})
    assert refused.status_code == 200
    assert "already the RADIUS address of router" in refused.content.decode()
    assert "Kilimani Hotspot" in refused.content.decode()
    assert Nas.objects.get(nasname="10.8.0.2").secret == KILIMANI_SECRET
    assert list(Router.objects.values_list("name", flat=True)) == ["Kilimani Hotspot"]
