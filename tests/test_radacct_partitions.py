"""radacct partitioned by month (migration radius 0009), written by real FreeRADIUS 3.2.

Each accounting packet goes through run_freeradius's configuration (queries.conf without the ON
CONFLICT clauses a partitioned table cannot serve); where each row lands is read from its tableoid.
"""
import time
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from radius import partitions, services, sessions
from radius.models import CoaAttempt, RadAcct

from .radius_server import accepted, reply_value

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def same_partitions_after():
    """Partitions are DDL, which the flush between tests leaves: each test here puts back the set of
    months it found (the migration's: the retention window to two months ahead)."""
    partitions.prepare()
    before = set(partitions.months())
    yield
    with connection.cursor() as cursor:
        for name in set(partitions.months()) - before:
            cursor.execute(f'DROP TABLE "{name}"')
        for name in before - set(partitions.months()):
            cursor.execute("SELECT radacct_add_month(%s)", [partitions.month_start(name)])


def month_of(moment: datetime) -> datetime:
    return moment.astimezone(dt_timezone.utc).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def partition_of(unique_id: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM radacct WHERE acctuniqueid = %s", [unique_id])
        return ",".join(row[0] for row in cursor.fetchall())


def rows_of(session_id: str) -> list[RadAcct]:
    return list(RadAcct.objects.filter(acct_session_id=session_id))


def account(server, status, username, session_id, at: datetime, **attributes):
    reply = server.account(status, username, session_id, Event_Timestamp=int(at.timestamp()), **attributes)
    assert reply.code == 5, reply.code  # Accounting-Response: FreeRADIUS stored it


def test_the_table_is_partitioned_by_month_with_a_default_and_the_months_around_now():
    assert partitions.partitioned()
    names = partitions.months()
    now = timezone.now()
    this = f"radacct_{month_of(now):%Y_%m}"
    # The migration made months from the oldest row (none here) on, this one and two ahead, no more.
    assert names[-3:] == [f"radacct_{month_of(now + timedelta(days=31 * n)):%Y_%m}" for n in range(3)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", [this])
        definitions = [row[0] for row in cursor.fetchall()]
    # Every index of the parent on each partition, the four open-session (partial) ones among them
    # and the stopped-session one (radius 0011).
    assert len(definitions) == 12 and sum("WHERE (acctstoptime IS NULL)" in d for d in definitions) == 4


def test_start_interim_and_stop_through_freeradius_land_in_the_month_partition(radius_server):
    now = timezone.now().replace(microsecond=0)
    account(radius_server, "Start", "pia", "p-1", now - timedelta(minutes=10), Calling_Station_Id="AA-BB-CC-00-00-01")
    [session] = rows_of("p-1")
    assert partition_of(session.acct_unique_id) == f"radacct_{month_of(now):%Y_%m}" and session.is_open
    account(radius_server, "Interim-Update", "pia", "p-1", now - timedelta(minutes=5), Acct_Input_Octets=500,
            Acct_Output_Octets=7000, Acct_Session_Time=300)
    account(radius_server, "Stop", "pia", "p-1", now, Acct_Input_Octets=900, Acct_Output_Octets=9000,
            Acct_Session_Time=600, Acct_Terminate_Cause="User-Request")
    [session] = rows_of("p-1")
    assert (session.acct_input_octets, session.acct_output_octets, session.acct_session_time) == (900, 9000, 600)
    assert session.acct_stop_time == now and session.acct_terminate_cause == "User-Request"
    # Our own reads and writes through the ORM: by primary key, updated, searched by the new indexes.
    assert RadAcct.objects.get(pk=session.pk).acct_session_id == "p-1"
    assert RadAcct.objects.filter(calling_station_id="AA-BB-CC-00-00-01").count() == 1
    RadAcct.objects.filter(pk=session.pk).update(acct_terminate_cause="Admin-Reset")
    assert RadAcct.objects.get(pk=session.pk).acct_terminate_cause == "Admin-Reset"


def test_a_session_across_a_month_boundary_stays_one_row_in_its_start_month(radius_server):
    boundary = month_of(timezone.now())
    partitions.prepare(now=boundary - timedelta(days=1), ahead=0)  # last month's, as on a running system
    account(radius_server, "Start", "mara", "m-1", boundary - timedelta(minutes=2))
    account(radius_server, "Interim-Update", "mara", "m-1", boundary + timedelta(minutes=3),
            Acct_Input_Octets=100, Acct_Session_Time=300)
    account(radius_server, "Stop", "mara", "m-1", boundary + timedelta(minutes=8), Acct_Input_Octets=200,
            Acct_Session_Time=600, Acct_Terminate_Cause="Idle-Timeout")
    [session] = rows_of("m-1")
    previous = f"radacct_{boundary - timedelta(days=1):%Y_%m}"
    assert partition_of(session.acct_unique_id) == previous
    assert not session.is_open and session.acct_input_octets == 200 and session.acct_session_time == 600
    # A Stop whose Start was lost: its start (stop time less the session time) is last month's.
    account(radius_server, "Stop", "mara", "m-2", boundary + timedelta(minutes=1), Acct_Session_Time=600,
            Acct_Terminate_Cause="Lost-Carrier")
    [orphan] = rows_of("m-2")
    assert orphan.acct_start_time == boundary - timedelta(minutes=9)
    assert partition_of(orphan.acct_unique_id) == previous


def test_a_duplicate_start_updates_the_session_instead_of_adding_a_row(radius_server):
    now = timezone.now().replace(microsecond=0)
    account(radius_server, "Start", "duo", "d-1", now - timedelta(minutes=3))
    account(radius_server, "Start", "duo", "d-1", now - timedelta(minutes=2))  # the router sent it again
    [session] = rows_of("d-1")
    assert session.is_open and session.acct_start_time == now - timedelta(minutes=2)
    account(radius_server, "Stop", "duo", "d-1", now, Acct_Session_Time=120)
    account(radius_server, "Start", "duo", "d-1", now)  # late, after the Stop
    assert len(rows_of("d-1")) == 1
    # An Interim-Update for a session without a Start is inserted once; again, it updates that row.
    account(radius_server, "Interim-Update", "duo", "d-2", now, Acct_Session_Time=60, Acct_Input_Octets=5)
    account(radius_server, "Interim-Update", "duo", "d-2", now + timedelta(seconds=1), Acct_Session_Time=61,
            Acct_Input_Octets=6)
    [interim] = rows_of("d-2")
    assert interim.is_open and interim.acct_input_octets == 6


def _scans() -> dict[str, int]:
    """Each radacct partition's scans so far, by index or not (this connection's counts flushed)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")  # done when this statement ends
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT relname, COALESCE(idx_scan, 0) + seq_scan FROM pg_stat_user_tables "
                       "WHERE relname LIKE 'radacct_%%'")
        return dict(cursor.fetchall())


def test_simultaneous_use_reads_only_the_months_an_open_session_can_be_in(radius_server):
    """radius_open_sessions (migration radius 0010): one session at a time still holds for a session
    of last month, a session open since before the bound (31 days) is stale and blocks nothing, and
    the count probes this month's and last month's partitions only."""
    now = timezone.now()
    services.grant_access("solo", "peke-1", "pkg-solo", simultaneous_use=1)
    for days in (40, 31):  # as on a running system, which has the months of its retention window
        partitions.prepare(now=now - timedelta(days=days), ahead=0)
    RadAcct.objects.create(username="solo", acct_session_id="s-old", acct_unique_id="s-old",
                           nas_ip_address="10.8.0.2", acct_start_time=now - timedelta(days=40))
    assert accepted(radius_server.authenticate("solo", "peke-1"))
    RadAcct.objects.create(username="solo", acct_session_id="s-1", acct_unique_id="s-1",
                           nas_ip_address="10.8.0.2", acct_start_time=now - timedelta(days=25))
    second = radius_server.authenticate("solo", "peke-1")
    assert not accepted(second) and "already logged in" in reply_value(second, "Reply-Message")

    before = _scans()
    with connection.cursor() as cursor:
        cursor.execute("SELECT radius_open_sessions('solo')")
        assert cursor.fetchone()[0] == 1
    probed = {name for name, scans in _scans().items() if scans > before.get(name, 0)}
    assert probed == {f"radacct_{month_of(now):%Y_%m}", f"radacct_{month_of(now - timedelta(days=31)):%Y_%m}"}


def test_the_data_allowance_reads_only_the_months_of_its_period():
    """radius_data_allowance (migration radius 0012), on every authentication of a user with an
    allowance: usage since the period's start is counted, and only the months from that start to
    now are read, not the whole retention window nor the months made ahead."""
    now = timezone.now()
    since = now - timedelta(days=20)
    for days in (70, 40, 31, 20):  # as on a running system, which has the months of its retention window
        partitions.prepare(now=now - timedelta(days=days), ahead=0)
    partitions.prepare(now=now)
    for session, days, octets in (("a-old", 45, 7_000), ("a-1", 10, 300), ("a-2", 0, 200)):
        RadAcct.objects.create(username="metered", acct_session_id=session, acct_unique_id=session,
                               nas_ip_address="10.8.0.2", acct_start_time=now - timedelta(days=days, minutes=1),
                               acct_input_octets=octets, acct_output_octets=0)

    before = _scans()
    with connection.cursor() as cursor:
        cursor.execute("SELECT radius_data_allowance('metered', %s, 1000, 0, 'Africa/Nairobi')",
                       [int(since.timestamp())])
        assert cursor.fetchone()[0].split()[0] == "500"  # 1000 - (300 + 200): the older session is not the period's
    probed = {name for name, scans in _scans().items() if scans > before.get(name, 0)}
    months = {f"radacct_{month_of(moment):%Y_%m}" for moment in (since, now)}
    assert probed == months


def test_acctuniqueid_stays_unique_across_partitions():
    now = timezone.now()
    RadAcct.objects.create(acct_session_id="u", acct_unique_id="same", nas_ip_address="10.8.0.2",
                           acct_start_time=now)
    for start in (now, now - timedelta(days=45), datetime(2001, 1, 1, tzinfo=dt_timezone.utc)):
        with pytest.raises(IntegrityError), transaction.atomic():
            RadAcct.objects.create(acct_session_id="u", acct_unique_id="same", nas_ip_address="10.8.0.2",
                                   acct_start_time=start)
    assert RadAcct.objects.filter(acct_unique_id="same").count() == 1


def test_a_start_without_a_month_partition_waits_in_the_default_one_until_its_month_is_made(radius_server):
    long_ago = datetime(2011, 3, 15, 12, tzinfo=dt_timezone.utc)
    account(radius_server, "Start", "old", "o-1", long_ago)
    [session] = rows_of("o-1")
    assert partition_of(session.acct_unique_id) == partitions.DEFAULT
    assert partitions.prepare(now=long_ago, ahead=0) == ["radacct_2011_03"]
    assert partition_of(session.acct_unique_id) == "radacct_2011_03"
    assert RadAcct.objects.get(pk=session.pk).acct_start_time == long_ago
    assert partitions.prepare(now=long_ago, ahead=0) == []  # idempotent


def test_retention_drops_closed_months_but_never_one_with_an_open_session():
    now = timezone.now()
    cutoff = now - timedelta(days=settings.RADIUS_SESSION_RETENTION_DAYS)
    closed_month, open_month = month_of(cutoff - timedelta(days=100)), month_of(cutoff - timedelta(days=60))
    old_months = [f"radacct_{closed_month:%Y_%m}", f"radacct_{open_month:%Y_%m}"]
    for month in (closed_month, open_month):
        partitions.prepare(now=month, ahead=0)
    closed = RadAcct.objects.create(acct_session_id="c", acct_unique_id="c", nas_ip_address="10.8.0.2",
                                    acct_start_time=closed_month + timedelta(days=3),
                                    acct_stop_time=closed_month + timedelta(days=3, hours=1))
    RadAcct.objects.create(acct_session_id="s", acct_unique_id="s", nas_ip_address="10.8.0.2",
                           acct_start_time=open_month + timedelta(days=3))
    attempt = CoaAttempt.objects.create(kind="disconnect", session=closed, username="c", nas_ip_address="10.8.0.2",
                                        outcome="ack")
    CoaAttempt.objects.filter(pk=attempt.pk).update(sent_at=closed_month + timedelta(days=3, minutes=5))
    recent = RadAcct.objects.create(acct_session_id="r", acct_unique_id="r", nas_ip_address="10.8.0.2",
                                    acct_start_time=now, acct_stop_time=now)

    started = time.perf_counter()
    result = sessions.cleanup_old_records(now=now)
    elapsed = time.perf_counter() - started
    assert old_months[0] in result["months_dropped"] and old_months[1] not in result["months_dropped"]
    assert old_months[0] not in partitions.months() and old_months[1] in partitions.months()
    assert set(RadAcct.objects.values_list("acct_unique_id", flat=True)) == {"s", "r"}
    assert CoaAttempt.objects.get(pk=attempt.pk).session_id is None
    assert recent.pk in set(RadAcct.objects.values_list("pk", flat=True))
    assert elapsed < 5, elapsed  # catalogue changes, not row deletes (milliseconds when the machine is idle)
    # The open session closed, its month goes at the next run.
    RadAcct.objects.filter(acct_unique_id="s").update(acct_stop_time=open_month + timedelta(days=4))
    assert old_months[1] in sessions.cleanup_old_records(now=now)["months_dropped"]


def test_rows_outside_every_month_are_still_deleted_past_retention():
    now = timezone.now()
    ancient = datetime(1999, 5, 1, tzinfo=dt_timezone.utc)
    RadAcct.objects.create(acct_session_id="a", acct_unique_id="a", nas_ip_address="10.8.0.2",
                           acct_start_time=ancient, acct_stop_time=ancient + timedelta(hours=1))
    RadAcct.objects.create(acct_session_id="b", acct_unique_id="b", nas_ip_address="10.8.0.2",
                           acct_start_time=ancient)  # never stopped: kept, as before
    assert sessions.cleanup_old_records(now=now)["sessions"] == 1
    assert list(RadAcct.objects.values_list("acct_unique_id", flat=True)) == ["b"]


def test_partitions_are_made_ahead_by_a_beat_job_and_a_command():
    import io

    from django.core.management import call_command

    from radius.tasks import prepare_radacct_partitions

    entry = settings.CELERY_BEAT_SCHEDULE["prepare-radacct-partitions"]
    assert entry["task"] == prepare_radacct_partitions.name == "radius.tasks.prepare_radacct_partitions"
    assert prepare_radacct_partitions.delay().get() == []  # the migration made them already
    later = timezone.now() + timedelta(days=93)
    made = partitions.prepare(now=later)
    assert made == [f"radacct_{month_of(later + timedelta(days=31 * n)):%Y_%m}" for n in range(len(made))]
    assert made and made[-1] == partitions.months()[-1]
    out = io.StringIO()
    call_command("prepare_radacct_partitions", stdout=out)
    assert "Every partition needed is there." in out.getvalue()
