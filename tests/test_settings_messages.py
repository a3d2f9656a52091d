"""SMS and e-mail from the settings store: the business name and saved templates make the next SMS,
Kiswahili where it applies; a template with a placeholder it may not use is a form error; "Send test
SMS" and "Send test e-mail" report what happened; the SMTP password never comes back out; a staff
member who forgot their password gets a link by e-mail (a real SMTP conversation) and signs in anew."""
import logging
import re
import socket
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from django.test import Client
from django.urls import reverse

from accounts.roles import ADMIN, SUPPORT
from audit.models import Entry
from billing import messages, payments, receipts
from billing.models import Notification
from hotspot import services
from hotspot.models import Package
from siteconfig import store

from .mail_kit import SMTP_PASSWORD, smtp_settings
from .settings_kit import save_page
from .staff_kit import bearer, make_staff

pytestmark = [pytest.mark.django_db,
              # The test SMTP server asks for a password over plain TCP on 127.0.0.1: no TLS to require.
              pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")]
PHONE = "254712345678"


@pytest.fixture
def hourly(db):
    return services.save_package(Package(name="1 Hour", price=10, validity_minutes=60))


def pay_cash(package, phone=PHONE):
    customer = services.create_customer(phone)
    payments.record_cash(customer=customer, amount=Decimal("10"), package=package, by=None)
    receipts.send_due()
    return customer, Notification.objects.filter(customer=customer).latest("created_at")


# --- the SMS texts ----------------------------------------------------------------------------------


def test_saving_the_business_name_changes_the_next_sms_receipt(signed_in, hourly):
    admin = signed_in(ADMIN)
    assert save_page(admin, "general", business_name="Kilimani WiFi", support_phone="0700 111 222").status_code == 302
    customer, note = pay_cash(hourly)
    assert note.backend == "console" and note.status == "sent"
    assert note.text.startswith("Kilimani WiFi: Received KES 10 (Cash) for 1 Hour, valid until ")
    assert f"Login {customer.username} / {customer.password}." in note.text and note.text.endswith(
        "Help: 0700 111 222.")


def test_a_sentence_whose_support_phone_is_not_set_is_left_out(hourly, settings):
    settings.SUPPORT_PHONE = ""
    _, note = pay_cash(hourly)
    assert "Help" not in note.text and note.text.endswith("Thank you.")


def test_an_edited_template_is_used_and_a_bogus_placeholder_is_a_form_error(signed_in, hourly):
    admin = signed_in(ADMIN)
    page = save_page(admin, "sms", receipt_en="Paid {amount} for {package} {bogus} {expires")
    assert page.status_code == 200
    errors = page.context["form"].errors["receipt_en"]
    assert errors == ["A brace without its pair: write placeholders as {name}, and a brace on its own as {{ or }}."]

    page = save_page(admin, "sms", receipt_en="Paid {amount} for {package} {bogus}", expiry_sw="{password}")
    errors = page.context["form"].errors
    assert errors["receipt_en"][0].startswith("Unknown placeholder {bogus}: this message may use {business}")
    assert errors["expiry_sw"][0].startswith("Unknown placeholder {password}")
    assert "Unknown placeholder {bogus}" in page.content.decode()
    assert not Entry.objects.filter(object_type="siteconfig.value", object_id="sms").exists()

    page = save_page(admin, "sms", receipt_en="{amount} paid ({receipt}), {package} until {expires}. {business}")
    assert page.status_code == 302
    _, note = pay_cash(hourly)
    assert note.text.startswith("KES 10 paid (Cash), 1 Hour until ")


def test_the_api_refuses_a_bogus_placeholder_naming_the_field(admin):
    refused = Client().put("/api/settings/sms", {"invoice_sw": "Ankara {invoice} {bogus}"},
                           content_type="application/json", **bearer(admin))
    assert refused.status_code == 422
    assert "invoice_sw" in refused.content.decode() and "Unknown placeholder {bogus}" in refused.content.decode()
    saved = Client().put("/api/settings/sms", {"invoice_sw": "{business}: lipa ankara {invoice} kufikia {due}."},
                         content_type="application/json", **bearer(admin))
    assert saved.status_code == 200 and store.get("sms.invoice_sw").startswith("{business}: lipa ankara")


def test_a_format_spec_or_attribute_is_not_a_placeholder(signed_in):
    page = save_page(signed_in(ADMIN), "sms", receipt_en="{amount:>999999}", topup_en="{business.__class__}")
    errors = page.context["form"].errors
    assert errors["receipt_en"][0].startswith("{amount:>999999} is not a placeholder")
    assert errors["topup_en"][0].startswith("{business.__class__} is not a placeholder")


def test_kiswahili_is_used_when_the_portal_speaks_it(hourly):
    store.save("general", {"language": "sw", "business_name": "Mtaani Net"})
    customer, note = pay_cash(hourly)
    assert note.text.startswith("Mtaani Net: Tumepokea KES 10 (Cash) kwa kifurushi cha 1 Hour. Kitatumika hadi ")
    assert re.search(r"hadi \d\d/\d\d/\d{4} \d\d:\d\d\.", note.text)
    assert f"Ingia kwa jina {customer.username} na nenosiri {customer.password}. Asante." in note.text
    sub = customer.subscriptions.get()
    assert messages.expiry(sub).startswith("Mtaani Net: Kifurushi chako cha intaneti (1 Hour) kitaisha ")
    store.save("sms", {"expiry_sw": "{business}: {package} inaisha {expires}."})
    assert messages.expiry(sub).startswith("Mtaani Net: 1 Hour inaisha ")


def test_a_wallet_top_up_has_its_own_receipt(db):
    customer = services.create_customer(PHONE)
    payments.record_cash(customer=customer, amount=Decimal("50"), by=None)
    receipts.send_due()
    assert Notification.objects.get(customer=customer).text.startswith(
        "Hotspot: Received KES 50 (Cash) to your wallet. Thank you.")


def test_the_sms_credentials_are_read_at_each_message(signed_in, hourly, settings):
    """The backend, username, API key and sender saved on the page reach the provider on the next SMS."""
    provider = Provider("Success")
    settings.SMS_API_URL = provider.url
    page = save_page(signed_in(ADMIN), "sms", backend="africastalking", username="kilimani", api_key="at-key-9",
                     sender_id="KILIMANI")
    assert page.status_code == 302
    pay_cash(hourly)
    provider.server.shutdown()
    key, form = provider.requests[0]
    assert key == "at-key-9" and form["username"] == ["kilimani"] and form["from"] == ["KILIMANI"]
    assert form["message"][0].startswith("Hotspot: Received KES 10")


# --- Send test SMS ----------------------------------------------------------------------------------


def test_send_test_sms_from_the_page(signed_in):
    admin = signed_in(ADMIN)
    page = admin.post(reverse("settings-sms-test"), {"phone": "0712 345 678"}, follow=True)
    assert page.redirect_chain[-1][0] == reverse("settings-section", args=["sms"])
    assert "Test SMS sent to 254712345678 through console." in page.content.decode()
    note = Notification.objects.get()
    assert note.to == PHONE and note.text.startswith("Hotspot: a test SMS")
    entry = Entry.objects.get(action="test_sent", object_id="sms")
    assert entry.actor_name == "amani" and "254712345678" in entry.note

    page = admin.post(reverse("settings-sms-test"), {"phone": "12345"}, follow=True)
    assert "is not a Kenyan mobile number" in page.content.decode() and Notification.objects.count() == 1


def test_send_test_sms_shows_the_providers_refusal(signed_in, settings):
    provider = Provider("InvalidSenderId")
    settings.SMS_API_URL = provider.url
    store.save("sms", {"backend": "africastalking", "username": "kilimani", "api_key": "at-key-9"})
    page = signed_in(ADMIN).post(reverse("settings-sms-test"), {"phone": PHONE}, follow=True)
    provider.server.shutdown()
    assert "Test SMS to 254712345678 not sent: SMS not accepted" in page.content.decode()
    assert "InvalidSenderId" in page.content.decode()
    assert Entry.objects.filter(action="test_failed", object_id="sms").exists()


def test_send_test_sms_through_the_api(admin, support_agent):
    answer = _post_json("/api/settings/sms/test", {"phone": "+254712345678"}, admin)
    assert answer.status_code == 200 and answer.json() == {
        "sent": True, "detail": "Test SMS sent to 254712345678 through console."}
    refused = _post_json("/api/settings/sms/test", {"phone": "hello"}, admin)
    assert refused.status_code == 422 and refused.json()["errors"][0]["loc"] == ["body", "phone"]
    assert _post_json("/api/settings/sms/test", {"phone": PHONE}, support_agent).status_code == 403


def test_the_sms_page_shows_the_test_form_to_admin(signed_in):
    html = signed_in(ADMIN).get(reverse("settings-section", args=["sms"])).content.decode()
    assert 'action="/settings/sms/test/"' in html and "Send test SMS" in html


# --- e-mail -----------------------------------------------------------------------------------------


def test_send_test_email_through_the_saved_server_and_the_password_never_comes_back(signed_in, admin, mailbox, caplog):
    caplog.set_level(logging.DEBUG)
    admin_user, admin = admin, signed_in(ADMIN)
    assert save_page(admin, "email", use_tls=None, **smtp_settings(mailbox)).status_code == 302
    page = admin.post(reverse("settings-email-test"), {"to": "amani@kilimani.example"}, follow=True)
    html = page.content.decode()
    assert f"Test e-mail sent to amani@kilimani.example through 127.0.0.1:{mailbox.port}." in html
    (sender, recipients, content), = mailbox.messages
    assert sender == "noc@kilimani.example" and recipients == ["amani@kilimani.example"]
    assert "Subject: Hotspot: test e-mail" in content

    # A wrong password: the server's refusal is shown, the password is not.
    store.save("email", {"password": "wrong-" + SMTP_PASSWORD})
    page = admin.post(reverse("settings-email-test"), {"to": "amani@kilimani.example"}, follow=True)
    assert f"Test e-mail not sent: 127.0.0.1:{mailbox.port} refused the user name or password: 535" in (
        page.content.decode())

    api = admin.get("/api/settings/email")
    seen = [html, page.content.decode(), admin.get(reverse("settings-section", args=["email"])).content.decode(),
            api.content.decode(), _post_json("/api/settings/email/test", {"to": "a@kilimani.example"},
                                             admin_user).content.decode()]
    seen += [f"{e.changes} {e.note}" for e in Entry.objects.all()] + [r.getMessage() for r in caplog.records]
    assert api.status_code == 200 and all(SMTP_PASSWORD not in text for text in seen)
    assert Entry.objects.filter(action="test_failed", object_id="email").exists()


def test_send_test_email_through_the_api_and_bad_input(admin, mailbox):
    store.save("email", {**smtp_settings(mailbox), "port": mailbox.port, "use_tls": False})
    answer = _post_json("/api/settings/email/test", {"to": "noc@kilimani.example"}, admin)
    assert answer.status_code == 200 and answer.json()["sent"] is True and len(mailbox.messages) == 1
    refused = _post_json("/api/settings/email/test", {"to": "not an address"}, admin)
    assert refused.status_code == 422 and refused.json()["errors"][0]["loc"] == ["body", "to"]


def test_an_unreachable_server_is_reported_not_raised(admin, mailbox):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    store.save("email", {"host": "127.0.0.1", "port": closed, "use_tls": False})
    answer = _post_json("/api/settings/email/test", {"to": "noc@kilimani.example"}, admin).json()
    assert answer["sent"] is False and f"Could not connect to 127.0.0.1:{closed}" in answer["detail"]


def test_without_a_host_the_email_is_written_to_the_log(admin, settings, caplog):
    settings.EMAIL_BACKEND = "siteconfig.mail.EmailBackend"
    caplog.set_level(logging.INFO, logger="siteconfig.mail")
    answer = _post_json("/api/settings/email/test", {"to": "noc@kilimani.example"}, admin).json()
    assert answer == {"sent": True, "detail": "No SMTP host is set: the test e-mail to noc@kilimani.example was "
                                              "written to the log, not sent."}
    assert "noc@kilimani.example" in caplog.text


# --- staff password reset ---------------------------------------------------------------------------


def test_a_staff_member_resets_a_forgotten_password_by_email(client, mailbox):
    store.save("email", {**smtp_settings(mailbox), "port": mailbox.port, "use_tls": False})
    store.save("general", {"business_name": "Kilimani WiFi"})
    samuel = make_staff("samuel", SUPPORT, email="samuel@kilimani.example")
    token = bearer(samuel)
    assert reverse("password-reset") in client.get(reverse("login")).content.decode()

    sent = client.post(reverse("password-reset"), {"email": "Samuel@Kilimani.example"})
    assert sent.status_code == 302 and sent.url == reverse("password-reset-done")
    (sender, recipients, content), = mailbox.messages
    assert recipients == ["samuel@kilimani.example"] and sender == "noc@kilimani.example"
    assert "Subject: Kilimani WiFi: reset your staff password" in content and '"samuel"' in content
    link = re.search(r"http://testserver(/password-reset/\S+/\S+/)", content).group(1)

    form = client.get(link, follow=True)
    assert form.status_code == 200 and form.context["validlink"]
    done = client.post(form.redirect_chain[-1][0], {"new_password1": "Mawingu-ya-2026-asubuhi",
                                                    "new_password2": "Mawingu-ya-2026-asubuhi"})
    assert done.status_code == 302 and done.url == reverse("password-reset-complete")
    assert client.get(link, follow=True).context["validlink"] is False  # used once
    assert Client().get("/api/user", **token).status_code == 401  # the API token went with the old password

    signed = client.post(reverse("login"), {"username": "samuel", "password": "Mawingu-ya-2026-asubuhi"})
    assert signed.status_code == 302 and signed.url == reverse("dashboard")
    assert list(Entry.objects.filter(object_type="accounts.user").values_list("action", flat=True)
                .order_by("at")) == ["password_reset_sent", "password_reset", "signed_in"]
    assert Entry.objects.get(action="password_reset").note.endswith("1 API token(s) revoked")


def test_an_unknown_address_gets_the_same_answer_and_no_email(client, mailbox):
    store.save("email", {**smtp_settings(mailbox), "port": mailbox.port, "use_tls": False})
    answer = client.post(reverse("password-reset"), {"email": "nobody@kilimani.example"})
    assert answer.status_code == 302 and answer.url == reverse("password-reset-done")
    assert mailbox.messages == []


def test_reset_requests_are_rate_limited_per_address_typed(client, mailbox):
    store.save("email", {**smtp_settings(mailbox), "port": mailbox.port, "use_tls": False})
    make_staff("samuel", SUPPORT, email="samuel@kilimani.example")
    for _ in range(3):
        assert client.post(reverse("password-reset"), {"email": "samuel@kilimani.example"}).status_code == 302
    refused = client.post(reverse("password-reset"), {"email": "samuel@kilimani.example"})
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "Too many reset requests" in refused.content.decode() and len(mailbox.messages) == 3


def test_the_reset_pages_answer_without_signing_in(client):
    assert client.get(reverse("password-reset")).status_code == 200
    assert client.get(reverse("password-reset-done")).status_code == 200
    assert client.get(reverse("password-reset-complete")).status_code == 200
    bad = client.get(reverse("password-reset-confirm", args=["MQ", "bad-token"]))
    assert bad.status_code == 200 and "This link no longer works" in bad.content.decode()


# --- helpers ----------------------------------------------------------------------------------------


def _post_json(url, body, user):
    return Client().post(url, body, content_type="application/json", **bearer(user))


class Provider:
    """An HTTP stand-in for Africa's Talking's SMS API answering every recipient with ``status``."""

    def __init__(self, status: str):
        self.requests = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers["Content-Length"])
                owner.requests.append((self.headers["apiKey"], parse_qs(self.rfile.read(length).decode())))
                body = ('{"SMSMessageData": {"Message": "Sent to 1/1", "Recipients": [{"number": "+254712345678", '
                        f'"status": "{status}", "statusCode": 101}}]}}}}').encode()
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/version1/messaging"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
