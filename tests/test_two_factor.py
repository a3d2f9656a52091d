"""Two-factor sign-in for staff: an authenticator code after the password (page and API), recovery
codes that work once, wrong codes counted towards the lockout, and the Admin rule of the security setting."""
import base64
import time

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django_otp.oath import TOTP, totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import two_factor
from accounts.models import User
from accounts.roles import ADMIN, FINANCE
from accounts.views.login import PENDING
from audit.models import Entry
from siteconfig import store

from .browser import SCREENSHOTS
from .staff_kit import PASSWORD, make_staff

pytestmark = pytest.mark.django_db


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows for ``device`` (``steps_ahead`` 30-second steps later:
    a code once accepted is not taken again, the next step's is, within the one step of tolerance)."""
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, steps_ahead):0{device.digits}d}"


def enrol(user) -> tuple[TOTPDevice, list[str]]:
    """``user`` with a confirmed authenticator (its current step used up) and their recovery codes."""
    device = two_factor.start_enrolment(user)
    codes = two_factor.confirm_enrolment(user, code_for(device))
    device.refresh_from_db()
    return device, codes


def password_step(client, username="amani", password=PASSWORD, ip="10.0.0.5", **fields):
    return client.post("/login/", {"username": username, "password": password, **fields}, REMOTE_ADDR=ip)


def code_step(client, code, ip="10.0.0.5"):
    return client.post("/login/code/", {"code": code}, REMOTE_ADDR=ip)


def api_login(client, ip="10.0.0.5", **body):
    return client.post("/api/login", {"username": "amani", "password": PASSWORD, **body},
                       content_type="application/json", REMOTE_ADDR=ip)


@pytest.fixture
def admin_with_app(admin):
    device, codes = enrol(admin)
    return admin, device, codes


def test_the_right_password_alone_does_not_sign_in_someone_with_an_authenticator(client, admin_with_app):
    response = password_step(client, next="/staff/")
    assert response.status_code == 302 and response.url == "/login/code/"
    assert client.get("/").status_code == 302  # not signed in yet
    page = client.get("/login/code/")
    assert page.status_code == 200 and "Signing in as <strong>amani</strong>" in page.content.decode()
    assert not Entry.objects.filter(action="signed_in").exists()


def test_a_wrong_code_is_a_form_error_and_the_right_one_signs_in(client, admin_with_app):
    admin, device, _ = admin_with_app
    password_step(client, next="/staff/")
    wrong = code_step(client, "000000" if code_for(device, 1) != "000000" else "111111")
    assert wrong.status_code == 200 and two_factor.WRONG_CODE in wrong.content.decode()
    assert client.get("/").status_code == 302
    right = code_step(client, code_for(device, 1))
    assert right.status_code == 302 and right.url == "/staff/"
    assert client.get("/").status_code == 200
    assert client.session["otp_device_id"] == device.persistent_id  # django-otp: verified this session
    signed_in = Entry.objects.get(action="signed_in")
    assert (signed_in.actor_name, signed_in.note) == ("amani", "page, with an authenticator code")
    failed = Entry.objects.get(action="sign_in_failed")
    assert (failed.object_label, failed.actor_kind, failed.note) == ("amani", "system", "page: wrong two-factor code")


def test_a_used_code_is_not_taken_twice(client, admin_with_app):
    _, device, _ = admin_with_app
    password_step(client)
    # The code of the very step enrolment used, not of the step now: on a slow machine a 30-second
    # step can end between enrolling and this request, and the new step's code is rightly taken.
    used = TOTP(device.bin_key, device.step, device.t0, device.digits)
    used.time = device.t0 + device.last_t * device.step
    response = code_step(client, f"{used.token():0{device.digits}d}")
    assert two_factor.WRONG_CODE in response.content.decode()


