"""Alerts reach staff by SMS, e-mail and Telegram, or say clearly why not (never with the bot token
in the words); the probes the alert rules read answer truthfully: FreeRADIUS's Status-Server, disk free."""
import logging
import shutil
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from billing.models import Notification
from monitoring import probes
from monitoring.alert_channels import DeliveryFailed, send
from siteconfig import store

from .alerts_kit import ADMIN_CHAT, BOT_TOKEN, NOC_GROUP, TECH_CHAT
from .mail_kit import SMTP_PASSWORD, smtp_settings

ALERT = "Router Kilimani offline\nNo answer since 02:10 (12 min)."
pytestmark = pytest.mark.django_db


def closed_port(kind=socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def failure(channel: str, address: str, text: str = ALERT) -> DeliveryFailed:
    with pytest.raises(DeliveryFailed) as caught:
        send(channel, address, text)
    return caught.value


# --- SMS -------------------------------------------------------------------------------------------

def test_an_sms_alert_goes_through_the_sms_backend_and_is_recorded(caplog):
    with caplog.at_level(logging.INFO, logger="billing.notifications"):
        send("sms", "0722 000 111", ALERT)
    note = Notification.objects.get()
    assert (note.channel, note.to, note.text, note.backend, note.status) == (
        "sms", "254722000111", ALERT, "console", "sent")
    assert f"SMS to 254722000111: {ALERT}" in caplog.text


def test_an_sms_provider_that_cannot_be_reached_fails_the_delivery_without_its_key(settings):
    store.save("sms", {"backend": "africastalking", "username": "kilimani", "api_key": "at-key-never-shown-77"})
    settings.SMS_API_URL, settings.SMS_TIMEOUT_SECONDS = f"http://127.0.0.1:{closed_port()}/sms", 2
    error = failure("sms", "0722000111")
    assert str(error).startswith("SMS to 254722000111 not sent: SMS provider unreachable")
    assert "at-key-never-shown-77" not in str(error)
    assert Notification.objects.get().status == "failed"


def test_a_phone_number_that_is_not_one_is_refused_before_sending():
    assert "is not a Kenyan mobile number" in str(failure("sms", "12345"))
    assert not Notification.objects.exists()


# --- e-mail ----------------------------------------------------------------------------------------

def test_an_email_alert_reaches_the_mail_server_with_its_first_line_as_subject(mailbox):
    store.save("email", {**smtp_settings(mailbox), "use_tls": False})
    send("email", "oncall@kilimani.example", ALERT)
    (sender, recipients, content), = mailbox.messages
    assert sender == "noc@kilimani.example" and recipients == ["oncall@kilimani.example"]
    assert "Subject: Router Kilimani offline" in content and "No answer since 02:10" in content
    assert Notification.objects.get().status == "sent"


def test_an_unreachable_mail_server_fails_the_delivery_without_the_password(mailbox):
    store.save("email", {**smtp_settings(mailbox), "use_tls": False, "port": str(closed_port())})
    error = failure("email", "oncall@kilimani.example")
    assert str(error).startswith("E-mail to oncall@kilimani.example not sent: Could not connect to 127.0.0.1:")
    assert SMTP_PASSWORD not in str(error) and not mailbox.messages


def test_a_wrong_smtp_password_says_so(mailbox):
    store.save("email", {**smtp_settings(mailbox), "use_tls": False, "password": "not-the-one-Q1"})
    error = failure("email", "oncall@kilimani.example")
    assert "refused the user name or password: 535" in str(error) and "not-the-one-Q1" not in str(error)


def test_an_address_without_an_at_is_refused():
    assert "is not an e-mail address" in str(failure("email", "oncall.kilimani.example"))


# --- Telegram --------------------------------------------------------------------------------------

def test_a_telegram_alert_lands_in_the_chat_and_the_token_stays_out_of_the_log(telegram, caplog):
    with caplog.at_level(logging.DEBUG):
        send("telegram", TECH_CHAT, ALERT)
        send("telegram", NOC_GROUP, "Router Kilimani back online")
    assert telegram.messages == [{"chat_id": TECH_CHAT, "text": ALERT},
                                 {"chat_id": NOC_GROUP, "text": "Router Kilimani back online"}]
    assert "/sendMessage" in caplog.text  # httpx logged the requests ...
    assert BOT_TOKEN not in caplog.text and BOT_TOKEN.split(":")[1] not in caplog.text  # ... without the token


def test_a_wrong_bot_token_is_refused_as_telegram_refuses_it(telegram):
    store.save("alerts", {"telegram_token": "7012345678:AAH-an-old-revoked-token"})
    error = failure("telegram", TECH_CHAT)
    assert str(error) == "Telegram refused the bot token (401 Unauthorized): check it in Settings → Alerts"
    assert not telegram.messages and telegram.refused == 1


def test_a_chat_that_never_opened_the_bot_is_named(telegram):
    error = failure("telegram", "409999999")
    assert str(error) == ("Telegram does not know chat 409999999 (400 Bad Request: chat not found): the staff "
                          "member must open a chat with the bot and send it /start first")
    assert not telegram.messages


def test_no_bot_token_means_no_request(telegram):
    store.reset("alerts.telegram_token")
    assert str(failure("telegram", TECH_CHAT)) == "Telegram: no bot token set (Settings → Alerts)"
    assert telegram.refused == 0 and not telegram.messages


def test_a_chat_id_that_is_not_one_is_refused_before_asking(telegram):
    assert "is not a chat ID" in str(failure("telegram", "../getMe?x="))
    assert telegram.refused == 0


def test_telegram_limiting_the_bot_says_when_to_retry(telegram):
    telegram.refuse_next(429, "Too Many Requests: retry after 7", retry_after=7)
    error = failure("telegram", ADMIN_CHAT)
    assert str(error) == "Telegram is limiting the bot (429 Too Many Requests: retry after 7): retry after 7 s"
    assert error.retry_after == 7
    send("telegram", ADMIN_CHAT, ALERT)  # the next one goes
    assert telegram.messages == [{"chat_id": ADMIN_CHAT, "text": ALERT}]


def test_an_unreachable_telegram_fails_without_the_token(telegram, settings):
    settings.TELEGRAM_API_URL = f"http://127.0.0.1:{closed_port()}"
    error = failure("telegram", TECH_CHAT)
    assert str(error).startswith(f"Telegram unreachable at {settings.TELEGRAM_API_URL}: ")
    assert BOT_TOKEN.split(":")[1] not in str(error)


def test_a_telegram_that_never_answers_times_out(telegram, settings):
    with socket.socket() as silent:  # accepts the connection (the kernel does), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        settings.TELEGRAM_API_URL = f"http://127.0.0.1:{silent.getsockname()[1]}"
        settings.TELEGRAM_TIMEOUT_SECONDS = 1
        started = time.monotonic()
        error = failure("telegram", TECH_CHAT)
    assert str(error) == "Telegram did not answer within 1 s" and time.monotonic() - started < 3


def test_a_proxy_error_page_is_not_taken_for_delivery(telegram, settings):
    class BadGateway(BaseHTTPRequestHandler):
        def do_POST(self):
            self.send_response(502)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<html><body>502 Bad Gateway</body></html>")

        def log_message(self, *args):
            pass

    proxy = ThreadingHTTPServer(("127.0.0.1", 0), BadGateway)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    settings.TELEGRAM_API_URL = f"http://127.0.0.1:{proxy.server_address[1]}"
    try:
        assert str(failure("telegram", TECH_CHAT)) == "Telegram answered HTTP 502 without a Bot API answer"
    finally:
        proxy.shutdown()
        proxy.server_close()


def test_an_unknown_channel_is_refused():
    assert "Unknown alert channel 'pager'" in str(failure("pager", "x"))


def test_the_simulator_speaks_the_bot_api_as_telegram_does(telegram):
    api = f"{telegram.base_url}/bot{telegram.token}"
    me = httpx.get(f"{api}/getMe").json()
    assert me["ok"] and me["result"]["is_bot"] and me["result"]["id"] == 7012345678
    # Telegram also takes a form; the answer is the Message sent.
    sent = httpx.post(f"{api}/sendMessage", data={"chat_id": ADMIN_CHAT, "text": "habari"}).json()
    assert sent["ok"] and sent["result"]["chat"] == {"id": int(ADMIN_CHAT), "type": "private"}
    assert sent["result"]["text"] == "habari" and telegram.messages == [{"chat_id": ADMIN_CHAT, "text": "habari"}]
    wrong = httpx.get(f"{telegram.base_url}/bot1:nope/getMe")
    assert (wrong.status_code, wrong.json()) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    empty = httpx.post(f"{api}/sendMessage", json={"chat_id": ADMIN_CHAT})
    assert (empty.status_code, empty.json()["description"]) == (400, "Bad Request: message text is empty")
    assert httpx.post(f"{api}/sendPhoto", json={}).status_code == 404


# --- probes ----------------------------------------------------------------------------------------

def test_freeradius_answers_a_status_server(radius_server, settings):
    settings.RADIUS_STATUS_PORT = radius_server.status_port
    assert probes.radius_answers(timeout=2.0)


def test_a_status_server_with_another_secret_gets_no_answer(radius_server, settings):
    settings.RADIUS_STATUS_PORT, settings.RADIUS_STATUS_SECRET = radius_server.status_port, "not-the-secret"
    started = time.monotonic()
    assert not probes.radius_answers(timeout=0.5)
    assert time.monotonic() - started < 1.5


def test_nothing_listening_is_not_answering_within_the_timeout(settings):
    settings.RADIUS_STATUS_PORT = closed_port(socket.SOCK_DGRAM)
    started = time.monotonic()
    assert not probes.radius_answers(timeout=0.5)
    assert time.monotonic() - started < 1.5


def test_disk_free_is_read_where_the_backups_will_be(tmp_path):
    usage = shutil.disk_usage(tmp_path)
    free = probes.disk_free_percent(tmp_path / "backups" / "not-yet-made")
    assert 0 < free <= 100 and abs(free - 100 * usage.free / usage.total) < 1
