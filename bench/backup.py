#!/usr/bin/env python
"""A database backup and its verified restore at size: how long backup_database takes (pg_dump in
one snapshot, the manifest's row counts, the full read that verifies it), how big the archive is,
and how long restore_database takes into an empty database, every table's count compared.

A scratch database is migrated and filled in bulk to the size asked for (pg_database_size): an ISP's
bulk is its RADIUS accounting, so mostly radacct sessions and radpostauth log lines, with customers,
their M-Pesa payments and audit entries in proportion. Then monitoring.backups.run() (what the
nightly job runs) and monitoring.backups.restore() into a second, empty scratch database.

Usage: DATABASE_URL=postgres://hotspot:hotspot@127.0.0.1:5432/hotspot .venv/bin/python bench/backup.py [SIZE_MB]
       (default 2048); --keep leaves the databases and the archive.
"""
import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.scratch import scratch_database  # noqa: E402

NAME = "bench_backup"
BATCH = 200_000  # sessions per INSERT

CUSTOMERS_SQL = """
INSERT INTO hotspot_customer (phone, name, service_type, status, username, password, notes, email, language,
                              last_mac, created_at)
SELECT (254700000000 + c)::text, 'Customer ' || c, 'hotspot', 'active', 'u' || c, substr(md5(c::text), 1, 10), '',
       '', 'en', '', now() - (c %% 365) * interval '1 day'
FROM generate_series(%(first)s::bigint, %(last)s::bigint) c;
"""
PAYMENTS_SQL = """
INSERT INTO billing_payment (customer_id, phone, amount, method, status, mpesa_receipt, checkout_request_id,
                             merchant_request_id, result_code, result_desc, mac, note, created_at, completed_at)
SELECT c.id, c.phone, (ARRAY[20, 50, 100, 500, 1500])[1 + p %% 5], 'mpesa', 'completed',
       upper(substr(md5(c.id || '-' || p), 1, 10)), 'ws_CO_' || md5(p || '-' || c.id), md5(c.id::text), 0,
       'The service request is processed successfully.', '', '', c.created_at + p * interval '3 days',
       c.created_at + p * interval '3 days'
FROM hotspot_customer c CROSS JOIN generate_series(1, 6) p WHERE c.id BETWEEN %(first)s::bigint AND %(last)s::bigint;
"""
SESSIONS_SQL = """
INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, nasportid, acctstarttime, acctupdatetime,
                     acctstoptime, acctsessiontime, acctinputoctets, acctoutputoctets, callingstationid,
                     calledstationid, framedipaddress, acctterminatecause)
SELECT to_hex(s), md5(s::text), 'u' || (1 + s %% %(customers)s), ('10.8.' || (s %% 50) || '.1')::inet, 'bridge1',
       now() - (s %% 200000) * interval '2 minutes', now() - (s %% 200000) * interval '2 minutes',
       now() - (s %% 200000) * interval '2 minutes' + (s %% 7200) * interval '1 second', s %% 7200,
       (s * 7919) %% 900000000, (s * 104729) %% 4000000000,
       upper(to_hex(s * 2654435761 %% 281474976710656)), 'hotspot1',
       ('10.5.' || (s %% 250) || '.' || (s %% 200 + 1))::inet,
       (ARRAY['User-Request', 'Idle-Timeout', 'Session-Timeout', 'Lost-Carrier'])[1 + s %% 4]
FROM generate_series(%(first)s::bigint, %(last)s::bigint) s;
---
INSERT INTO radpostauth (username, pass, reply, authdate, callingstationid)
SELECT 'u' || (1 + s %% %(customers)s), NULL, CASE WHEN s %% 9 = 0 THEN 'Access-Reject' ELSE 'Access-Accept' END,
       now() - (s %% 200000) * interval '2 minutes', upper(to_hex(s * 2654435761 %% 281474976710656))
FROM generate_series(%(first)s::bigint, %(last)s::bigint) s;
---
INSERT INTO audit_entry (at, actor_kind, actor_id, actor_name, action, object_type, object_id, object_label,
                         changes, note)
SELECT now() - s * interval '1 minute', 'mpesa', '', 'M-Pesa', 'completed', 'billing.payment', s::text,
       'Payment ' || s, '{"status": ["pending", "completed"]}'::jsonb, 'receipt ' || upper(substr(md5(s::text), 1, 10))
FROM generate_series(%(first)s::bigint, %(last)s::bigint, 20) s;
"""


