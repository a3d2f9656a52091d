"""Health endpoints: liveness, each part's status and latency, and the Admin's security report."""
import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.roles import ADMIN, TECHNICIAN

from .staff_kit import bearer

pytestmark = pytest.mark.django_db


def test_ping_touches_nothing(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/health/ping")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert len(queries) == 0


def test_anonymous_callers_get_status_and_latency_only(client):
    body = client.get("/api/health").json()
    assert all(set(part) == {"name", "status", "latency_ms", "critical"} for part in body["components"])
    assert set(client.get("/api/health/database").json()) == {"name", "status", "latency_ms", "critical"}


def test_health_reports_every_part_up_on_the_real_services(signed_in):
    client = signed_in(TECHNICIAN)
    response = client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    parts = {p["name"]: p for p in body["components"]}
    assert set(parts) == {"database", "cache", "channel_layer", "celery_broker"}
    assert all(p["status"] == "ok" and p["latency_ms"] >= 0 for p in parts.values())
    assert parts["database"]["detail"] == "postgresql"
    assert parts["cache"]["detail"] == "RedisCache"
    assert parts["channel_layer"]["detail"] == "RedisChannelLayer"


DEAD_REDIS = "redis://127.0.0.1:1/0"


@override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                       "LOCATION": DEAD_REDIS}})
def test_health_is_503_when_a_critical_part_is_down(client, technician):
    response = client.get("/api/health", **bearer(technician))
    assert response.status_code == 503
    parts = {p["name"]: p for p in response.json()["components"]}
    assert parts["cache"]["status"] == "down" and "Error" in parts["cache"]["detail"]
    assert parts["database"]["status"] == "ok"


def test_a_dead_channel_layer_is_reported_but_not_critical(client, settings):
    from channels.layers import channel_layers

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                                           "CONFIG": {"hosts": [DEAD_REDIS]}}}
    channel_layers.backends.clear()
    try:
        response = client.get("/api/health")
    finally:
        channel_layers.backends.clear()
    assert response.status_code == 200
    parts = {p["name"]: p for p in response.json()["components"]}
    assert parts["channel_layer"]["status"] == "down"


def test_database_health_names_the_server_and_pending_migrations(client, technician):
    body = client.get("/api/health/database", **bearer(technician)).json()
    assert body["status"] == "ok" and body["vendor"] == "postgresql"
    assert body["server_version"].split(".")[0].isdigit() and body["pending_migrations"] == 0


def test_the_security_report_is_for_admins(client, admin, finance_clerk):
    assert client.get("/api/health/security", **bearer(finance_clerk)).status_code == 403
    report = client.get("/api/health/security", **bearer(admin)).json()
    checks = {c["name"]: c for c in report["checks"]}
    assert {"debug_off", "secret_key", "https_redirect", "hsts", "session_cookie_secure",
            "csrf_cookie_secure", "staff_passwords"} <= set(checks)
    assert checks["debug_off"]["passed"]  # the suite runs with DEBUG off
    assert not checks["secret_key"]["passed"] and "development key" in checks["secret_key"]["reason"]
    assert checks["staff_passwords"]["passed"]
    assert report["passed"] is False


def test_the_security_report_names_staff_with_weak_passwords(client, admin, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "admin")
    call_command("createsuperuser", "--noinput", username="root", email="root@isp.example")
    assert User.objects.get(username="root").password_is_weak
    checks = {c["name"]: c for c in client.get("/api/health/security", **bearer(admin)).json()["checks"]}
    assert not checks["staff_passwords"]["passed"] and "root" in checks["staff_passwords"]["reason"]


@override_settings(SECURE_SSL_REDIRECT=True, SECURE_HSTS_SECONDS=31536000, SESSION_COOKIE_SECURE=True,
                   CSRF_COOKIE_SECURE=True)
def test_hardened_settings_pass(client, admin):
    checks = {c["name"]: c for c in client.get("/api/health/security", secure=True, **bearer(admin)).json()["checks"]}
    for name in ("https_redirect", "hsts", "session_cookie_secure", "csrf_cookie_secure"):
        assert checks[name]["passed"], checks[name]


def test_createsuperuser_noinput_works_the_stock_way(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "owner")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "Kenyatta-Avenue-42")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "owner@isp.example")
    call_command("createsuperuser", "--noinput")
    owner = User.objects.get(username="owner")
    assert owner.is_superuser and owner.check_password("Kenyatta-Avenue-42") and not owner.password_is_weak
    assert owner.password.startswith("argon2$")


def test_the_health_page_shows_parts_to_staff(signed_in):
    html = signed_in(TECHNICIAN).get("/health/").content.decode()
    assert "celery_broker" in html and "All critical parts up" in html and "Security" not in html
    assert "Security" in signed_in(ADMIN).get("/health/").content.decode()