def test_the_code_step_lasts_five_minutes(client, admin_with_app):
    _, device, _ = admin_with_app
    password_step(client)
    session = client.session
    session[PENDING] = {**session[PENDING], "until": time.time() - 1}
    session.save()
    response = code_step(client, code_for(device, 1))
    assert response.status_code == 302 and response.url == "/login/"
    assert client.get("/").status_code == 302


def test_the_code_page_without_a_password_first_goes_back_to_sign_in(client, admin_with_app):
    assert client.get("/login/code/").url == "/login/"


def test_a_recovery_code_works_once(client, admin_with_app):
    admin, _, codes = admin_with_app
    assert len(codes) == 10 and len(set(codes)) == 10
    password_step(client)
    assert code_step(client, codes[3].upper()).url == "/"
    assert Entry.objects.get(action="signed_in").note == "page, with a recovery code"
    assert two_factor.recovery_codes_left(admin) == 9
    client.post("/logout/")
    password_step(client)
    assert two_factor.WRONG_CODE in code_step(client, codes[3]).content.decode()
    assert code_step(client, codes[4]).url == "/"


@override_settings(LOGIN_FAILURES_PER_USERNAME=3, LOGIN_FAILURES_PER_IP=100)
def test_wrong_codes_count_towards_the_lockout_like_wrong_passwords(client, admin_with_app):
    _, device, _ = admin_with_app
    assert password_step(client, password="wrong").status_code == 200  # 1 failure
    password_step(client)  # the right password is not a failure, nor a sign-in
    assert code_step(client, "123456x").status_code == 200  # 2
    locked = code_step(client, "999999" if code_for(device, 1) != "999999" else "888888")  # 3: locked
    assert locked.status_code == 429 and "Too many failed sign-in attempts" in locked.content.decode()
    assert locked["Retry-After"]
    # Locked means locked: the right code, and the right password from another address, wait too.
    assert code_step(client, code_for(device, 1)).status_code == 429
    assert password_step(client, ip="10.9.9.9").status_code == 429
    assert client.get("/").status_code == 302
    # The code that locked, then the right code and the right password refused while locked.
    assert Entry.objects.filter(action="sign_in_failed", note="page: locked out").count() == 3


@override_settings(LOGIN_FAILURES_PER_USERNAME=3, LOGIN_FAILURES_PER_IP=100)
def test_a_right_code_forgives_the_attempt_and_clears_the_count(client, admin_with_app):
    _, device, _ = admin_with_app
    for _ in range(2):
        password_step(client)
        code_step(client, "12345z")  # 2 failures
    password_step(client)
    assert code_step(client, code_for(device, 1)).status_code == 302
    client.post("/logout/")
    password_step(client)
    assert code_step(client, "12345z").status_code == 200  # counting starts again: not locked


def test_the_api_token_needs_the_code(client, admin_with_app):
    _, device, codes = admin_with_app
    asked = api_login(client)
    assert asked.status_code == 401 and asked.json()["detail"].startswith("otp required")
    wrong = api_login(client, otp="000000" if code_for(device, 1) != "000000" else "111111")
    assert wrong.status_code == 401 and wrong.json()["detail"] == two_factor.WRONG_CODE
    issued = api_login(client, otp=code_for(device, 1))
    assert issued.status_code == 200 and issued.json()["token"].startswith("hsp_")
    assert api_login(client, otp=codes[0]).status_code == 200
    assert Entry.objects.filter(action="signed_in", note="API, with a recovery code").count() == 1
    # A wrong password with a code is still a wrong password.
    assert api_login(client, password="nope", otp=codes[1]).json()["detail"] == "Wrong username or password."


@override_settings(LOGIN_FAILURES_PER_USERNAME=2, LOGIN_FAILURES_PER_IP=100)
def test_wrong_codes_to_the_api_lock_it_out(client, admin_with_app):
    _, device, _ = admin_with_app
    assert api_login(client, otp="abc").status_code == 401
    locked = api_login(client, otp="abd")
    assert locked.status_code == 429 and locked["Retry-After"]
    assert api_login(client, otp=code_for(device, 1)).status_code == 429


