"""Accounting through real FreeRADIUS into radacct, and the jobs that close what it cannot."""
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from radius import services, sessions
from radius.models import NasReload, RadAcct

pytestmark = pytest.mark.django_db(transaction=True)


def test_start_interim_and_stop_land_in_radacct(radius_server):
    services.grant_access("amina", "bahari-5", "pkg")
    radius_server.account("Start", "amina", "a-1", Framed_IP_Address="10.5.0.40",
                          Calling_Station_Id="AA-BB-CC-00-11-22")
    session = RadAcct.objects.get(acct_session_id="a-1")
    assert session.is_open and session.framed_ip_address == "10.5.0.40"
    assert session.calling_station_id == "AA-BB-CC-00-11-22" and session.nas_ip_address == "127.0.0.1"
    radius_server.account("Interim-Update", "amina", "a-1", Acct_Input_Octets=5000, Acct_Output_Octets=70000,
                          Acct_Session_Time=300)
    session.refresh_from_db()
    assert (session.acct_input_octets, session.acct_output_octets, session.acct_session_time) == (5000, 70000, 300)
    assert [s.acct_session_id for s in sessions.open_sessions("amina")] == ["a-1"]
    radius_server.account("Stop", "amina", "a-1", Acct_Input_Octets=9000, Acct_Output_Octets=10,
                          Acct_Output_Gigawords=1, Acct_Session_Time=420, Acct_Terminate_Cause="User-Request")
    session.refresh_from_db()
    assert not session.is_open and session.acct_terminate_cause == "User-Request"
    assert sessions.open_sessions("amina").count() == 0
    used = sessions.usage("amina", since=timezone.now() - timedelta(hours=1))
    assert used.seconds == 420 and used.input_octets == 9000 and used.output_octets == 2**32 + 10


def test_accounting_on_is_recorded_and_the_job_closes_that_nas_sessions(radius_server):
    for n in range(3):
        radius_server.account("Start", f"user{n}", f"on-{n}")
    other = RadAcct.objects.create(acct_session_id="x", acct_unique_id="x", username="elsewhere",
                                   nas_ip_address="10.8.0.9", acct_start_time=timezone.now())
    radius_server.account("Accounting-On", session_id="boot")
    assert NasReload.objects.filter(nas_ip_address="127.0.0.1").exists()
    assert sessions.open_sessions(nas_ip="127.0.0.1").count() == 3  # not closed on the auth path
    assert sessions.close_sessions() == {"reloaded": 3, "stale": 0}
    assert sessions.open_sessions(nas_ip="127.0.0.1").count() == 0
    assert set(RadAcct.objects.filter(nas_ip_address="127.0.0.1").values_list("acct_terminate_cause", flat=True)) \
        == {"NAS-Reboot"}
    other.refresh_from_db()
    assert other.is_open
    assert sessions.close_sessions() == {"reloaded": 0, "stale": 0}  # again: nothing left to do


def test_a_session_silent_for_two_intervals_is_closed_at_its_last_update():
    now = timezone.now()
    quiet = now - timedelta(minutes=11)
    RadAcct.objects.create(acct_session_id="q", acct_unique_id="q", username="quiet", nas_ip_address="10.8.0.2",
                           acct_start_time=now - timedelta(hours=1), acct_update_time=quiet)
    RadAcct.objects.create(acct_session_id="l", acct_unique_id="l", username="live", nas_ip_address="10.8.0.2",
                           acct_start_time=now - timedelta(hours=1), acct_update_time=now - timedelta(minutes=4))
    RadAcct.objects.create(acct_session_id="n", acct_unique_id="n", username="never", nas_ip_address="10.8.0.2",
                           acct_start_time=now - timedelta(minutes=30))
    assert sessions.close_stale_sessions(now, interim_interval=300) == 2
    closed = {s.username: s for s in RadAcct.objects.filter(acct_stop_time__isnull=False)}
    assert set(closed) == {"quiet", "never"}
    assert closed["quiet"].acct_stop_time == quiet and closed["quiet"].acct_terminate_cause == "Stale-Session"


PARTIAL_INDEXES = {"radacct_open_update_idx", "radacct_bulk_close", "radacct_active_session_idx",
                   "radacct_open_user_idx"}


def test_the_sweeps_read_open_rows_through_partial_indexes_not_the_table():
    from django.db import connection

    with connection.cursor() as cursor:
        # 5,000 closed sessions and 10 open ones over three weeks, as after weeks of business: with
        # one open row in 500 the planner already prefers the partial indexes to reading the months
        # (each row goes through radacct's uniqueness trigger, ~1 ms apiece: 50,000 took most of a minute).
        cursor.execute("""
            INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime,
                                 acctupdatetime, acctstoptime)
            SELECT 's' || g, 'u' || g, 'user' || (g % 500), ('10.8.0.' || (g % 20 + 1))::inet,
                   now() - interval '30 days' + g * interval '400 seconds',
                   now() - interval '30 days' + g * interval '400 seconds',
                   CASE WHEN g > 5000 THEN NULL ELSE now() - interval '29 days' END
            FROM generate_series(1, 5010) AS g""")
        cursor.execute("ANALYZE radacct")
        # radacct is partitioned by month (radius 0009): the months holding these rows are the ones
        # to read through indexes; an empty month ahead is as cheap to scan as to probe.
        cursor.execute("SELECT DISTINCT tableoid::regclass::text FROM radacct")
        holding = [row[0] for row in cursor.fetchall()]
        # Each partition's copy of a partial index has a name of its own.
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = ANY(%s) AND indexdef LIKE %s",
                       [holding, "%WHERE (acctstoptime IS NULL)"])
        partial = PARTIAL_INDEXES | {row[0] for row in cursor.fetchall()}
        plans = {}
        for name, sql in {
            "stale": "UPDATE radacct SET acctstoptime = acctupdatetime WHERE acctstoptime IS NULL "
                     "AND acctupdatetime < now() - interval '10 minutes'",
            "reloaded": "UPDATE radacct SET acctstoptime = now() WHERE nasipaddress = '10.8.0.3' "
                        "AND acctstoptime IS NULL AND acctstarttime <= now()",
        }.items():
            cursor.execute("EXPLAIN " + sql)
            plans[name] = " ".join(row[0] for row in cursor.fetchall())
    for name, plan in plans.items():
        assert holding and not any(f"Seq Scan on {table} " in plan for table in holding), (name, plan)
        assert any(index in plan for index in partial), (name, plan)


def test_the_job_is_a_command_and_a_beat_task():
    from django.conf import settings

    from radius.tasks import close_radius_sessions, close_sessions

    assert settings.CELERY_BEAT_SCHEDULE["close-radius-sessions"]["task"] == close_radius_sessions.name
    assert close_radius_sessions.name == "radius.tasks.close_radius_sessions"  # the command's name
    assert close_radius_sessions.delay().get() == {"reloaded": 0, "stale": 0}
    # The name beat used before the rename still runs what a queue may hold from before a deploy.
    assert close_sessions.name == "radius.tasks.close_sessions" and close_sessions.delay().get() == {
        "reloaded": 0, "stale": 0}
    import io

    out = io.StringIO()
    call_command("close_radius_sessions", stdout=out)
    assert "Closed 0 sessions of rebooted NAS devices and 0 stale sessions." in out.getvalue()
