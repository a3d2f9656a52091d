"""Which stored M-Pesa bodies get processed, and how they end: bodies from before the sweep go to
staff, Unicode digits are not numbers, a stale allowlist is not acknowledged, one outcome per
body, a spool that neither blocks on one bad body nor trips over a second drain, and wrong-token
posts bounded per /64 and in all."""
import base64
import importlib
import json
import os
import threading
import time
from datetime import timedelta
from decimal import Decimal

from django.core.management import call_command
from django.utils import timezone

from audit.models import Entry
from billing import callback_spool, callback_sweeps, callbacks, payments, reconciliation
from billing.models import MpesaCallback, Payment
from hotspot import services

from .payments_kit import PHONE, TOKEN, closing
from .test_callbacks import C2B_URL, STK_URL, _stk_body, confirmation, later, post

C2B = MpesaCallback.Kind.C2B_CONFIRMATION


def tomorrows_unsettled() -> list:
    tomorrow = timezone.localdate() + timedelta(days=1)
    return [m.callback_id for m in reconciliation.build(tomorrow).mismatches if m.kind == "callback not settled"]


def test_bodies_left_unsettled_before_the_sweep_go_to_staff_not_to_the_sweep(client, db, settings):
    settings.MPESA_CALLBACK_TOKEN = TOKEN
    customer = services.create_customer(PHONE)
    # As the old code left them: no retry_at. A C2B error staff may have credited by hand, and a
    # forgery to a wrong token caught between its two writes (still `received`).
    settled_by_hand = MpesaCallback.objects.create(
        kind=C2B, outcome="error", body=json.dumps(confirmation(customer.username, "500.00", trans_id="TOLD000001")))
    forged = MpesaCallback.objects.create(
        kind=C2B, outcome="received", body=json.dumps(confirmation(customer.username, "900.00", trans_id="TFORGED001")))
    assert callback_sweeps.reprocess_due(now=later(10**6)).settled == 0
    assert not Payment.objects.exists()
    importlib.import_module("billing.migrations.0005_callbacks_before_the_sweep_given_up").hand_to_staff(
        __import__("django.apps", fromlist=["apps"]).apps, None)
    assert set(MpesaCallback.objects.values_list("outcome", flat=True)) == {"gave_up"}
    assert sorted(tomorrows_unsettled()) == [settled_by_hand.pk, forged.pk]
    # A body stored now carries its due time; restarting one by hand makes it due at once.
    stored = callbacks.store(C2B, b"{}", "127.0.0.1")
    assert stored.retry_at > stored.received_at
    assert callback_sweeps.retry_now(settled_by_hand.pk)
    asked = Entry.objects.get(action="retry_requested")  # who restarted it, for the "who did that?"
    assert (asked.object_type, asked.object_id) == ("billing.mpesacallback", str(settled_by_hand.pk))
    assert callback_sweeps.reprocess_due().settled == 1
    assert payments.balance(customer) == Decimal("500.00")
    assert tomorrows_unsettled() == [forged.pk, stored.pk]  # the new one not due yet: listed until then


def test_unicode_digits_are_not_numbers(client, db, settings):
    settings.MPESA_CALLBACK_TOKEN = TOKEN
    customer = services.create_customer(PHONE)
    # "²".isdigit() is True and int("²") raises: this was an error, a 503 and eight retries.
    answer = post(client, confirmation("0712345678#²", "70.00", trans_id="TSUP000001"), C2B_URL)
    assert answer.status_code == 200 and answer.json()["ResultCode"] == 0
    assert MpesaCallback.objects.get().outcome == "credited"
    assert payments.balance(customer) == Decimal("70.00") and Payment.objects.get().package is None
    pending = Payment.objects.create(customer=customer, phone=PHONE, amount=300, method="mpesa_stk",
                                     checkout_request_id="ws_CO_SUP1")
    body = _stk_body("ws_CO_SUP1", code=1032)
    body["Body"]["stkCallback"]["ResultCode"] = "²"
    answer = post(client, body, STK_URL)
    assert answer.status_code == 200 and answer.json()["ResultCode"] == 0
    assert MpesaCallback.objects.get(kind="stk").outcome == "malformed"
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_a_body_from_outside_a_stale_allowlist_is_not_acknowledged_and_waits_for_staff(client, db, settings):
    settings.MPESA_CALLBACK_TOKEN = TOKEN
    settings.MPESA_CALLBACK_ALLOWED_IPS = ["196.201.214.0/24"]  # Safaricom moved; the test client is 127.0.0.1
    customer = services.create_customer(PHONE)
    answer = post(client, confirmation(customer.username, "60.00", trans_id="TSTALE0001"), C2B_URL)
    assert answer.status_code == 503 and answer.json()["ResultCode"] != 0
    record = MpesaCallback.objects.get()
    assert record.outcome == "forbidden" and not Payment.objects.exists()
    assert callback_sweeps.reprocess_due(now=later(10**6)).settled == 0  # never processed on its own
    assert tomorrows_unsettled() == [record.pk]
    settings.MPESA_CALLBACK_ALLOWED_IPS = ["196.201.214.0/24", "127.0.0.0/8"]  # the allowlist mended
    call_command("reprocess_callbacks", callback=record.pk, stdout=open(os.devnull, "w"))
    record.refresh_from_db()
    assert record.outcome == "credited" and payments.balance(customer) == Decimal("60.00")
    assert tomorrows_unsettled() == []


