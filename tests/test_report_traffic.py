"""Traffic graphs (issue 18): hourly rows summed from the minute samples, kept 13 months; the graphs
over 1 h / 24 h / 7 d / 30 d, the long ranges from the hourly rows only; who may see the page."""
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import dateformat, timezone

from routers import traffic_history
from routers.models import Router, RouterSample, RouterSampleHour, RouterTotalHour
from tests.staff_kit import *  # noqa: F403 - the personas

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)
MB = 1_000_000


def make_router(name: str) -> Router:
    return Router.objects.create(name=name, host="10.0.0.1")


def poll(router: Router, start: datetime, minutes: int, rx_per_minute: int, tx_per_minute: int,
         rx: int = 0, tx: int = 0, uptime: int = 86_400) -> tuple[int, int]:
    """A sample a minute from ``start``, counters rising by the given bytes each minute."""
    RouterSample.objects.bulk_create([
        RouterSample(router=router, taken_at=start + timedelta(minutes=m), rx_bytes=rx + m * rx_per_minute,
                     tx_bytes=tx + m * tx_per_minute, uptime_seconds=uptime + m * 60, active_users=m % 7)
        for m in range(minutes)])
    return rx + (minutes - 1) * rx_per_minute, tx + (minutes - 1) * tx_per_minute


def test_it_sums_each_routers_hours_from_the_minute_samples_and_a_reboot_is_a_gap():
    westlands, kilimani = make_router("Westlands"), make_router("Kilimani")
    start = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    # Westlands: 3 MB down, 1 MB up a minute from 09:00 to 10:59.
    poll(westlands, start, 120, 3 * MB, 1 * MB)
    # Kilimani: 10:00-10:29 at 2 MB a minute, then a reboot (counters from zero, uptime 60 s), then on.
    last_rx, last_tx = poll(kilimani, start + timedelta(hours=1), 30, 2 * MB, 2 * MB, rx=500 * MB, tx=500 * MB)
    poll(kilimani, start + timedelta(hours=1, minutes=30), 30, 2 * MB, 2 * MB, uptime=60)

    done = traffic_history.refresh_hours(now=NOW)

    hours = {(h.router.name, h.hour.astimezone(UTC).hour): h for h in RouterSampleHour.objects.select_related("router")}
    # The first sample has nothing before it: 59 intervals in the first hour, 60 in the second.
    assert (hours["Westlands", 9].rx_bytes, hours["Westlands", 9].tx_bytes) == (59 * 3 * MB, 59 * MB)
    assert (hours["Westlands", 10].rx_bytes, hours["Westlands", 10].seconds) == (60 * 3 * MB, 3600)
    assert hours["Westlands", 10].rx_peak_bps == 3 * MB * 8 // 60
    # 29 intervals before the reboot, none across it, 29 after.
    assert hours["Kilimani", 10].rx_bytes == 58 * 2 * MB
    assert hours["Kilimani", 10].seconds == 58 * 60
    assert done["rows"] == 3
    before = list(RouterSampleHour.objects.order_by("pk").values())

    traffic_history.refresh_hours(now=NOW)
    call_command("refresh_traffic_hours", "--since", "2026-11-20", stdout=None)

    assert list(RouterSampleHour.objects.order_by("pk").values()) == before


def test_an_interval_across_the_hour_counts_in_the_hour_of_its_later_sample():
    router = make_router("Westlands")
    poll(router, datetime(2026, 11, 20, 9, 58, tzinfo=UTC), 4, MB, MB)  # 09:58, 09:59, 10:00, 10:01

    traffic_history.refresh_hours(now=NOW)

    hours = {hour.astimezone(UTC).hour: rx for hour, rx in RouterSampleHour.objects.values_list("hour", "rx_bytes")}
    assert hours == {9: MB, 10: 2 * MB}


