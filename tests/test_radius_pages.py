"""RADIUS pages and API: sessions (live from FreeRADIUS accounting), users, NAS devices, auth log."""
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.roles import ADMIN, SUPPORT, TECHNICIAN
from radius import services
from radius.models import CoaAttempt, RadAcct, RadPostAuth
from radius.nas_simulator import NAK, NasSimulator

from .lists_kit import assert_flat_queries
from .staff_kit import bearer

SECRET = "router-coa-secret-2"


def make_session(n, username=None, nas="10.8.0.2", open=True, **extra):
    start = timezone.now() - timedelta(minutes=n + 5)
    return RadAcct.objects.create(
        acct_session_id=f"s{n}", acct_unique_id=f"u{n}", username=username or f"user{n}", nas_ip_address=nas,
        framed_ip_address=f"10.5.{n // 250}.{n % 250 + 1}", calling_station_id=f"AA-BB-CC-00-00-{n % 100:02d}",
        acct_start_time=start, acct_update_time=start, acct_input_octets=1000 * n, acct_output_octets=5000 * n,
        acct_stop_time=None if open else start + timedelta(minutes=3), acct_session_time=None if open else 180,
        **extra)


@pytest.mark.django_db(transaction=True)
def test_accounting_through_freeradius_shows_on_the_sessions_page(radius_server, signed_in):
    services.grant_access("hassan", "pwani-2026", "pkg")
    radius_server.account("Start", "hassan", "h-77", Framed_IP_Address="10.5.3.3",
                          Calling_Station_Id="AA-BB-CC-DD-EE-77")
    client = signed_in(SUPPORT)
    html = client.get("/radius/sessions/").content.decode()
    assert "hassan" in html and "10.5.3.3" in html and "AA-BB-CC-DD-EE-77" in html
    radius_server.account("Stop", "hassan", "h-77", Acct_Session_Time=125, Acct_Output_Octets=3 * 2**20)
    assert "hassan" not in client.get("/radius/sessions/").content.decode()
    history = client.get("/radius/sessions/history/?q=hassan").content.decode()
    assert "hassan" in history and "2m 5s" in history and "3.0\xa0MB" in history


@pytest.mark.django_db
def test_the_sessions_page_searches_and_paginates_in_fixed_queries(signed_in,
                                                                 django_assert_num_queries):
    for n in range(60):
        make_session(n)
    make_session(99, username="kibet", open=False)
    client = signed_in(TECHNICIAN)
    with django_assert_num_queries(11):  # session, user, 2x perms, roles, count, page, NAS names, save (3)
        first = client.get("/radius/sessions/").content.decode()
    assert "Page 1 of 2 · 60 in all" in first and "kibet" not in first
    assert "Disconnect" not in first  # technicians may look, not disconnect
    page2 = client.get("/radius/sessions/?page=2").content.decode()
    assert "Page 2 of 2" in page2
    found = client.get("/radius/sessions/?q=AA:BB:CC:00:00:07", HTTP_HX_REQUEST="true").content.decode()
    assert found.lstrip().startswith('<div id="results">') and "user7" in found and "user8" not in found
    assert "kibet" in client.get("/radius/sessions/history/?q=kibet").content.decode()
    assert "user3" in client.get("/radius/sessions/?q=10.5.0.4").content.decode()


def make_nas_devices(numbers):
    for n in numbers:
        services.register_nas(f"10.9.0.{n + 1}", "secret-secret", f"Router {n:02d}")
        make_session(n, nas=f"10.9.0.{n + 1}")


def make_radius_users(numbers):
    for n in numbers:
        services.grant_access(f"user{n:02d}", "siri-kubwa-1", "pkg-daily")


def make_auth_log(numbers):
    for n in numbers:
        RadPostAuth.objects.create(username=f"user{n}", reply="Access-Accept" if n % 2 else "Access-Reject")


# Each list page of /radius/: how to make its rows, and its queries whatever their number: session,
# user, 2x perms, roles, count, page, what the page looks up for its rows, session save (3).
LIST_PAGES = {
    "/radius/nas/": (make_nas_devices, 11),  # + open sessions per NAS, one grouped query
    "/radius/users/": (make_radius_users, 13),  # + checks, replies, groups of the page's usernames
    "/radius/sessions/": (lambda numbers: [make_session(n) for n in numbers], 11),  # + NAS names
    "/radius/sessions/history/": (lambda numbers: [make_session(n, open=False) for n in numbers], 11),
    "/radius/auth-log/": (make_auth_log, 10),
}


