"""The Daraja adapter through real httpx against the simulator: tokens, STK push and query,
callbacks with the documented bodies, and the failures customers meet."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from billing.daraja import Daraja, DarajaError
from billing.daraja_simulator import DarajaSimulator

PHONE = "254712345678"
# The adapter reads the M-Pesa settings (siteconfig) for whatever a test does not pass it.
pytestmark = pytest.mark.django_db


class Inbox:
    """A callback URL: an HTTP server that keeps every body posted to it."""

    def __init__(self):
        self.bodies = []
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                inbox.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ResultCode": 0, "ResultDesc": "Accepted"}')

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/callback"

    def wait(self, count=1, seconds=5.0):
        deadline = time.monotonic() + seconds
        while len(self.bodies) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.bodies


@pytest.fixture
def simulator():
    with DarajaSimulator() as running:
        yield running


@pytest.fixture
def inbox():
    box = Inbox()
    yield box
    box.server.shutdown()


def daraja(simulator, **overrides):
    return Daraja(base_url=simulator.base_url, consumer_key="simulator-key", consumer_secret="simulator-secret",
                  shortcode="174379", passkey="pk", timeout=3, **overrides)


def push(client, inbox, phone=PHONE, amount=50):
    return client.stk_push(phone=phone, amount=amount, account_reference="HOTSPOT", description="Daily",
                           callback_url=inbox.url)


def items(body):
    return {i["Name"]: i.get("Value") for i in body["Body"]["stkCallback"]["CallbackMetadata"]["Item"]}


def test_one_token_serves_every_worker(simulator):
    first, second = daraja(simulator), daraja(simulator)
    assert first.token() == second.token()
    assert simulator.token_requests == 1


def test_a_successful_payment_posts_the_documented_callback(simulator, inbox):
    started = push(daraja(simulator), inbox)
    assert started.checkout_request_id.startswith("ws_CO_")
    [body] = inbox.wait()
    callback = body["Body"]["stkCallback"]
    assert callback["CheckoutRequestID"] == started.checkout_request_id and callback["ResultCode"] == 0
    metadata = items(body)
    assert metadata["Amount"] == 50.0 and metadata["PhoneNumber"] == int(PHONE)
    assert metadata["MpesaReceiptNumber"].startswith("T") and "Balance" in metadata and metadata["Balance"] is None
    assert str(metadata["TransactionDate"]).startswith("20")


def test_a_cancelled_prompt_has_no_metadata_and_the_query_agrees(simulator, inbox):
    simulator.script(PHONE, result_code=1032)
    client = daraja(simulator)
    started = push(client, inbox)
    [body] = inbox.wait()
    assert body["Body"]["stkCallback"]["ResultCode"] == 1032 and "CallbackMetadata" not in body["Body"]["stkCallback"]
    result = client.stk_query(started.checkout_request_id)
    assert not result.pending and result.result_code == 1032


def test_the_query_says_pending_until_the_customer_answers(simulator, inbox):
    simulator.script(PHONE, answer_after=1.0)
    client = daraja(simulator)
    started = push(client, inbox)
    assert client.stk_query(started.checkout_request_id).pending
    time.sleep(1.1)
    assert client.stk_query(started.checkout_request_id).result_code == 0


def test_a_lost_callback_is_known_to_the_query(simulator, inbox):
    simulator.script(PHONE, callbacks=0, answer_after=0.1)
    client = daraja(simulator)
    started = push(client, inbox)
    time.sleep(0.4)
    assert inbox.bodies == [] and client.stk_query(started.checkout_request_id).result_code == 0


def test_duplicated_callbacks_arrive_as_often_as_told(simulator, inbox):
    simulator.script(PHONE, callbacks=5)
    push(daraja(simulator), inbox)
    bodies = inbox.wait(5)
    assert len(bodies) == 5 and len({json.dumps(b, sort_keys=True) for b in bodies}) == 1


def test_insufficient_funds_and_an_unreachable_phone(simulator, inbox):
    simulator.script("254711000001", result_code=1)
    simulator.script("254711000002", result_code=1037)
    client = daraja(simulator)
    push(client, inbox, phone="254711000001")
    push(client, inbox, phone="254711000002")
    codes = sorted(b["Body"]["stkCallback"]["ResultCode"] for b in inbox.wait(2))
    assert codes == [1, 1037]


def test_the_next_request_can_be_scripted_whatever_its_phone(simulator, inbox):
    simulator.script(PHONE, result_code=1)
    simulator.script_next(result_code=1032)
    client = daraja(simulator)
    push(client, inbox)
    push(client, inbox)
    codes = [b["Body"]["stkCallback"]["ResultCode"] for b in inbox.wait(2)]
    assert sorted(codes) == [1, 1032]


def test_wrong_credentials_are_a_permanent_error(simulator):
    with pytest.raises(DarajaError) as refused:
        Daraja(base_url=simulator.base_url, consumer_key="x", consumer_secret="y", timeout=3).token()
    assert not refused.value.retryable and refused.value.status == 400


def test_a_token_invalidated_elsewhere_is_refreshed_once(simulator, inbox):
    client = daraja(simulator)
    client.token()
    simulator.tokens = {"issued-to-someone-else"}  # another integration asked for a new token
    assert push(client, inbox).checkout_request_id
    assert simulator.token_requests == 2


def test_bad_fields_are_permanent_errors(simulator, inbox):
    client = daraja(simulator)
    with pytest.raises(DarajaError) as local:
        push(client, inbox, amount=0)
    assert not local.value.retryable
    with pytest.raises(DarajaError) as remote:
        push(client, inbox, phone="0712345678")
    assert remote.value.code == "400.002.02" and not remote.value.retryable


def test_an_unreachable_daraja_is_retryable():
    with pytest.raises(DarajaError) as down:
        Daraja(base_url="http://127.0.0.1:9", timeout=1).token(replacing="x")
    assert down.value.retryable


def test_c2b_registration_and_a_confirmation(simulator, inbox):
    client = daraja(simulator)
    assert client.c2b_register(confirmation_url=inbox.url, validation_url=inbox.url)["ResponseCode"] == "0"
    simulator.c2b_payment(amount=100, bill_ref="c7xk2m9p")
    [body] = inbox.wait()
    assert body["BillRefNumber"] == "c7xk2m9p" and body["TransAmount"] == "100.00" and body["TransID"].startswith("T")