def test_hours_older_than_13_months_are_dropped(settings):
    settings.ROUTER_HOURLY_RETENTION_DAYS = 396
    router = make_router("Westlands")
    old = RouterSampleHour.objects.create(router=router, hour=NOW - timedelta(days=397), rx_bytes=1)
    kept = RouterSampleHour.objects.create(router=router, hour=NOW - timedelta(days=395), rx_bytes=1)

    assert traffic_history.refresh_hours(now=NOW)["dropped"] == 1

    assert list(RouterSampleHour.objects.all()) == [kept]
    assert not RouterSampleHour.objects.filter(pk=old.pk).exists()


def test_the_last_hour_is_drawn_a_point_a_minute_from_the_samples():
    westlands, kilimani = make_router("Westlands"), make_router("Kilimani")
    poll(westlands, NOW - timedelta(minutes=70), 71, 6 * MB, 3 * MB)
    poll(kilimani, NOW - timedelta(minutes=70), 71, 3 * MB, 3 * MB)

    one = traffic_history.over("1h", westlands, now=NOW)
    every = traffic_history.over("1h", now=NOW)

    assert len(one.points) == 60
    assert {p["rx_bps"] for p in one.points} == {6 * MB * 8 // 60}
    assert {p["rx_bps"] for p in every.points} == {9 * MB * 8 // 60}
    assert [r["router_id"] for r in every.routers] == [westlands.pk, kilimani.pk]
    assert every.rx_bytes == 60 * 9 * MB


def test_the_week_and_month_and_all_routers_day_read_the_hourly_rows_only():
    router = make_router("Westlands")
    for day in range(30):
        RouterSampleHour.objects.create(router=router, hour=NOW.replace(minute=0) - timedelta(days=day, hours=1),
                                        rx_bytes=3600 * MB, tx_bytes=360 * MB, seconds=3600, rx_peak_bps=9 * MB)
    traffic_history.sum_every_router(NOW - timedelta(days=31), NOW)

    with CaptureQueriesContext(connection) as queries:
        month = traffic_history.over("30d", now=NOW)
        week = traffic_history.over("7d", router, now=NOW)
        day = traffic_history.over("24h", now=NOW)

    samples = re.compile(rf"\b{RouterSample._meta.db_table}\b")
    assert not any(samples.search(q["sql"]) for q in queries.captured_queries)
    assert len(queries.captured_queries) == 3
    assert (day.bucket, day.rx_bytes) == (3600, 3600 * MB)
    assert (month.rx_bytes, len(month.points)) == (30 * 3600 * MB, 30)
    assert month.points[0]["rx_bps"] == 8 * MB
    assert (week.rx_bytes, week.routers[0]["rx_peak_bps"]) == (7 * 3600 * MB, 9 * MB)


def test_the_page_draws_all_routers_and_one_and_names_the_busiest(client, finance_clerk):
    westlands, kilimani = make_router("Westlands"), make_router("Kilimani")
    now = datetime.now(UTC)
    poll(westlands, now - timedelta(minutes=30), 30, 6 * MB, 3 * MB)
    poll(kilimani, now - timedelta(minutes=30), 30, 1 * MB, 1 * MB)
    client.force_login(finance_clerk)

    every = client.get("/reports/traffic/?span=1h")
    one = client.get(f"/reports/traffic/?span=1h&router={kilimani.pk}")

    assert every.status_code == one.status_code == 200
    page = every.content.decode()
    table = page[page.index('aria-label="By router"'):]
    assert "<polyline" in page and table.index("Westlands") < table.index("Kilimani")
    assert "Traffic: Kilimani" in one.content.decode()
    # The values as a table: a row a minute, its time in the business's zone, the rates for people.
    cell = r'<td class="num">([^<]+)</td>'
    values = re.findall(rf'<tr><td class="when">([^<]+)</td>{cell}{cell}</tr>', one.content.decode())
    later = timezone.localtime(now - timedelta(minutes=10))
    assert len(values) >= 28 and (dateformat.format(later, "D j M H:i"), "133.3 kbps", "133.3 kbps") in values


def test_the_page_answers_nonsense_with_the_default_range(client, technician):
    client.force_login(technician)

    found = client.get("/reports/traffic/?span=1y&router=nope")

    assert found.status_code == 200
    assert 'value="24h" selected' in found.content.decode()


def test_the_pages_queries_do_not_grow_with_the_routers(client, admin, django_assert_num_queries):
    for n in range(3):
        RouterSampleHour.objects.create(router=make_router(f"R{n}"), hour=datetime.now(UTC) - timedelta(hours=2),
                                        rx_bytes=MB, seconds=3600)
    client.force_login(admin)
    client.get("/reports/traffic/?span=7d")  # the session and the sidebar's first reads

    with django_assert_num_queries(10) as few:
        client.get("/reports/traffic/?span=7d")
    with django_assert_num_queries(10):  # a span without traffic reads the same (the names come with the select)
        client.get("/reports/traffic/?span=1h")
    for n in range(3, 8):
        RouterSampleHour.objects.create(router=make_router(f"R{n}"), hour=datetime.now(UTC) - timedelta(hours=2),
                                        rx_bytes=MB, seconds=3600)
    with django_assert_num_queries(len(few.captured_queries)):
        client.get("/reports/traffic/?span=7d")


def test_all_routers_stored_hours_are_the_sum_of_each_routers_and_refresh_keeps_them():
    westlands, kilimani, karen = make_router("Westlands"), make_router("Kilimani"), make_router("Karen")
    start = NOW - timedelta(hours=30)
    # Whole bits per second (bytes a minute x 8 / 60), so the sum of rounded rates is exact.
    poll(westlands, start, 30 * 60, 6 * MB, 3 * MB)
    poll(kilimani, start, 30 * 60, 3 * MB, 3 * MB // 2)
    poll(karen, start + timedelta(hours=10), 5 * 60, 3 * MB // 2, 3 * MB)  # only some of the hours

    traffic_history.refresh_hours(now=NOW)
    stored = list(RouterTotalHour.objects.order_by("hour").values_list("hour", "rx_bps", "tx_bps"))
    traffic_history.refresh_hours(now=NOW)  # again: the same totals, no new rows

    assert list(RouterTotalHour.objects.order_by("hour").values_list("hour", "rx_bps", "tx_bps")) == stored
    # One router's day is drawn in 5-minute points from the samples, all routers' from the hours.
    for span in ("7d", "30d"):
        every = traffic_history.over(span, now=NOW)
        each = [traffic_history.over(span, router, now=NOW) for router in (westlands, kilimani, karen)]
        summed = {}
        for one in each:
            for point in one.points:
                rates = summed.setdefault(point["at"], [0, 0])
                rates[0] += point["rx_bps"]
                rates[1] += point["tx_bps"]
        assert len(every.points) > 20
        assert {p["at"]: [p["rx_bps"], p["tx_bps"]] for p in every.points} == summed
        assert every.rx_bytes == sum(one.rx_bytes for one in each)
    day = traffic_history.over("24h", now=NOW)
    assert [p["rx_bps"] for p in day.points] == [p["rx_bps"] for p in every.points[-len(day.points):]]
    # The last hour, from the samples: every minute of all routers is the sum of each router's.
    every = traffic_history.over("1h", now=NOW)
    each = [traffic_history.over("1h", router, now=NOW) for router in (westlands, kilimani)]
    assert len(every.points) == 60
    assert [p["rx_bps"] for p in every.points] == [a["rx_bps"] + b["rx_bps"]
                                                   for a, b in zip(*(o.points for o in each), strict=True)]


def test_all_routers_hours_past_retention_are_dropped(settings):
    settings.ROUTER_HOURLY_RETENTION_DAYS = 396
    RouterTotalHour.objects.create(hour=NOW - timedelta(days=397), rx_bps=1)
    kept = RouterTotalHour.objects.create(hour=NOW - timedelta(days=395), rx_bps=1)

    traffic_history.refresh_hours(now=NOW)

    assert list(RouterTotalHour.objects.all()) == [kept]
