#!/usr/bin/env python
"""M-Pesa callbacks while the database drops connections: is every payment recorded and
credited exactly once, and is none acknowledged without its row?

A scratch database (bench_callback_faults) gets one customer per callback (each with a pending
STK payment, bench/callbacks.py's load). gunicorn serves it as deployed (gunicorn.conf.py,
DATABASE_POOL_MAX set, bench/callbacks.py's start_web). This script is Daraja: STK callbacks and
C2B confirmations, alternating, at a fixed rate (default 20/s for 60 s, open loop), while every
connection to the bench database is terminated (pg_terminate_backend) every 2 s. Then the
re-processing job runs as beat would run it (manage.py reprocess_callbacks, after
MPESA_CALLBACK_RETRY_SECONDS), and the figures are printed: sent, acknowledged, non-2xx answers,
recorded, credited, credited twice, acknowledged without a row (must be 0).

Usage (PostgreSQL from DATABASE_URL):
    DATABASE_URL=postgres://hotspot:hotspot@127.0.0.1:5432/hotspot .venv/bin/python bench/callback_faults.py
Options: --rate R --seconds S --kill-every S --web-processes N --keep
"""
import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.callbacks import POST_ERRORS, TOKEN, Poster, callback_body, load, start_web  # noqa: E402
from bench.scratch import scratch_database  # noqa: E402

NAME = "bench_callback_faults"
ACK = {"ResultCode": 0, "ResultDesc": "Accepted"}
STK_PATH = f"/api/payments/callback/{TOKEN}"
C2B_PATH = f"/api/payments/c2b/confirmation/{TOKEN}"
RETRY_SECONDS = 5


def c2b_body(customer, receipt: str, amount: int = 50) -> bytes:
    """A paybill confirmation to the customer's account (billing/daraja_simulator.py's shape)."""
    return json.dumps({"TransactionType": "Pay Bill", "TransID": receipt, "TransTime": "20260101120000",
                       "TransAmount": f"{amount}.00", "BusinessShortCode": "174379",
                       "BillRefNumber": customer.username, "InvoiceNumber": "", "OrgAccountBalance": "",
                       "ThirdPartyTransID": "", "MSISDN": "2547 ***  *** 126", "FirstName": "BENCH"}).encode()


def terminate_every(seconds: float, stop: threading.Event, kills: list) -> None:
    """pg_terminate_backend on every connection to the bench database, every ``seconds``."""
    while not stop.wait(seconds):
        kills.append(terminate_all())


def terminate_all() -> int:
    import psycopg
    from django.db import connection

    db = connection.settings_dict
    with psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"],
                         dbname="postgres", autocommit=True) as killer:
        return len(killer.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                                  (NAME,)).fetchall())