@pytest.mark.django_db
@pytest.mark.parametrize("url", LIST_PAGES)
def test_each_list_page_costs_the_same_queries_for_2_rows_or_40(url, signed_in, django_assert_num_queries):
    make_rows, queries = LIST_PAGES[url]
    assert_flat_queries(signed_in(ADMIN), url, make_rows, queries, django_assert_num_queries)


@pytest.mark.django_db
def test_support_disconnects_a_session_from_the_page(signed_in):
    with NasSimulator(secret=SECRET.encode()) as nas:
        services.register_nas("127.0.0.1", SECRET, "Rongai", coa_port=nas.port)
        session = make_session(1, username="wairimu", nas="127.0.0.1")
        client = signed_in(SUPPORT)
        assert "Disconnect" in client.get("/radius/sessions/").content.decode()
        response = client.post(f"/radius/sessions/{session.pk}/disconnect/", {"next": "/radius/sessions/?q=x"},
                               follow=True)
        assert response.redirect_chain[-1][0] == "/radius/sessions/?q=x"
        assert "The router disconnected wairimu." in response.content.decode()
        nas.answer("wairimu", NAK)
        response = client.post(f"/radius/sessions/{session.pk}/disconnect/", follow=True)
        assert "refused to disconnect wairimu: Session-Context-Not-Found" in response.content.decode()
    assert list(CoaAttempt.objects.order_by("id").values_list("outcome", "requested_by")) == [
        ("ack", "samuel"), ("nak", "samuel")]


@pytest.mark.django_db
def test_users_page_shows_groups_and_hides_passwords(signed_in):
    services.grant_access("mutua", "siri-kubwa-1", "pkg-weekly", expires_at=timezone.now() + timedelta(days=7))
    client = signed_in(SUPPORT)
    html = client.get("/radius/users/?q=mut").content.decode()
    assert "mutua" in html and "pkg-weekly" in html and "Expiration" in html
    assert "siri-kubwa-1" not in html and "••••••" in html


@pytest.mark.django_db
def test_nas_page_counts_who_is_online(signed_in):
    services.register_nas("10.8.0.2", "secret-secret", "Kitengela")
    services.register_nas("10.8.0.3", "secret-secret", "Ruaka")
    make_session(1)
    make_session(2)
    make_session(3, open=False)
    client = signed_in(TECHNICIAN)
    response = client.get("/radius/nas/")
    devices = {n.shortname: n.open_sessions for n in response.context["page"]}
    assert devices == {"Kitengela": 2, "Ruaka": 0}


@pytest.mark.django_db
def test_auth_log_lists_answers_and_devices(signed_in):
    RadPostAuth.objects.create(username="onyango", reply="Access-Reject", calling_station_id="AA-BB-CC-DD-EE-10")
    RadPostAuth.objects.create(username="onyango", reply="Access-Accept", calling_station_id="AA-BB-CC-DD-EE-10")
    client = signed_in(SUPPORT)
    html = client.get("/radius/auth-log/?q=aa:bb:cc:dd:ee:10").content.decode()
    assert html.count(">onyango<") == 2 and "Rejected" in html and "Accepted" in html


@pytest.mark.django_db
def test_auth_log_is_newest_first_by_time_not_by_insertion(signed_in):
    # FreeRADIUS's threads (and the demo's seeding) insert out of time order: the id is no clock.
    now = timezone.now()
    for username, minutes_ago in (("akinyi", 5), ("baraka", 60), ("chebet", 1), ("daudi", 30)):
        RadPostAuth.objects.create(username=username, reply="Access-Accept",
                                   auth_date=now - timedelta(minutes=minutes_ago))
    page = signed_in(SUPPORT).get("/radius/auth-log/").context["page"]
    assert [entry.username for entry in page] == ["chebet", "akinyi", "daudi", "baraka"]


