"""Staff sign-in: argon2 hashes, lockout per username and per IP, idle session expiry."""
import pytest
from django.conf import settings
from django.test import override_settings

from accounts.roles import ADMIN

from .staff_kit import PASSWORD, make_staff

pytestmark = pytest.mark.django_db


def sign_in(client, username, password, ip="10.0.0.5", forwarded_for=None, **fields):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for else {}
    return client.post("/login/", {"username": username, "password": password, **fields},
                       REMOTE_ADDR=ip, **headers)


def test_it_stores_passwords_with_argon2(admin):
    assert admin.password.startswith("argon2$")


def test_it_signs_in_and_lands_on_the_dashboard(client, admin):
    response = sign_in(client, "amani", PASSWORD)
    assert response.status_code == 302 and response.url == "/"
    assert client.get("/").status_code == 200


def test_it_returns_to_the_page_asked_for(client, admin):
    response = sign_in(client, "amani", PASSWORD, next="/staff/")
    assert response.url == "/staff/"


def test_it_never_redirects_off_site(client, admin):
    response = sign_in(client, "amani", PASSWORD, next="https://evil.example/")
    assert response.url == "/"


def test_a_wrong_password_is_a_form_error(client, admin):
    response = sign_in(client, "amani", "nope")
    assert response.status_code == 200
    assert "Wrong username or password." in response.content.decode()


def test_a_deactivated_account_cannot_sign_in(client, admin):
    admin.is_active = False
    admin.save()
    assert "Wrong username or password." in sign_in(client, "amani", PASSWORD).content.decode()


@override_settings(LOGIN_FAILURES_PER_USERNAME=5, LOGIN_FAILURES_PER_IP=100)
def test_it_locks_a_username_after_repeated_failures(client, admin):
    for attempt in range(4):
        assert sign_in(client, "amani", "wrong", ip=f"10.1.0.{attempt}").status_code == 200
    locked = sign_in(client, "amani", "wrong", ip="10.1.0.9")
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts. Try again in 15 minutes." in locked.content.decode()
    # Even the right password, from another address, waits out the lockout.
    assert sign_in(client, "amani", PASSWORD, ip="10.9.9.9").status_code == 429
    make_staff("otieno")
    assert sign_in(client, "otieno", PASSWORD, ip="10.9.9.9").status_code == 302


@override_settings(LOGIN_FAILURES_PER_USERNAME=100, LOGIN_FAILURES_PER_IP=3)
def test_it_locks_an_address_that_guesses_many_usernames(client, admin):
    for name in ("a", "b"):
        sign_in(client, name, "wrong", ip="10.2.0.1")
    assert sign_in(client, "c", "wrong", ip="10.2.0.1").status_code == 429
    assert sign_in(client, "amani", PASSWORD, ip="10.2.0.1").status_code == 429
    assert sign_in(client, "amani", PASSWORD, ip="10.2.0.2").status_code == 302


@override_settings(LOGIN_FAILURES_PER_USERNAME=3)
def test_a_successful_sign_in_clears_the_username_count(client, admin):
    sign_in(client, "amani", "wrong")
    sign_in(client, "amani", "wrong")
    assert sign_in(client, "amani", PASSWORD).status_code == 302
    client.logout()
    sign_in(client, "amani", "wrong")
    sign_in(client, "amani", "wrong")
    assert sign_in(client, "amani", PASSWORD).status_code == 302


@override_settings(TRUSTED_PROXY_COUNT=1, LOGIN_FAILURES_PER_USERNAME=100, LOGIN_FAILURES_PER_IP=2)
def test_behind_a_trusted_proxy_the_forwarded_address_is_counted(client, admin):
    sign_in(client, "x", "wrong", ip="172.18.0.2", forwarded_for="41.90.1.1")
    sign_in(client, "y", "wrong", ip="172.18.0.2", forwarded_for="41.90.1.1")
    assert sign_in(client, "amani", PASSWORD, ip="172.18.0.2", forwarded_for="41.90.1.2").status_code == 302


def test_the_session_ends_after_idle_time(client, admin):
    sign_in(client, "amani", PASSWORD)
    assert settings.SESSION_SAVE_EVERY_REQUEST
    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE == 120 * 60
    session = client.session
    session.set_expiry(-1)
    session.save()
    response = client.get("/")
    assert response.status_code == 302 and response.url.startswith("/login/")


def test_sign_out_is_a_post(signed_in):
    client = signed_in(ADMIN)
    assert client.get("/logout/").status_code == 405
    response = client.post("/logout/")
    assert response.url == "/login/"
    assert client.get("/").status_code == 302


def test_the_login_page_needs_no_javascript(client):
    html = client.get("/login/").content.decode()
    assert "<script" not in html
    assert 'name="csrfmiddlewaretoken"' in html