def fill(url: str, megabytes: int) -> tuple[int, float]:
    import psycopg

    target = megabytes * 2**20
    customers = max(1000, megabytes * 50)  # ~100,000 customers for 2 GB
    started = time.monotonic()
    with psycopg.connect(url, autocommit=True) as conn:
        for first in range(1, customers + 1, 50_000):
            last = min(first + 49_999, customers)
            conn.execute(CUSTOMERS_SQL, {"first": first, "last": last})
        low, high = conn.execute("SELECT min(id), max(id) FROM hotspot_customer").fetchone()
        for first in range(low, high + 1, 20_000):
            conn.execute(PAYMENTS_SQL, {"first": first, "last": min(first + 19_999, high)})
        first, batch = 1, 20_000  # the first batch measures the bytes a session costs, the rest aim at the target
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        while size < target:
            for statement in SESSIONS_SQL.split("---"):
                conn.execute(statement, {"first": first, "last": first + batch - 1, "customers": customers})
            first += batch
            grown, size = size, conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
            per_session = max((size - grown) / batch, 1)
            batch = int(max(1000, min(BATCH, (target - size) / per_session)))
        conn.execute("VACUUM ANALYZE")
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    return size, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("size_mb", nargs="?", type=int, default=2048, help="database size to reach, MB")
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases and the archive")
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-backup-"))
    with scratch_database(NAME, keep=options.keep, BACKUP_DIR=str(folder)) as url:
        size, filling = fill(url, options.size_mb)
        from django.db import connection

        from monitoring import backups
        from monitoring.models import DatabaseBackup

        rows = sum(backups._tables_in(connection.settings_dict).values())
        print(f"database: {size / 2**20:,.0f} MB, {rows:,} rows (filled in {filling:.0f} s)", flush=True)

        started = time.monotonic()
        backup = backups.run(kind=DatabaseBackup.Kind.MANUAL)
        backing_up = time.monotonic() - started
        if backup.state != DatabaseBackup.State.VERIFIED:
            sys.exit(f"backup failed: {backup.detail}")
        archive = backups.path_of(backup)
        started = time.monotonic()
        ok, summary = backups.verify(archive)
        verifying = time.monotonic() - started
        print(f"backup:  {backing_up:6.1f} s (dump, manifest counts and verification; the verification alone "
              f"{verifying:.1f} s)\narchive: {backup.size_bytes / 2**20:,.0f} MB "
              f"({backup.size_bytes / size:.0%} of the database), {summary}", flush=True)

        import psycopg

        restored_name = f"{NAME}_restored"
        base = url.rsplit("/", 1)[0]
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{restored_name}"')
            admin.execute(f'CREATE DATABASE "{restored_name}"')
        try:
            started = time.monotonic()
            result = backups.restore(archive, database_url=f"{base}/{restored_name}")
            restoring = time.monotonic() - started
            restored_rows = sum(got or 0 for _, got in result["tables"].values())
            print(f"restore: {restoring:6.1f} s into an empty database (archive read in full first), "
                  f"{restored_rows:,} rows in {len(result['tables'])} tables, "
                  + ("every count as in the manifest" if not result["mismatched"]
                     else f"DIFFERS: {', '.join(result['mismatched'])}"), flush=True)
        finally:
            if not options.keep:
                with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{restored_name}" WITH (FORCE)')
    if not options.keep:
        shutil.rmtree(folder, ignore_errors=True)
    else:
        print(f"kept: {archive}")


if __name__ == "__main__":
    main()
