"""The JSON API's sign-in: bearer tokens stored hashed, with expiry, refresh and sign-out."""
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from accounts.models import ApiToken

from .staff_kit import PASSWORD

pytestmark = pytest.mark.django_db


def api_login(client, username="amani", password=PASSWORD, ip="10.0.0.7"):
    return client.post("/api/login", {"username": username, "password": password},
                       content_type="application/json", REMOTE_ADDR=ip)


def auth(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_it_issues_a_bearer_token_with_an_expiry(client, admin):
    response = api_login(client)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["token"].startswith("hsp_")
    stored = ApiToken.objects.get(user=admin)
    assert body["token"] not in (stored.digest, stored.prefix) and len(stored.digest) == 64
    expires = timezone.datetime.fromisoformat(body["expires_at"])
    assert timedelta(hours=11, minutes=59) < expires - timezone.now() <= timedelta(hours=12)


def test_the_token_identifies_the_user(client, finance_clerk):
    token = api_login(client, "faith").json()["token"]
    me = client.get("/api/user", **auth(token)).json()
    assert me["username"] == "faith" and me["roles"] == ["Finance"]
    assert "billing.view_payment" in me["permissions"] and "routers.view_router" not in me["permissions"]


def test_wrong_credentials_are_a_401_with_a_message(client, admin):
    response = api_login(client, password="nope")
    assert response.status_code == 401
    assert response.json() == {"detail": "Wrong username or password."}


@override_settings(LOGIN_FAILURES_PER_USERNAME=3)
def test_the_api_shares_the_login_lockout(client, admin):
    for _ in range(2):
        api_login(client, password="nope")
    locked = api_login(client, password="nope")
    assert locked.status_code == 429 and "Too many failed sign-in attempts" in locked.json()["detail"]
    assert api_login(client).status_code == 429
    assert client.post("/login/", {"username": "amani", "password": PASSWORD}).status_code == 429


def test_a_malformed_body_is_a_422_naming_the_field(client):
    response = client.post("/api/login", {"username": "x"}, content_type="application/json")
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "Invalid request" and body["errors"][0]["loc"][-1] == "password"
    not_json = client.post("/api/login", "{not json", content_type="application/json")
    assert not_json.status_code in (400, 422) and "detail" in not_json.json()


def test_refresh_replaces_the_token(client, admin):
    old = api_login(client).json()["token"]
    new = client.post("/api/refresh", **auth(old)).json()["token"]
    assert new != old
    assert client.get("/api/user", **auth(old)).status_code == 401
    assert client.get("/api/user", **auth(new)).status_code == 200
    assert client.post("/api/refresh", **auth(old)).status_code == 401


def test_logout_revokes_the_token(client, admin):
    token = api_login(client).json()["token"]
    assert client.post("/api/logout", **auth(token)).json() == {"detail": "Token revoked"}
    assert client.get("/api/user", **auth(token)).status_code == 401


def test_an_expired_token_is_refused(client, admin):
    token = api_login(client).json()["token"]
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get("/api/user", **auth(token))
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Bearer"


def test_a_garbage_token_is_refused(client, admin):
    assert client.get("/api/user", **auth("hsp_forged")).status_code == 401
    assert client.get("/api/user", HTTP_AUTHORIZATION="Basic YTpi").status_code == 401


def test_a_browser_session_works_but_needs_csrf_for_writes(admin):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin)
    assert browser.get("/api/user").json()["username"] == "amani"
    refused = browser.post("/api/refresh")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]


def test_refresh_and_logout_need_the_token_itself(admin_client):
    response = admin_client.post("/api/logout")
    assert response.status_code == 400 and "bearer token" in response.json()["detail"]


def test_unknown_api_paths_are_json_404s(client):
    response = client.get("/api/no-such-thing")
    assert response.status_code == 404 and response.json() == {"detail": "Not found"}


def test_the_openapi_document_lists_the_endpoints(admin_client):
    spec = admin_client.get("/api/openapi.json").json()
    for path in ("/api/login", "/api/logout", "/api/refresh", "/api/user", "/api/health"):
        assert path in spec["paths"]
    docs = admin_client.get("/api/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()


def test_the_500_page_needs_no_database(rf):
    from config.urls import server_error

    response = server_error(rf.get("/some/page/"))
    assert response.status_code == 500 and b"Something went wrong" in response.content
    api = server_error(rf.get("/api/thing"))
    assert api.status_code == 500 and b"Internal error" in api.content


BIG_LISTS = {"/api/payments", "/api/hotspot/sessions", "/api/logs/sessions"}


@pytest.mark.parametrize("path, most", [
    ("/api/payments", 200), ("/api/hotspot/sessions", 200), ("/api/logs/sessions", 200), ("/api/users", 200),
    ("/api/hotspot/users", 200), ("/api/routers", 200), ("/api/hotspot/vouchers", 1000)])
def test_every_list_pages_within_the_same_bounds(client, admin, path, most):
    headers = auth(api_login(client).json()["token"])
    for query in ("limit=0", f"limit={most + 1}", "offset=-1"):
        answer = client.get(f"{path}?{query}", **headers)
        assert answer.status_code == 422
        assert answer.json() == {"detail": f"limit must be 1..{most} and offset at least 0"}
    answer = client.get(f"{path}?limit={most}", **headers)
    # The lists over tables that grow without bound (payments, accounting) say whether their count is
    # PostgreSQL's estimate (lib/paging.py).
    estimated = {"count_estimated"} if path in BIG_LISTS else set()
    assert answer.status_code == 200 and set(answer.json()) == {"count", "results"} | estimated
