"""radius_open_session_rows() (FreeRADIUS's simul_verify_query, migration radius 0015) lists exactly the
sessions radius_open_sessions() counts, hotspot and PPP, so the verification agrees with the count;
the auth-path functions keep a cached plan per connection (no planning of radacct's months per call)."""
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from radius.models import NasReload, RadAcct

pytestmark = pytest.mark.django_db


def session(username, unique_id, *, started, updated=None, stopped=None, nas="10.9.0.1"):
    now = timezone.now()
    RadAcct.objects.create(acct_session_id=unique_id, acct_unique_id=unique_id, username=username,
                           nas_ip_address=nas, framed_ip_address="10.5.0.9", calling_station_id="AA-BB-CC-00-00-09",
                           acct_start_time=now - started, acct_update_time=now - (updated or started),
                           acct_stop_time=None if stopped is None else now - stopped)


def listed(username, framed_protocol=""):
    with connection.cursor() as cursor:
        cursor.execute("SELECT radius_open_sessions(%s, %s)", [username, framed_protocol])
        count = cursor.fetchone()[0]
        cursor.execute("SELECT * FROM radius_open_session_rows(%s, %s)", [username, framed_protocol])
        rows = cursor.fetchall()
    assert count == len(rows), "the verification must list what the count counted"
    return sorted(row[1] for row in rows)


def test_the_verification_lists_the_sessions_the_count_counts():
    day = timedelta(days=1)
    session("wairimu", "w-now", started=timedelta(hours=2))
    session("wairimu", "w-last-month", started=20 * day)
    session("wairimu", "w-stopped", started=timedelta(hours=3), stopped=timedelta(hours=1))
    session("wairimu", "w-stale", started=40 * day, updated=timedelta(minutes=5))
    session("wairimu", "w-before-reload", started=timedelta(hours=5), nas="10.9.0.2")
    NasReload.objects.create(nas_ip_address="10.9.0.2", reload_time=timezone.now() - timedelta(hours=1))
    session("kiprop", "k-other-user", started=timedelta(hours=1))
    assert listed("wairimu") == ["w-last-month", "w-now"]
    # A PPP session open for months counts while its router still reports it, not once it went silent.
    assert listed("wairimu", "PPP") == ["w-last-month", "w-now", "w-stale"]
    RadAcct.objects.filter(acct_unique_id="w-stale").update(acct_update_time=timezone.now() - 2 * day)
    assert listed("wairimu", "PPP") == ["w-last-month", "w-now"]
    assert listed("nobody") == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM radius_open_session_rows('wairimu', '') ORDER BY 1")
        columns = [column.name for column in cursor.description]
        first = cursor.fetchone()
    # FreeRADIUS reads the columns by position, as its stock simul_verify_query returns them.
    assert columns == ["o_radacctid", "o_acctsessionid", "o_username", "o_nasipaddress", "o_nasportid",
                       "o_framedipaddress", "o_callingstationid", "o_framedprotocol"]
    assert first[2:4] == ("wairimu", "10.9.0.1") and first[5:7] == ("10.5.0.9", "AA-BB-CC-00-00-09")


def test_the_auth_path_functions_keep_a_cached_plan():
    with connection.cursor() as cursor:
        cursor.execute("SELECT p.oid::regprocedure::text, p.proconfig FROM pg_proc p "
                       "WHERE p.proname IN ('radius_open_sessions', 'radius_data_allowance', "
                       "'radius_open_session_rows')")
        config = dict(cursor.fetchall())
    forced = ["plan_cache_mode=force_generic_plan"]
    assert config["radius_open_sessions(text)"] == forced
    assert config["radius_data_allowance(text,bigint,bigint,bigint,text)"] == forced
    assert config["radius_open_session_rows(text,text)"] == forced
    assert config["radius_open_sessions(text,text)"] is None  # radius 0014: the plan cache's own choice
