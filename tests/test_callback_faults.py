"""Callbacks while the database drops connections: gunicorn as deployed (gunicorn.conf.py, a
connection pool per process) on the test database, its connections terminated for real
(pg_terminate_backend) while STK callbacks and C2B confirmations arrive from real threads. None
is acknowledged without its payment committed, and once the sweep has run every one is credited
exactly once."""
import os
import threading
from collections import Counter
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

import httpx
import psycopg
import pytest
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from billing import callback_sweeps
from billing.models import LedgerEntry, MpesaCallback, Payment
from hotspot import services
from hotspot.models import Package

from .browser import free_port, running_server
from .payments_kit import TOKEN
from .test_callbacks import _stk_body, confirmation

ROOT = Path(__file__).resolve().parent.parent
APP = f"test-callback-faults-{os.getpid()}"  # how the killer tells the server's connections from ours
ACK = {"ResultCode": 0, "ResultDesc": "Accepted"}


@pytest.fixture
def gunicorn(transactional_db, settings, tmp_path):
    """The server's base URL and a function that stops it gracefully (gunicorn finishes the
    requests it holds). The server and this test share a spool of their own: a body spooled late
    is this test's to sweep, never a later test's."""
    settings.MPESA_CALLBACK_SPOOL_DIR = str(tmp_path / "spool")
    db = connection.settings_dict
    port = free_port()
    env = dict(os.environ, DATABASE_URL=(f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/"
                                         f"{db['NAME']}?application_name={APP}"),
               DATABASE_POOL_MAX="4", WEB_BIND=f"127.0.0.1:{port}", WEB_WORKERS="2",
               MPESA_CALLBACK_TOKEN=TOKEN, MPESA_CALLBACK_ALLOWED_IPS="",
               MPESA_CALLBACK_SPOOL_DIR=settings.MPESA_CALLBACK_SPOOL_DIR)
    command = [str(ROOT / ".venv" / "bin" / "gunicorn"), "config.wsgi:application"]
    with ExitStack() as running:
        base = running.enter_context(running_server(command, env, port, "gunicorn-callback-faults.log",
                                                    start_seconds=30))
        yield base, running.close


def terminate_server_connections(stop: threading.Event, every: float, kills: list) -> None:
    """pg_terminate_backend on this test's server connections only (its database and name)."""
    db = connection.settings_dict
    with psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"],
                         dbname=db["NAME"], autocommit=True) as killer:
        while not stop.wait(every):
            rows = killer.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                  "WHERE datname = %s AND application_name = %s", (db["NAME"], APP)).fetchall()
            kills.append(len(rows))


def test_connections_terminated_under_load_lose_no_payment_and_credit_none_twice(gunicorn):
    base, stop_server = gunicorn
    package = services.save_package(Package(name="Daily", price=50, validity_minutes=1440))
    customers = [services.create_customer(f"2547110{n:05d}") for n in range(160)]
    stk = [Payment.objects.create(customer=c, phone=c.phone, package=package, amount=50, method="mpesa_stk",
                                  checkout_request_id=f"ws_CO_FAULT{n:05d}") for n, c in enumerate(customers[:80])]
    bodies = [(f"/api/payments/callback/{TOKEN}", _stk_body(p.checkout_request_id, amount=50,
                                                            receipt=f"TFS{n:07d}")) for n, p in enumerate(stk)]
    bodies += [(f"/api/payments/c2b/confirmation/{TOKEN}", confirmation(c.username, "50.00", trans_id=f"TFC{n:07d}"))
               for n, c in enumerate(customers[80:])]
    answers: dict[int, tuple[int, dict | None]] = {}
    work = iter(range(len(bodies)))
    lock = threading.Lock()

    def sender():
        with httpx.Client(base_url=base, timeout=30) as http:
            while True:
                with lock:
                    n = next(work, None)
                if n is None:
                    return
                path, body = bodies[n]
                try:
                    response = http.post(path, json=body)
                    answers[n] = (response.status_code, response.json())
                except (httpx.TransportError, ValueError):
                    answers[n] = (0, None)

    stop, kills = threading.Event(), []
    killer = threading.Thread(target=terminate_server_connections, args=(stop, 1.0, kills))
    killer.start()
    senders = [threading.Thread(target=sender) for _ in range(8)]
    for thread in senders:
        thread.start()
    for thread in senders:
        thread.join()
    stop.set()
    killer.join()
    assert sum(kills) >= 5, f"the server's connections were hardly terminated: {kills}"

    acknowledged = [n for n, (status, answer) in answers.items() if status == 200 and answer == ACK]
    refused = [n for n, (status, answer) in answers.items() if n not in acknowledged]
    statuses = Counter(status for status, _ in answers.values())
    # Refused as Daraja understands it: a non-2xx answer with a non-zero ResultCode (or no answer at all).
    assert all(answers[n][0] == 0 or answers[n][0] == 503 and answers[n][1]["ResultCode"] != 0
               for n in refused), statuses
    completed = set(Payment.objects.filter(status="completed").values_list("mpesa_receipt", flat=True))

    def receipt(n):
        body = bodies[n][1]
        return body.get("TransID") or body["Body"]["stkCallback"]["CallbackMetadata"]["Item"][1]["Value"]

    assert [receipt(n) for n in acknowledged if receipt(n) not in completed] == [], "acknowledged without a row"

    # A sender that gave up waiting (no answer) left its body with the server, which may still be
    # storing or spooling it, as it would for Daraja: the sweep runs once the server has finished.
    stop_server()
    callback_sweeps.reprocess_due(now=timezone.now() + timedelta(hours=1))
    completed = set(Payment.objects.filter(status="completed").values_list("mpesa_receipt", flat=True))
    assert {receipt(n) for n in range(len(bodies))} <= completed
    assert not MpesaCallback.objects.filter(outcome__in=["received", "error", "gave_up"]).exists()
    credits = LedgerEntry.objects.filter(kind="payment").values("payment").annotate(n=Count("pk"))
    assert len(credits) == len(bodies) and {row["n"] for row in credits} == {1}
    print(f"{len(bodies)} callbacks, {sum(kills)} connections terminated, answers {dict(statuses)}; "
          f"outcomes {dict(MpesaCallback.objects.values_list('outcome').annotate(n=Count('pk')))}")