def test_someone_without_an_authenticator_signs_in_with_the_password_alone(client, admin):
    assert password_step(client).url == "/"
    assert api_login(client).status_code == 200


def test_a_staff_member_enrols_makes_new_codes_and_turns_it_off_on_the_page(client, finance_clerk):
    client.force_login(finance_clerk)
    assert "Set up an authenticator app" in client.get("/account/two-factor/").content.decode()
    assert client.post("/account/two-factor/start/").url == "/account/two-factor/"
    page = client.get("/account/two-factor/").content.decode()
    device = two_factor.unconfirmed(finance_clerk)
    assert "<svg" in page and two_factor.secret_text(device) in page
    wrong = client.post("/account/two-factor/confirm/", {"code": "12"})
    assert "That code is not right" in wrong.content.decode() and not two_factor.is_enrolled(finance_clerk)
    shown = client.post("/account/two-factor/confirm/", {"code": code_for(device)})
    codes = shown.context["codes"]
    assert "no-store" in shown["Cache-Control"] and all(code in shown.content.decode() for code in codes)
    assert two_factor.is_enrolled(finance_clerk)
    # The codes are shown once: the page afterwards only counts them.
    after = client.get("/account/two-factor/").content.decode()
    assert "10 recovery codes left" in after and codes[0] not in after

    refused = client.post("/account/two-factor/recovery-codes/", {"password_or_code": "guess"})
    assert "neither your password nor a current code" in refused.content.decode()
    renewed = client.post("/account/two-factor/recovery-codes/", {"password_or_code": PASSWORD}).context["codes"]
    assert set(renewed).isdisjoint(codes) and two_factor.recovery_codes_left(finance_clerk) == 10

    assert client.post("/account/two-factor/disable/", {"password_or_code": renewed[0]}).url == "/account/two-factor/"
    assert not two_factor.is_enrolled(finance_clerk) and two_factor.recovery_codes_left(finance_clerk) == 0

    entries = Entry.objects.filter(object_type="accounts.user", object_id=str(finance_clerk.pk)).order_by("at")
    assert [(e.action, e.actor_name) for e in entries] == [
        ("two_factor_enrolled", "faith"), ("recovery_codes_regenerated", "faith"), ("two_factor_disabled", "faith")]
    # Neither the key nor a recovery code is in the trail.
    trail_text = " ".join(f"{e.note} {e.changes} {e.object_label}" for e in Entry.objects.all())
    assert device.key not in trail_text and two_factor.secret_text(device).replace(" ", "") not in trail_text
    assert not any(code in trail_text for code in codes + renewed)


def test_an_admin_resets_a_staff_members_two_factor(client, admin, finance_clerk):
    enrol(finance_clerk)
    client.force_login(admin)
    page = client.get(f"/staff/{finance_clerk.pk}/").content.decode()
    assert "Reset two-factor sign-in" in page
    assert '<span class="badge good" title="Signs in with an authenticator code">2FA</span>' in (
        client.get("/staff/").content.decode())
    assert client.post(f"/staff/{finance_clerk.pk}/two-factor/reset/").url == f"/staff/{finance_clerk.pk}/"
    assert not two_factor.is_enrolled(finance_clerk)
    entry = Entry.objects.get(action="two_factor_reset")
    assert (entry.object_label, entry.actor_name) == ("faith", "amani")
    client.logout()
    assert password_step(client, username="faith").url == "/"


def test_an_admin_cannot_reset_their_own_from_the_staff_page(client, admin_with_app):
    admin, _, _ = admin_with_app
    client.force_login(admin)
    client.post(f"/staff/{admin.pk}/two-factor/reset/")
    assert two_factor.is_enrolled(admin)


