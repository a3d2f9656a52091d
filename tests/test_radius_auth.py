"""Against real FreeRADIUS 3.2 on our tables: access granted, shaped, limited and revoked."""
from datetime import timedelta

import pytest
from django.utils import timezone

from radius import services
from radius.services import Limits

from .radius_server import accepted, reply_value

pytestmark = pytest.mark.django_db(transaction=True)  # FreeRADIUS reads committed rows


@pytest.fixture
def daily():
    services.set_group_policy("pkg-daily", rate_limit="2M/5M", idle_timeout=600, interim_interval=300)
    return "pkg-daily"


def test_a_granted_user_is_accepted_with_the_group_policy(radius_server, daily):
    expires = timezone.now() + timedelta(hours=2)
    services.grant_access("wanjiru", "kahawa-2026", daily, expires_at=expires)
    reply = radius_server.authenticate("wanjiru", "kahawa-2026")
    assert accepted(reply)
    assert reply_value(reply, "Mikrotik-Rate-Limit") == "2M/5M"
    assert reply_value(reply, "Idle-Timeout") == 600
    assert reply_value(reply, "Acct-Interim-Interval") == 300
    timeout = reply_value(reply, "Session-Timeout")
    assert 0 < timeout <= (expires - timezone.now()).total_seconds() + 1


def test_chap_works_too_as_mikrotik_hotspots_use_it(radius_server, daily):
    services.grant_access("otieno", "samaki-77", daily, expires_at=timezone.now() + timedelta(hours=1))
    assert accepted(radius_server.authenticate("otieno", "samaki-77", chap=True))
    assert not accepted(radius_server.authenticate("otieno", "wrong", chap=True))


def test_wrong_password_revoked_and_expired_users_are_rejected(radius_server, daily):
    services.grant_access("akinyi", "chai-na-mandazi", daily, expires_at=timezone.now() + timedelta(hours=1))
    assert not accepted(radius_server.authenticate("akinyi", "chai"))
    services.grant_access("kamau", "ugali-sukuma", daily, expires_at=timezone.now() - timedelta(minutes=1))
    assert not accepted(radius_server.authenticate("kamau", "ugali-sukuma"))
    services.revoke_access("akinyi")
    assert not accepted(radius_server.authenticate("akinyi", "chai-na-mandazi"))
    assert not accepted(radius_server.authenticate("nobody", "x"))


def test_rejections_and_acceptances_land_in_the_auth_log(radius_server, daily):
    from radius.models import RadPostAuth

    services.grant_access("njeri", "maziwa-lala", daily)
    radius_server.authenticate("njeri", "maziwa-lala", Calling_Station_Id="AA-BB-CC-DD-EE-01")
    radius_server.authenticate("njeri", "bad-guess", Calling_Station_Id="AA-BB-CC-DD-EE-01")
    log = list(RadPostAuth.objects.filter(username="njeri").order_by("id"))
    assert [entry.reply for entry in log] == ["Access-Accept", "Access-Reject"]
    assert {entry.calling_station_id for entry in log} == {"AA-BB-CC-DD-EE-01"}
    assert {entry.password for entry in log} == {None}  # passwords tried are never stored


def test_the_reply_carries_the_data_left_and_rejects_when_used_up(radius_server, daily):
    start = timezone.now() - timedelta(hours=1)
    services.grant_access("mwangi", "mtungi-9", daily, limits=Limits(total_bytes=500 * 2**20, since=start))
    radius_server.account("Start", "mwangi", "m-1", Framed_IP_Address="10.5.0.21")
    radius_server.account("Interim-Update", "mwangi", "m-1", Acct_Input_Octets=100 * 2**20,
                          Acct_Output_Octets=200 * 2**20, Acct_Session_Time=600)
    reply = radius_server.authenticate("mwangi", "mtungi-9")
    assert accepted(reply)
    assert reply_value(reply, "Mikrotik-Total-Limit") == 200 * 2**20  # 200 MB left
    assert reply_value(reply, "Mikrotik-Total-Limit-Gigawords") == 0
    radius_server.account("Stop", "mwangi", "m-1", Acct_Input_Octets=150 * 2**20,
                          Acct_Output_Octets=350 * 2**20, Acct_Session_Time=900)
    over = radius_server.authenticate("mwangi", "mtungi-9")
    assert not accepted(over) and reply_value(over, "Reply-Message") == "Your data allowance is used up"


