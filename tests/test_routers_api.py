"""Routers through the API: a technician adds, lists, changes, removes and tests them; passwords and
secrets are stored encrypted and never answered; the test logs in to a simulated RouterOS."""
import json

import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.test import override_settings

from radius.models import Nas
from routers import services
from routers.models import Router, ServiceControlLog
from routers.routeros_simulator import RouterOSSimulator

from .staff_kit import bearer

API_PASSWORD = "kilimani-api-secret"
RADIUS_SECRET = "kilimani-radius-secret"
QUERIES = 5  # the list, whatever its length: token, two for permissions, count, rows


@pytest.fixture
def as_technician(client, technician):
    headers = bearer(technician)

    def call(method: str, url: str, body: dict | None = None):
        return getattr(client, method)(url, json.dumps(body) if body is not None else None,
                                       content_type="application/json", **headers)
    return call


@pytest.fixture
def kilimani_router():
    with RouterOSSimulator(identity="Kilimani Hotspot", password=API_PASSWORD) as running:
        yield running


def make_router(name="Kilimani Hotspot", host="127.0.0.1", port=8728, password=API_PASSWORD, **extra) -> Router:
    return services.create_router(name=name, host=host, api_port=port, api_username="admin",
                                  api_password=password, **extra)


def raw_column(router: Router, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM routers_router WHERE id = %s", [router.pk])
        return cursor.fetchone()[0]


def assert_no_secrets(response, *secrets):
    for secret in secrets:
        assert secret not in response.content.decode()


@pytest.mark.django_db
def test_it_adds_a_router_with_its_password_encrypted_and_its_radius_client(as_technician, technician):
    response = as_technician("post", "/api/routers", {
        "name": "Kilimani Hotspot", "host": "10.8.0.2", "api_port": 8729, "api_username": "billing",
        "api_password": API_PASSWORD, "use_tls": True, "radius_secret": RADIUS_SECRET})

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"] and body["name"] == "Kilimani Hotspot" and body["use_tls"] is True
    assert body["has_api_password"] is True and body["has_radius_secret"] is True
    assert "api_password" not in body and "radius_secret" not in body
    assert_no_secrets(response, API_PASSWORD, RADIUS_SECRET)
    router = Router.objects.get(pk=body["id"])
    assert router.api_password == API_PASSWORD and router.radius_secret == RADIUS_SECRET
    assert API_PASSWORD not in raw_column(router, "api_password")
    assert RADIUS_SECRET not in raw_column(router, "radius_secret")
    assert Nas.objects.get(nasname="10.8.0.2").secret == RADIUS_SECRET
    log = ServiceControlLog.objects.get(router=router)
    assert (log.action, log.outcome, log.user) == ("create", "ok", technician)


@pytest.mark.django_db
def test_it_picks_the_api_ssl_port_when_tls_is_on_and_none_is_given(as_technician):
    response = as_technician("post", "/api/routers", {"name": "Rongai", "host": "rongai.example.net",
                                                      "use_tls": True})
    assert response.status_code == 201 and response.json()["api_port"] == 8729
    assert response.json()["has_api_password"] is False


@pytest.mark.django_db
@pytest.mark.parametrize("body, cause", [
    ({"host": "not a host!"}, "host"),
    ({"host": "10.0.0.300"}, "host"),
    ({"host": "10.8.0.2", "api_port": 0}, "api_port"),
    ({"host": "10.8.0.2", "api_port": 65536}, "api_port"),
    ({"host": "rongai.example.net", "radius_secret": RADIUS_SECRET}, "IP address"),
    ({"host": "10.8.0.2", "radius_secret": "short"}, "8 characters"),
])
def test_it_refuses_bad_input(as_technician, body, cause):
    response = as_technician("post", "/api/routers", {"name": "Rongai", **body})
    assert response.status_code == 422
    assert cause in json.dumps(response.json())
    assert not Router.objects.exists() and not Nas.objects.exists()


@pytest.mark.django_db
def test_it_refuses_a_second_router_with_the_same_name(as_technician):
    make_router()
    response = as_technician("post", "/api/routers", {"name": "Kilimani Hotspot", "host": "10.8.0.9"})
    assert response.status_code == 409 and "already exists" in response.json()["detail"]


@pytest.mark.django_db
def test_it_lists_and_shows_routers_without_their_secrets(as_technician, django_assert_num_queries):
    make_router(name="Rongai Main", host="10.8.0.3")
    as_technician("get", "/api/routers")  # the token's first use also records it
    with django_assert_num_queries(QUERIES):
        as_technician("get", "/api/routers")
    make_router(radius_secret=RADIUS_SECRET)

    with django_assert_num_queries(QUERIES):
        listed = as_technician("get", "/api/routers")
    assert listed.status_code == 200
    assert listed.json()["count"] == 2
    assert [r["name"] for r in listed.json()["results"]] == ["Kilimani Hotspot", "Rongai Main"]
    assert_no_secrets(listed, API_PASSWORD, RADIUS_SECRET)

    one = as_technician("get", f"/api/routers/{listed.json()['results'][0]['id']}")
    assert one.status_code == 200 and one.json()["has_radius_secret"] is True
    assert_no_secrets(one, API_PASSWORD, RADIUS_SECRET)
    assert as_technician("get", "/api/routers/999999").status_code == 404


@pytest.mark.django_db
def test_it_changes_a_router_keeping_secrets_not_sent(as_technician):
    router = make_router(host="10.8.0.2", radius_secret=RADIUS_SECRET)

    response = as_technician("put", f"/api/routers/{router.pk}", {"site": "Kilimani, Nairobi", "host": "10.8.0.7"})

    assert response.status_code == 200 and response.json()["site"] == "Kilimani, Nairobi"
    assert_no_secrets(response, API_PASSWORD, RADIUS_SECRET)
    router.refresh_from_db()
    assert router.api_password == API_PASSWORD and router.radius_secret == RADIUS_SECRET
    assert list(Nas.objects.values_list("nasname", flat=True)) == ["10.8.0.7"]
    log = ServiceControlLog.objects.filter(action="update").get()
    assert log.detail == "changed: host, site"

    as_technician("put", f"/api/routers/{router.pk}", {"api_password": "rotated-password"})
    router.refresh_from_db()
    assert router.api_password == "rotated-password"
    assert as_technician("put", f"/api/routers/{router.pk}", {"api_port": 70000}).status_code == 422


@pytest.mark.django_db
def test_it_removes_a_router_and_its_radius_client(as_technician):
    router = make_router(host="10.8.0.2", radius_secret=RADIUS_SECRET)

    response = as_technician("delete", f"/api/routers/{router.pk}")

    assert response.status_code == 204
    assert not Router.objects.exists() and not Nas.objects.exists()
    log = ServiceControlLog.objects.get(action="delete")
    assert log.router is None and log.router_name == "Kilimani Hotspot"
    assert as_technician("delete", f"/api/routers/{router.pk}").status_code == 404


@pytest.mark.django_db
def test_the_test_logs_in_and_learns_identity_version_and_model(as_technician, kilimani_router, technician):
    router = make_router(port=kilimani_router.port)

    response = as_technician("post", f"/api/routers/{router.pk}/test")

    assert response.status_code == 200, response.content
    assert response.json() == {"ok": True, "identity": "Kilimani Hotspot", "version": kilimani_router.version,
                               "model": kilimani_router.model}
    router.refresh_from_db()
    assert (router.status, router.identity, router.version) == ("online", "Kilimani Hotspot", kilimani_router.version)
    assert router.last_seen_at is not None and router.last_error == ""
    log = ServiceControlLog.objects.get(action="test")
    assert (log.outcome, log.user) == ("ok", technician)


@pytest.mark.django_db
def test_a_wrong_password_is_a_502_naming_auth_failed(as_technician, kilimani_router):
    router = make_router(port=kilimani_router.port, password="not-the-password")

    response = as_technician("post", f"/api/routers/{router.pk}/test")

    assert response.status_code == 502
    assert response.json()["reason"] == "auth_failed"
    router.refresh_from_db()
    assert router.status == "error" and router.last_error.startswith("auth_failed")
    assert ServiceControlLog.objects.get(action="test").outcome == "failed"


@pytest.mark.django_db
def test_a_dead_router_is_a_502_naming_unreachable(as_technician):
    with RouterOSSimulator(dead="refused") as dead:
        router = make_router(port=dead.port)
        response = as_technician("post", f"/api/routers/{router.pk}/test")

    assert response.status_code == 502 and response.json()["reason"] == "unreachable"
    router.refresh_from_db()
    assert router.status == "offline" and router.last_seen_at is None
    assert as_technician("post", "/api/routers/999999/test").status_code == 404


@pytest.mark.django_db
def test_health_counts_routers_by_status(as_technician):
    make_router()
    Router.objects.create(name="Ruaka Estate", host="10.8.0.5", status=Router.Status.ONLINE)

    response = as_technician("get", "/api/health/routers")

    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 2
    assert body["counts"] == {"online": 1, "offline": 1, "provisioning": 0, "error": 0}
    assert [(r["name"], r["status"]) for r in body["routers"]] == [("Kilimani Hotspot", "offline"),
                                                                   ("Ruaka Estate", "online")]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["finance_clerk", "support_agent"])