def test_the_security_setting_makes_admins_enrol_before_anything_else(client, admin, finance_clerk):
    store.save("security", {"require_two_factor_for_admin": True})
    response = password_step(client)
    assert response.status_code == 302 and response.url == "/account/two-factor/"
    for url in ("/", "/customers/", "/staff/"):
        assert client.get(url).url == "/account/two-factor/", url
    assert client.get("/api/user").status_code == 403
    assert "Admins must use two-factor sign-in here" in client.get("/account/two-factor/").content.decode()
    refused = api_login(client)
    assert refused.status_code == 403 and "/account/two-factor/" in refused.json()["detail"]
    # Finance is not an Admin: not obliged.
    assert api_login(Client(), username="faith").status_code == 200

    client.post("/account/two-factor/start/")
    device = two_factor.unconfirmed(admin)
    client.post("/account/two-factor/confirm/", {"code": code_for(device)})
    assert client.get("/customers/").status_code == 200
    # While the setting is on, an Admin cannot turn it off.
    off = client.post("/account/two-factor/disable/", {"password_or_code": PASSWORD})
    assert "so it stays on" in off.content.decode() and two_factor.is_enrolled(admin)
    assert api_login(client, otp=code_for(device, 1)).status_code == 200


def test_the_setting_off_leaves_admins_free(client, admin):
    store.save("security", {"require_two_factor_for_admin": False})
    assert password_step(client).url == "/"
    assert client.get("/customers/").status_code == 200


def test_two_factor_in_the_staff_list_costs_no_extra_query(client, admin):
    for n in range(5):
        make_staff(f"clerk{n}", FINANCE)
    client.force_login(admin)
    client.get("/staff/")  # warm: session and settings
    with CaptureQueriesContext(connection) as none_enrolled:
        client.get("/staff/")
    for n in range(5):
        enrol(User.objects.get(username=f"clerk{n}"))
    with CaptureQueriesContext(connection) as five_enrolled:
        page = client.get("/staff/").content.decode()
    assert page.count(">2FA</span>") == 5
    assert len(five_enrolled) == len(none_enrolled)


# --- in a real browser (last in this module: Playwright's loop stays on the thread until the module ends)


def _code_from_page_secret(secret: str, steps_ahead: int = 0) -> str:
    key = base64.b32decode(secret.replace(" ", ""))
    return f"{totp(key, drift=steps_ahead):06d}"


def _enrol_sign_out_and_back_in(page, base, username, shots):
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/account/two-factor/")
    page.click("text=Set up an authenticator app")
    page.wait_for_selector("svg.segno")
    page.screenshot(path=SCREENSHOTS / f"two-factor-enrol-{shots}.png", full_page=True)
    secret = page.inner_text("[data-secret]")
    page.fill("input[name=code]", _code_from_page_secret(secret))
    page.click("text=Confirm and turn on")
    page.wait_for_selector("[data-recovery-code]")
    codes = page.locator("[data-recovery-code]").all_inner_texts()
    assert len(codes) == 10
    page.screenshot(path=SCREENSHOTS / f"two-factor-recovery-codes-{shots}.png", full_page=True)
    page.goto(f"{base}/account/two-factor/")  # shown once: now only counted
    assert "10 recovery codes left" in page.content() and codes[0] not in page.content()

    page.click("text=Sign out")
    page.wait_for_url(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/login/code/")
    page.screenshot(path=SCREENSHOTS / f"two-factor-code-step-{shots}.png", full_page=True)
    page.fill("input[name=code]", _code_from_page_secret(secret, steps_ahead=1))
    page.click("text=Verify and sign in")
    page.wait_for_url(f"{base}/")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_enrolling_in_the_browser_then_signing_in_with_the_code(served, chromium):
    make_staff("amani", ADMIN)
    make_staff("faith", FINANCE)
    page = chromium.new_page(viewport={"width": 1280, "height": 800})
    _enrol_sign_out_and_back_in(page, served, "amani", "1280")
    page.close()
    phone = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    _enrol_sign_out_and_back_in(phone.new_page(), served, "faith", "390")
    phone.close()
    assert two_factor.is_enrolled(User.objects.get(username="amani"))
