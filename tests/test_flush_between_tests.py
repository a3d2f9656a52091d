"""The suite's cheap flush between transactional tests (conftest._flush_only_what_holds_rows) leaves
every table empty, those the database's triggers keep too: a rollup's DELETE takes its rows off the
totals and per-customer sums, so those must be emptied after it, not before (CI once saw the next
test's usage report list nobody: its sums started below nothing). The two tests run in file order."""
from datetime import date

import pytest
from django.db import connection

from hotspot.models import UsageDay

from . import conftest

pytestmark = pytest.mark.django_db(transaction=True)
KEPT = ["billing_usagetotal", "billing_customerusagemonth", "billing_customerusagerunning",
        "billing_customerusagerecent"]


def counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(f"SELECT '{table}', count(*) FROM {table}" for table in KEPT))
        return dict(cursor.fetchall())


def test_a_test_leaves_rollup_rows_and_what_triggers_keep_from_them():
    UsageDay.objects.create(day=date(2026, 11, 20), username="amina", sessions=1, seconds=60,
                            bytes_in=10, bytes_out=100)
    assert all(counts().values())
    # The flush's statements, as the teardown will run them: rollups before what they keep. (The
    # tables come from a set, so without the ordering this held in about half of the runs.)
    deletes = conftest._flush_only_what_holds_rows(None, connection, reset_sequences=False)
    assert deletes.index('DELETE FROM "hotspot_usageday";') < min(deletes.index(f'DELETE FROM "{t}";') for t in KEPT)


def test_the_next_starts_with_all_of_them_empty():
    assert counts() == dict.fromkeys(KEPT, 0)
    UsageDay.objects.create(day=date(2026, 11, 20), username="amina", sessions=1, seconds=60,
                            bytes_in=10, bytes_out=100)
    with connection.cursor() as cursor:
        cursor.execute("SELECT rows, bytes_out FROM billing_customerusagemonth")
        assert cursor.fetchall() == [(1, 100)]
