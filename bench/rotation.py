#!/usr/bin/env python
"""Log rotation on a table of 1,000,000 stored log records, 600,000 of them past retention, while
another connection keeps inserting: how long the batched delete takes, its longest batch, and how
long an insert ever waited meanwhile (the batches must not block inserts).

A scratch database gets the rows in bulk: the old ones spread over the 30 days before the cutoff
(SYSTEM_LOG_RETENTION_DAYS ago), the rest from the cutoff itself (that row must stay: rotation deletes
what is strictly older) to now; then VACUUM ANALYZE. monitoring.rotation.delete_older(LogRecord, "at",
cutoff, batch=10_000) runs in the main thread, as RotateLogsJob runs it, while a thread inserts a
record every few milliseconds from its own process. Afterwards: no row older than the cutoff is left,
every newer row and every insert is still there.

Usage: DATABASE_URL=postgres://hotspot:hotspot@127.0.0.1:5432/hotspot .venv/bin/python bench/rotation.py
Options: --rows N --old N --batch N --insert-interval-ms MS --keep
"""
import argparse
import multiprocessing
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.scratch import scratch_database  # noqa: E402

NAME = "bench_rotation"
# The longest an insert may wait while rotation runs: one batch's DELETE must not hold it up.
TARGET_INSERT_WAIT_MS = 200.0

RECORDS_SQL = """
INSERT INTO audit_logrecord (at, level, logger, message, exception, context)
SELECT CASE WHEN g <= %(old)s THEN %(cutoff)s - (%(old)s - g + 1) * (interval '30 days' / %(old)s)
            ELSE %(cutoff)s + (g - %(old)s - 1) * ((%(now)s - %(cutoff)s) / (%(rows)s - %(old)s)) END,
       (ARRAY[20, 30, 30, 40, 50])[1 + g %% 5], 'routers.polling', 'Router ' || g %% 40 || ' unreachable', '',
       'task check_router_status'
FROM generate_series(1, %(rows)s) g;
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--old", type=int, default=600_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--insert-interval-ms", type=float, default=5.0)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    with scratch_database(NAME, keep=args.keep, DEBUG="false"):
        ok = run(args)
    sys.exit(0 if ok else 1)


def insert_continuously(interval: float, stop, results) -> None:
    """New log records, one INSERT each, until ``stop`` is set; then (at, wait ms, id) of each on ``results``.

    Its own process (as a web or worker process logs while the beat job rotates): a thread here would
    also wait on this process's GIL while the rotation builds its statements, which no insert in
    production waits on."""
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from audit.models import LogRecord

    done = []
    while not stop.is_set():
        started = time.perf_counter()
        record = LogRecord.objects.create(level=30, logger="bench.inserter", message="inserted meanwhile")
        done.append((time.time(), (time.perf_counter() - started) * 1000, record.pk))
        time.sleep(interval)
    results.put(done)


def run(args) -> bool:
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from audit.models import LogRecord
    from monitoring.rotation import delete_older

    now = timezone.now()
    cutoff = now - timedelta(days=settings.SYSTEM_LOG_RETENTION_DAYS)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(RECORDS_SQL, {"rows": args.rows, "old": args.old, "cutoff": cutoff, "now": now})
        cursor.execute("VACUUM ANALYZE audit_logrecord")
    print(f"Loaded {args.rows:,} log records ({args.old:,} older than the cutoff, "
          f"{settings.SYSTEM_LOG_RETENTION_DAYS} days ago) in {time.perf_counter() - started:.1f} s", flush=True)

    # Each batch is a SELECT of at most `batch` ids and one DELETE of them: time every statement.
    statements: list[tuple[str, float]] = []

    def timed(execute, sql, params, many, context):
        at = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements.append((sql.split()[0].upper(), (time.perf_counter() - at) * 1000))

    spawn = multiprocessing.get_context("spawn")
    stop, results = spawn.Event(), spawn.Queue()
    inserter = spawn.Process(target=insert_continuously, args=(args.insert_interval_ms / 1000, stop, results))
    inserter.start()
    time.sleep(3)  # inserts are flowing before rotation starts
    began = time.time()
    started = time.perf_counter()
    with connection.execute_wrapper(timed):
        deleted = delete_older(LogRecord, "at", cutoff, batch=args.batch)
    elapsed = time.perf_counter() - started
    ended = time.time()
    time.sleep(0.5)
    stop.set()
    inserted = results.get(timeout=30)
    inserter.join(10)
    inserted_ids = [pk for _, _, pk in inserted]
    during_waits = [ms for at, ms, _ in inserted if began <= at - ms / 1000 and at <= ended]
    during = len(during_waits)

    selects = [ms for kind, ms in statements if kind == "SELECT"]
    deletes = [ms for kind, ms in statements if kind == "DELETE"]
    batches = [s + d for s, d in zip(selects, deletes, strict=False)]
    waits = sorted(during_waits)
    print(f"deleted {deleted:,} rows in {elapsed:.1f} s ({deleted / elapsed:,.0f} rows/s), "
          f"{len(deletes)} batches of up to {args.batch:,}")
    print(f"batch (SELECT ids + DELETE): mean {statistics.mean(batches):.0f} ms, longest {max(batches):.0f} ms "
          f"(SELECT longest {max(selects):.0f} ms, DELETE longest {max(deletes):.0f} ms)")
    print(f"inserts meanwhile: {during:,} ({during / elapsed:,.0f}/s, one every {args.insert_interval_ms:g} ms "
          f"plus its own time); wait p50 {waits[len(waits) // 2]:.1f} ms, "
          f"p99 {waits[min(len(waits) - 1, int(len(waits) * 0.99))]:.1f} ms, longest {waits[-1]:.1f} ms")

    old_left = LogRecord.objects.filter(at__lt=cutoff).count()
    kept_loaded = LogRecord.objects.filter(pk__lte=args.rows).count()
    kept_lowest = LogRecord.objects.filter(pk__lte=args.rows).order_by("pk").values_list("pk", flat=True).first()
    inserted_kept = LogRecord.objects.filter(pk__in=inserted_ids).count()
    boundary_kept = LogRecord.objects.filter(at=cutoff).count()
    total = LogRecord.objects.count()
    print(f"after: {old_left} rows older than the cutoff; {kept_loaded:,} of the {args.rows - args.old:,} newer "
          f"loaded rows (lowest id {kept_lowest:,}, the row at the cutoff itself kept: {boundary_kept == 1}); "
          f"{inserted_kept:,} of {len(inserted_ids):,} inserted rows; {total:,} rows in all")
    exact = (deleted == args.old and old_left == 0 and kept_loaded == args.rows - args.old
             and kept_lowest == args.old + 1 and boundary_kept == 1 and inserted_kept == len(inserted_ids)
             and total == args.rows - args.old + len(inserted_ids))
    unblocked = waits[-1] < TARGET_INSERT_WAIT_MS
    print(f"{'PASS' if exact else 'FAIL'}: exactly the {args.old:,} rows past retention deleted, nothing else")
    print(f"{'PASS' if unblocked else 'FAIL'}: no insert waited {TARGET_INSERT_WAIT_MS:g} ms or more while "
          f"rotation ran ({during:,} inserts)")
    return exact and unblocked


if __name__ == "__main__":
    main()