@pytest.mark.django_db
def test_the_api_lists_open_sessions_and_the_log(client, technician):
    for n in range(3):
        make_session(n)
    make_session(7, username="juma", open=False)
    body = client.get("/api/hotspot/sessions?limit=2", **bearer(technician)).json()
    assert body["count"] == 3 and len(body["results"]) == 2
    first = body["results"][0]
    assert {"id", "username", "nas_ip_address", "framed_ip_address", "mac", "started_at",
            "download_bytes"} <= set(first)
    log = client.get("/api/logs/sessions?username=juma", **bearer(technician)).json()
    assert log["count"] == 1 and log["results"][0]["stopped_at"] and log["results"][0]["session_seconds"] == 180
    assert client.get("/api/hotspot/sessions?limit=5000", **bearer(technician)).status_code == 422


@pytest.mark.django_db
def test_the_api_disconnects_through_the_nas(client, support_agent):
    with NasSimulator(secret=SECRET.encode()) as nas:
        services.register_nas("127.0.0.1", SECRET, "Rongai", coa_port=nas.port)
        session = make_session(1, username="achieng", nas="127.0.0.1")
        response = client.post(f"/api/hotspot/sessions/{session.pk}/disconnect", **bearer(support_agent))
        assert response.status_code == 200 and response.json()["outcome"] == "ack"
        nas.answer("achieng", NAK)
        refused = client.post(f"/api/hotspot/sessions/{session.pk}/disconnect", **bearer(support_agent))
        assert refused.status_code == 409 and refused.json()["error_cause"] == 503
    ended = make_session(2, open=False)
    assert client.post(f"/api/hotspot/sessions/{ended.pk}/disconnect", **bearer(support_agent)).status_code == 409
    assert client.post("/api/hotspot/sessions/424242/disconnect", **bearer(support_agent)).status_code == 404


@pytest.mark.django_db
def test_the_api_refuses_a_nas_that_is_not_an_address(client, technician):
    response = client.get("/api/hotspot/sessions?nas=router-1", **bearer(technician))
    assert response.status_code == 422 and "IP address" in response.json()["detail"]


@pytest.mark.django_db
def test_usage_always_counts_from_the_grant():
    from radius.models import RadCheck

    before = timezone.now()
    services.grant_access("neema", "siri-2026", "pkg-any")
    since = int(RadCheck.objects.get(username="neema", attribute="Hotspot-Quota-Since").value)
    assert int(before.timestamp()) <= since <= int(timezone.now().timestamp())


@pytest.mark.django_db
def test_disconnect_asks_first_on_the_sessions_list_and_the_customer_page(signed_in):
    from hotspot import services as hotspot

    session = make_session(1, username="wairimu", nas="10.8.0.2")
    customer = hotspot.create_customer("0712345678", "Wairimu", "hotspot", "")
    client = signed_in(SUPPORT)
    listing = client.get("/radius/sessions/?q=wairimu").content.decode()
    # A link to the confirm step, not a form that acts on the first tap.
    assert f'href="/radius/sessions/{session.pk}/disconnect/?next=/radius/sessions/%3Fq%3Dwairimu"' in listing
    asked = client.get(f"/radius/sessions/{session.pk}/disconnect/?next=/radius/sessions/%3Fq%3Dwairimu")
    html = asked.content.decode()
    assert "Disconnect wairimu?" in html and 'name="next" value="/radius/sessions/?q=wairimu"' in html
    assert 'href="/radius/sessions/?q=wairimu">Back, change nothing' in html
    assert not CoaAttempt.objects.exists()
    # An address elsewhere is never where "Back" goes.
    assert 'href="/radius/sessions/">Back' in client.get(
        f"/radius/sessions/{session.pk}/disconnect/?next=https://evil.example/").content.decode()

    detail = client.get(f"/customers/{customer.pk}/").content.decode()
    assert f'href="/customers/{customer.pk}/disconnect/"' in detail
    assert f'href="/customers/{customer.pk}/deactivate/"' in detail
    for action, question in (("disconnect", "Disconnect Wairimu"), ("deactivate", "Deactivate Wairimu")):
        html = client.get(f"/customers/{customer.pk}/{action}/").content.decode()
        assert question in html and f'action="/customers/{customer.pk}/{action}/"' in html
    customer.refresh_from_db()
    assert customer.status == "active"