def test_a_body_processed_twice_keeps_its_first_outcome(db):
    customer = services.create_customer(PHONE)
    raw = json.dumps(confirmation(customer.username, "40.00", trans_id="TTWICE0001")).encode()
    stored = callbacks.store(C2B, raw, "127.0.0.1")
    # The sweep claimed its copy while the slow request was still at work on the same row.
    sweeps_copy = MpesaCallback.objects.get(pk=stored.pk)
    assert callbacks.process(stored, raw).outcome == "credited"
    assert callbacks.process(sweeps_copy, raw).outcome == "credited"  # told what is recorded
    stored.refresh_from_db()
    assert stored.outcome == "credited" and stored.payment is not None
    assert payments.balance(customer) == Decimal("40.00")


def spool_file(directory, name: str, kind: str, raw: bytes, age_seconds: int = 0):
    path = directory / name
    path.write_text(json.dumps({"kind": kind, "ip": "127.0.0.1", "received_at": timezone.now().isoformat(),
                                "body": base64.b64encode(raw).decode()}))
    if age_seconds:
        then = time.time() - age_seconds
        os.utime(path, (then, then))
    return path


def test_a_body_the_database_will_never_take_does_not_block_the_spool(transactional_db, settings, tmp_path):
    settings.MPESA_CALLBACK_SPOOL_DIR = str(tmp_path)
    customer = services.create_customer(PHONE)
    # Written by some other version: a kind longer than the column (DataError, every time).
    spool_file(tmp_path, "1-a.json", "c2b_confirmation_v2", b"{}")
    spool_file(tmp_path, "2-b.json", C2B, json.dumps(confirmation(customer.username, "30.00", "TBEHIND001")).encode())
    result = callback_sweeps.reprocess_due()
    assert (result.spooled, result.settled) == (1, 1)
    assert payments.balance(customer) == Decimal("30.00")
    assert [p.name.split(".")[0] + p.suffix for p in tmp_path.iterdir()] == ["1-a.unreadable"]


def test_drains_running_at_once_store_every_body_and_never_fail(transactional_db, settings, tmp_path):
    settings.MPESA_CALLBACK_SPOOL_DIR = str(tmp_path)
    # Spooled during an outage longer than CLAIM_SECONDS: every file already looks old.
    for n in range(40):
        raw = json.dumps(confirmation("NOBODY", "5.00", f"TRACE{n:05d}")).encode()
        spool_file(tmp_path, f"{n:03d}-x.json", C2B, raw, age_seconds=callback_spool.CLAIM_SECONDS + 60)
    start, errors, stored = threading.Barrier(4), [], []

    def drain():
        start.wait()
        try:
            stored.append(callback_spool.drain(callbacks.store))
        except Exception as error:  # what the sweep task died of before
            errors.append(error)

    threads = [threading.Thread(target=closing(drain)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and sum(stored) >= 40 and not list(tmp_path.iterdir())
    bodies = {json.loads(body)["TransID"] for body in MpesaCallback.objects.values_list("body", flat=True)}
    assert len(bodies) == 40


def test_wrong_token_posts_are_bounded_per_ipv6_64_and_in_all(client, db, settings):
    settings.MPESA_BAD_TOKEN_LIMIT_PER_IP, settings.MPESA_BAD_TOKEN_LIMIT_TOTAL = 3, 8
    url = "/api/payments/mpesa/callback/wrong-token"
    # One /64, a new address each time.
    rotating = [client.generic("POST", url, b"{}", REMOTE_ADDR=f"2001:db8:1:2::{n:x}").status_code for n in range(10)]
    assert rotating == [404] * 3 + [429] * 7
    # Many IPv4 addresses: the total still holds.
    many = [client.generic("POST", url, b"{}", REMOTE_ADDR=f"198.51.100.{n}").status_code for n in range(1, 11)]
    assert many == [404] * 5 + [429] * 5
    assert MpesaCallback.objects.filter(outcome="bad_token").count() == 8