def test_finance_and_support_cannot_reach_routers(client, request, persona):
    user = request.getfixturevalue(persona)
    router = make_router()
    for method, url in [("get", "/api/routers"), ("get", f"/api/routers/{router.pk}"),
                        ("post", f"/api/routers/{router.pk}/test"), ("get", "/api/health/routers")]:
        assert getattr(client, method)(url, content_type="application/json", **bearer(user)).status_code == 403


# --- secrets at rest --------------------------------------------------------------------------------

OLD_KEY, NEW_KEY = Fernet.generate_key().decode(), Fernet.generate_key().decode()


@pytest.mark.django_db
def test_a_new_key_put_first_still_reads_secrets_written_with_the_old_one():
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD_KEY]):
        router = make_router()
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY, OLD_KEY]):
        assert Router.objects.get(pk=router.pk).api_password == API_PASSWORD


@pytest.mark.django_db
def test_a_secret_no_key_opens_is_kept_and_the_test_asks_for_it_again(as_technician):
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD_KEY]):
        router = make_router()
    token = raw_column(router, "api_password")

    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY]):
        router = Router.objects.get(pk=router.pk)
        assert router.api_password == ""
        router.save()  # keeps the token
        assert as_technician("get", f"/api/routers/{router.pk}").json()["has_api_password"] is True
        response = as_technician("post", f"/api/routers/{router.pk}/test")

    assert raw_column(router, "api_password") == token
    assert response.status_code == 502 and response.json()["reason"] == "secret_unreadable"