def test_allowances_over_4_gigabytes_use_gigawords(radius_server, daily):
    services.grant_access("kiprop", "mbio-42km", daily, limits=Limits(total_bytes=10 * 2**30))
    reply = radius_server.authenticate("kiprop", "mbio-42km")
    assert reply_value(reply, "Mikrotik-Total-Limit-Gigawords") == 2
    assert reply_value(reply, "Mikrotik-Total-Limit") == 2 * 2**30


def test_a_time_allowance_shortens_the_session(radius_server, daily):
    services.grant_access("chebet", "chai-moto", daily, expires_at=timezone.now() + timedelta(days=7),
                          limits=Limits(total_seconds=3600, since=timezone.now() - timedelta(days=1)))
    radius_server.account("Start", "chebet", "c-1")
    radius_server.account("Stop", "chebet", "c-1", Acct_Session_Time=3000)
    assert reply_value(radius_server.authenticate("chebet", "chai-moto"), "Session-Timeout") == 600


def test_group_quota_applies_to_every_member(radius_server):
    services.set_group_policy("pkg-1gb", rate_limit="5M/5M", total_bytes=2**30)
    services.grant_access("baraka", "simba-1", "pkg-1gb", limits=Limits(since=timezone.now()))
    reply = radius_server.authenticate("baraka", "simba-1")
    assert reply_value(reply, "Mikrotik-Total-Limit") == 2**30


def test_simultaneous_use_is_enforced(radius_server, daily):
    services.grant_access("zawadi", "pamoja-2", daily, simultaneous_use=1)
    assert accepted(radius_server.authenticate("zawadi", "pamoja-2"))
    radius_server.account("Start", "zawadi", "z-1", Framed_IP_Address="10.5.0.30")
    second = radius_server.authenticate("zawadi", "pamoja-2")
    assert not accepted(second) and "already logged in" in reply_value(second, "Reply-Message")
    radius_server.account("Stop", "zawadi", "z-1", Acct_Session_Time=60)
    assert accepted(radius_server.authenticate("zawadi", "pamoja-2"))


def test_updating_access_changes_only_what_is_passed(radius_server, daily):
    services.set_group_policy("pkg-fast", rate_limit="10M/10M")
    services.grant_access("juma", "old-pass-1", daily, expires_at=timezone.now() + timedelta(hours=1))
    services.update_access("juma", group="pkg-fast")
    reply = radius_server.authenticate("juma", "old-pass-1")
    assert reply_value(reply, "Mikrotik-Rate-Limit") == "10M/10M"
    services.update_access("juma", password="new-pass-2")
    assert not accepted(radius_server.authenticate("juma", "old-pass-1"))
    assert accepted(radius_server.authenticate("juma", "new-pass-2"))


def test_run_freeradius_restarts_when_a_router_is_added(daily):
    from .radius_server import start_freeradius, stop_freeradius, wait_for

    services.register_nas("127.0.0.1", "first-router-secret", "first")
    services.grant_access("faith", "mpya-kabisa", daily)
    server, radius, confdir = start_freeradius("watch", nas_poll=0.3)
    try:
        from .radius_server import NAS_SECRET

        services.register_nas("127.0.0.1", NAS_SECRET, "first, new secret")  # what the test client uses
        wait_for(radius.log, "Ready to process requests", server, count=2)
        assert "RADIUS clients changed in the nas table: restarting FreeRADIUS" in radius.log.read_text()
        assert accepted(radius.authenticate("faith", "mpya-kabisa"))
    finally:
        stop_freeradius(server, confdir)


@pytest.mark.django_db(transaction=True)
def test_concurrent_grants_for_one_user_leave_one_set_of_rows(radius_server, daily):
    import threading

    from django.db import connections

    from radius.models import RadCheck, RadUserGroup

    barrier = threading.Barrier(8)
    failed = []

    def grant(n):
        barrier.wait()
        try:
            services.grant_access("njeri", f"pass-{n}", daily, expires_at=timezone.now() + timedelta(hours=n + 1))
        except Exception as error:
            failed.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=grant, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not failed and not any(thread.is_alive() for thread in threads), failed
    rows = list(RadCheck.objects.filter(username="njeri").values_list("attribute", flat=True))
    assert sorted(rows) == ["Cleartext-Password", "Expiration", "Hotspot-Quota-Since"]
    assert RadUserGroup.objects.filter(username="njeri").count() == 1
    password = RadCheck.objects.get(username="njeri", attribute="Cleartext-Password").value
    assert accepted(radius_server.authenticate("njeri", password))
