#!/usr/bin/env python
"""Report rollups at an ISP's size (issue 18): on issue 23's data set (bench/dataset.py: 100,000
customers, 1,000,000 payments, 10,000,000 radacct rows, 2,000,000 radpostauth rows at --scale 1),
times a full rebuild of a year of every rollup, then an incremental refresh after 10,000 new
accounting rows (new sessions, interim updates and stops, as FreeRADIUS writes them) against the
target of 5 s. Prints a table; exits non-zero when the incremental refresh misses its target.

Usage: DATABASE_URL=postgres://hotspot:hotspot@127.0.0.1:5432/hotspot .venv/bin/python bench/reports.py
Options: --scale 1.0 --name bench_pages --keep (reuse the database a --keep run of a bench left)
"""
import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

INCREMENTAL_TARGET_S = 5.0
NEW_ACCOUNTING_ROWS = 10_000


def accounting_burst(rows: int) -> dict:
    """``rows`` accounting writes as the last five minutes would bring them: a third new sessions
    (Start), a third interim updates of the newest open sessions, a third stops of the open sessions
    reported longest ago."""
    from django.db import connection

    third = rows // 3
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(radacctid), 0) FROM radacct")
        top = cursor.fetchone()[0]
        started = 0
        # Starts in statements of 200 rows (each its own transaction, as FreeRADIUS's are): radacct's
        # insert trigger takes a lock per row.
        for offset in range(0, third, 200):
            cursor.execute("""
            INSERT INTO radacct (radacctid, acctsessionid, acctuniqueid, username, realm, nasipaddress, nasportid,
                                 nasporttype, acctstarttime, acctupdatetime, acctinterval, acctsessiontime,
                                 acctauthentic, connectinfo_start, connectinfo_stop, acctinputoctets,
                                 acctoutputoctets, calledstationid, callingstationid, acctterminatecause,
                                 servicetype, framedprotocol, framedipaddress)
            SELECT %s + g, 'burst' || g, md5('burst' || g || clock_timestamp()), c.username, '', r.nasipaddress,
                   'bridge-hotspot', 'Wireless-802.11', now() - random() * interval '5 minutes', now(), 300, 0,
                   'RADIUS', '', '', 0, 0, 'hotspot1', c.last_mac, '', 'Login-User', '', '10.5.0.2'
            FROM generate_series(%s, %s) g
            JOIN hotspot_customer c ON c.id = 1 + mod(g * 7919, (SELECT count(*) FROM hotspot_customer))
            CROSS JOIN LATERAL (SELECT nasipaddress FROM radacct ORDER BY radacctid DESC LIMIT 1) r""",
                           [top, offset + 1, min(third, offset + 200)])
            started += cursor.rowcount
        cursor.execute("""
            UPDATE radacct SET acctupdatetime = now(), acctsessiontime = acctsessiontime + 300,
                   acctinputoctets = acctinputoctets + 5000000, acctoutputoctets = acctoutputoctets + 50000000
            WHERE radacctid IN (SELECT radacctid FROM radacct WHERE acctstoptime IS NULL
                                ORDER BY radacctid DESC LIMIT %s)""", [third])
        interim = cursor.rowcount
        cursor.execute("""
            UPDATE radacct SET acctstoptime = now(), acctupdatetime = now(), acctterminatecause = 'User-Request',
                   acctinputoctets = acctinputoctets + 1000000, acctoutputoctets = acctoutputoctets + 9000000
            WHERE radacctid IN (SELECT radacctid FROM radacct WHERE acctstoptime IS NULL
                                ORDER BY acctupdatetime LIMIT %s)""", [rows - started - interim])
        stopped = cursor.rowcount
    return {"started": started, "interim": interim, "stopped": stopped}


def rollup_timings() -> list[tuple[str, float, str]]:
    """(what, seconds, detail) for a year's rebuild, rollup by rollup, and an incremental refresh."""
    from billing import report_rollups
    from hotspot.models import RollupWatermark
    from lib import rollups
    from siteconfig import time_zone

    zone = time_zone.current()
    _, found = report_rollups._all()
    today = time_zone.today()
    first = today - timedelta(days=364)
    results = []
    for rollup in found:
        started = time.perf_counter()
        outcome = rollups.rebuild(rollup, RollupWatermark, first, today)
        results.append((f"rebuild a year: {rollup.name}", time.perf_counter() - started,
                        f"{outcome.keys:,} keys"))
    report_rollups.refresh()  # the watermarks at now: the next run is the incremental one
    burst = accounting_burst(NEW_ACCOUNTING_ROWS)
    started = time.perf_counter()
    outcomes = [rollups.refresh(rollup, RollupWatermark, zone=zone) for rollup in found]
    took = time.perf_counter() - started
    results.append((f"refresh after {sum(burst.values()):,} accounting rows", took,
                    ", ".join(f"{k} {v:,}" for k, v in burst.items()) + "; keys "
                    + ", ".join(f"{o.name} {o.keys:,}" for o in outcomes)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--name", default="bench_pages")
    parser.add_argument("--keep", action="store_true", help="keep the database, and reuse one a --keep run left")
    args = parser.parse_args()
    from bench.dataset import dataset

    with dataset(args.name, args.scale, args.keep):
        results = rollup_timings()
    print(f"\nReport rollups at scale {args.scale:g} (a shared 2-core machine: timings are noisy)")
    for what, seconds, detail in results:
        print(f"  {what:<45} {seconds:8.2f} s   {detail}")
    incremental = results[-1][1]
    verdict = "meets" if incremental < INCREMENTAL_TARGET_S else "MISSES"
    print(f"Incremental refresh {incremental:.2f} s {verdict} the {INCREMENTAL_TARGET_S:g} s target")
    sys.exit(0 if incremental < INCREMENTAL_TARGET_S else 1)


if __name__ == "__main__":
    main()