async def fire(url: str, calls: list[tuple[str, bytes]], rate: float) -> list:
    """Each call leaves on schedule whatever the server does; its answer: (status, body) or the error."""
    client = Poster(url, timeout=60)
    answers: list = [None] * len(calls)

    async def one(n: int) -> None:
        try:
            status, data = await client.post(*calls[n])
            answers[n] = (status, json.loads(data) if data else None)
        except POST_ERRORS as error:
            answers[n] = (type(error).__name__, None)

    try:
        tasks, started = [], time.perf_counter()
        for n in range(len(calls)):
            delay = started + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(n)))
        sending = time.perf_counter() - started
        await asyncio.gather(*tasks)
    finally:
        client.close()
    return answers, sending


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=20, help="callbacks per second (default 20)")
    parser.add_argument("--seconds", type=float, default=60, help="for how long (default 60)")
    parser.add_argument("--kill-every", type=float, default=2, help="seconds between terminations (default 2)")
    parser.add_argument("--web-processes", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    environment = {
        "DJANGO_ENV": "development", "DEBUG": "false", "MPESA_CALLBACK_TOKEN": TOKEN,
        "MPESA_CALLBACK_ALLOWED_IPS": "", "REDIS_URL": "", "CELERY_BROKER_URL": "",
        "CELERY_TASK_ALWAYS_EAGER": "true", "MPESA_CALLBACK_RETRY_SECONDS": str(RETRY_SECONDS),
        "DATABASE_POOL_MAX": os.environ.get("DATABASE_POOL_MAX", "10"),
        # The bench's own spool (bodies the database would not store), gone afterwards.
        "MPESA_CALLBACK_SPOOL_DIR": tempfile.mkdtemp(prefix="bench-callback-spool-"),
    }
    processes: list[subprocess.Popen] = []
    with scratch_database(NAME, keep=args.keep, **environment):
        import logging

        logging.getLogger("billing.callbacks").setLevel(logging.CRITICAL)
        try:
            run(args, processes)
        finally:
            for process in processes:
                process.terminate()
                process.wait(15)
            terminate_all()  # what the stopped server left closing, so the database can be dropped
            shutil.rmtree(environment["MPESA_CALLBACK_SPOOL_DIR"], ignore_errors=True)


def run(args, processes: list) -> None:
    from django.conf import settings
    from django.db import connections
    from django.db.models import Count

    from billing.models import LedgerEntry, MpesaCallback, Payment

    count = max(2, round(args.rate * args.seconds))
    _, rows = load(count)
    calls, receipts, kinds = [], [], []
    for n, (payment, customer) in enumerate(rows):
        if n % 2 == 0:
            receipts.append(f"TK{n:08d}")
            calls.append((STK_PATH, callback_body(payment, receipts[-1])))
            kinds.append("stk")
        else:
            receipts.append(f"TC{n:08d}")
            calls.append((C2B_PATH, c2b_body(customer, receipts[-1], int(payment.amount))))
            kinds.append("c2b")
    connections.close_all()
    url = start_web(processes, "gunicorn", args.web_processes)
    print(f"gunicorn x {args.web_processes} (gunicorn.conf.py) on {url}, pool of {settings.DATABASE_POOL_MAX} "
          f"connections per process; {count} callbacks ({kinds.count('stk')} STK, {kinds.count('c2b')} C2B) "
          f"at {args.rate:g}/s; every connection to {NAME} terminated every {args.kill_every:g} s", flush=True)

    stop, kills = threading.Event(), []
    killer = threading.Thread(target=terminate_every, args=(args.kill_every, stop, kills))
    killer.start()
    started = time.perf_counter()
    try:
        answers, sending = asyncio.run(fire(url, calls, args.rate))
    finally:
        stop.set()
        killer.join()
    elapsed = time.perf_counter() - started
    connections.close_all()  # terminated too

    acked = [n for n, answer in enumerate(answers) if answer == (200, ACK)]
    statuses = Counter(status for status, _ in answers)
    non_2xx = sum(n for status, n in statuses.items() if isinstance(status, int) and not 200 <= status < 300)
    no_answer = sum(n for status, n in statuses.items() if not isinstance(status, int))

    def recorded() -> set[str]:
        return set(Payment.objects.completed().filter(mpesa_receipt__in=receipts)
                   .values_list("mpesa_receipt", flat=True))

    before = recorded()
    without_row = [receipts[n] for n in acked if receipts[n] not in before]
    print(f"sent {count} in {sending:.1f} s, last answer after {elapsed:.1f} s; {len(kills)} terminations "
          f"({sum(kills)} connections); answers "
          f"{dict(statuses)}", flush=True)
    waiting = Counter(MpesaCallback.objects.values_list("outcome", flat=True))
    spooled = len(list(Path(settings.MPESA_CALLBACK_SPOOL_DIR).glob("*.json")))
    print(f"before the job: recorded {len(before)}; callback outcomes {dict(waiting)}; bodies in the spool "
          f"(not stored, answered 503) {spooled}", flush=True)

    runs = []
    for _ in range(3):  # as beat would: the job every RETRY_SECONDS until nothing is due
        time.sleep(RETRY_SECONDS + 1)
        job = subprocess.run([sys.executable, "manage.py", "reprocess_callbacks"], cwd=ROOT, env=os.environ,
                             capture_output=True, text=True, check=True)
        runs.append(job.stdout.strip())
        if not MpesaCallback.objects.filter(outcome__in=["received", "error"]).exists():
            break
    after = recorded()
    credits = dict(LedgerEntry.objects.filter(kind=LedgerEntry.Kind.PAYMENT, payment__mpesa_receipt__in=receipts)
                   .values_list("payment__mpesa_receipt").annotate(n=Count("pk")))
    twice = sum(1 for n in credits.values() if n > 1)
    outcomes = Counter(MpesaCallback.objects.values_list("outcome", flat=True))
    print(f"re-processing job: {' | '.join(runs)}")
    print(f"callback outcomes: {dict(outcomes)}")
    print(f"sent {count}; acknowledged {len(acked)}; non-2xx answers {non_2xx}; no answer {no_answer}")
    print(f"recorded {len(after)} (before the job {len(before)}); credited {len(credits)}; credited twice {twice}; "
          f"acknowledged without a row {len(without_row)}")
    checks = [(f"every payment recorded ({len(after)}/{count})", len(after) == count),
              (f"every payment credited once ({len(credits)}/{count}, twice {twice})",
               len(credits) == count and twice == 0),
              (f"none acknowledged without a row ({len(without_row)})", not without_row)]
    for label, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {label}")


if __name__ == "__main__":
    main()