def test_sweeps_running_at_once_take_each_body_once_and_credit_it_once(client, transactional_db, settings, tmp_path):
    from .payments_kit import closing
    from .test_callbacks import accept_ledger_writes, refuse_ledger_writes

    settings.MPESA_CALLBACK_TOKEN, settings.MPESA_CALLBACK_SPOOL_DIR = TOKEN, str(tmp_path)
    package = services.save_package(Package(name="Daily", price=50, validity_minutes=1440))
    customers = [services.create_customer(f"2547120{n:05d}") for n in range(60)]
    bodies = []
    for n, customer in enumerate(customers[:30]):
        Payment.objects.create(customer=customer, phone=customer.phone, package=package, amount=50,
                               method="mpesa_stk", checkout_request_id=f"ws_CO_SWEEP{n:04d}")
        bodies.append((f"/api/payments/callback/{TOKEN}",
                       _stk_body(f"ws_CO_SWEEP{n:04d}", amount=50, receipt=f"TSS{n:07d}")))
    bodies += [(f"/api/payments/c2b/confirmation/{TOKEN}", confirmation(c.username, "50.00", trans_id=f"TSC{n:07d}"))
               for n, c in enumerate(customers[30:])]
    refuse_ledger_writes()
    try:
        assert {client.post(path, body, content_type="application/json").status_code for path, body in bodies} == {503}
    finally:
        accept_ledger_writes()
    start, results = threading.Barrier(4), []

    def sweep():
        start.wait()
        results.append(callback_sweeps.reprocess_due(now=timezone.now() + timedelta(hours=1)))

    threads = [threading.Thread(target=closing(sweep)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.settled for r in results) == 60 and not any(r.failed or r.gave_up for r in results)
    assert set(MpesaCallback.objects.values_list("outcome", "attempts")) == {("credited", 1)}
    credits = LedgerEntry.objects.filter(kind="payment").values("payment").annotate(n=Count("pk"))
    assert len(credits) == 60 and {row["n"] for row in credits} == {1}


def test_a_body_the_database_refuses_to_store_is_spooled_refused_and_credited_later(client, transactional_db,
                                                                                   settings, tmp_path):
    settings.MPESA_CALLBACK_TOKEN, settings.MPESA_CALLBACK_SPOOL_DIR = TOKEN, str(tmp_path)
    customer = services.create_customer("254712000111")
    with connection.cursor() as cursor:  # PostgreSQL itself refuses to store callbacks, as a full disk would
        cursor.execute("CREATE FUNCTION test_refuse_callbacks() RETURNS trigger LANGUAGE plpgsql AS "
                       "$$ BEGIN RAISE EXCEPTION 'no space left (test)'; END $$")
        cursor.execute("CREATE TRIGGER test_refuse_callbacks BEFORE INSERT ON billing_mpesacallback "
                       "FOR EACH ROW EXECUTE FUNCTION test_refuse_callbacks()")
    try:
        answer = client.post(f"/api/payments/c2b/confirmation/{TOKEN}",
                             confirmation(customer.username, "80.00", trans_id="TSPOOL0001"),
                             content_type="application/json")
        assert answer.status_code == 503 and answer.json()["ResultCode"] != 0
        assert not MpesaCallback.objects.exists() and len(list(tmp_path.glob("*.json"))) == 1
        assert callback_sweeps.reprocess_due(now=timezone.now() + timedelta(hours=1)).spooled == 0  # still refused
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER test_refuse_callbacks ON billing_mpesacallback")
            cursor.execute("DROP FUNCTION test_refuse_callbacks()")
    result = callback_sweeps.reprocess_due()
    assert (result.spooled, result.settled) == (1, 1) and not list(tmp_path.iterdir())
    assert Payment.objects.get(mpesa_receipt="TSPOOL0001").status == "completed"
    assert LedgerEntry.objects.filter(kind="payment").count() == 1
