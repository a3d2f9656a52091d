"""billing.CustomerUsageMonth (issue 18): hotspot.UsageDay summed per month x username x package by
triggers, and the usage report's top customers read from it for the months a range covers whole: the
same answer as summing UsageDay's own rows, over whole and partial months, with ties and filters."""
import io
import random
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import F, Sum

from billing import report_rollups
from billing.models import CustomerUsageMonth, CustomerUsageRecent, CustomerUsageRunning
from hotspot.models import Package, UsageDay
from monitoring.reports import usage
from monitoring.reports.period import Period
from monitoring.reports.usage import SUMS, TOP, top_customers
from routers.models import Router
from tests.staff_kit import *  # noqa: F403 - the personas

pytestmark = [pytest.mark.django_db,
              pytest.mark.skipif(connection.vendor != "postgresql", reason="kept by PostgreSQL triggers")]
FIRST = date(2026, 1, 1)


def months_in_sql() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute("""SELECT date_trunc('month', day)::date, username, package_id, count(*), sum(sessions),
                                 sum(seconds), sum(bytes_in), sum(bytes_out) FROM hotspot_usageday
                          GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""")
        return [tuple(row) for row in cursor.fetchall()]


def kept() -> list[tuple]:
    return list(CustomerUsageMonth.objects.order_by("month", "username", "package").values_list(
        "month", "username", "package", "rows", "sessions", "seconds", "bytes_in", "bytes_out"))


def straight(period: Period, **chosen) -> list[tuple]:
    """The top customers summed from UsageDay's own rows: (username, down, up, sessions, seconds)."""
    rows = UsageDay.objects.filter(day__gte=period.first, day__lte=period.last, **chosen)
    found = rows.values("username").annotate(**SUMS).order_by("-down", "username")[:TOP]
    return [(r["username"], r["down"], r["up"], r["session_count"], r["online"]) for r in found]


def fill(customers: int = 80, days: int = 150, seed: int = 7):
    """Random use over five months, on two routers and two packages (several rows a customer a day),
    with whole ties: every 10th customer uses exactly as much as the one before."""
    rnd = random.Random(seed)
    routers = [Router.objects.create(name=f"R{n}", host=f"10.0.{n}.1") for n in range(2)]
    packages = [Package.objects.create(name=f"P{n}", price=50, validity_minutes=1440) for n in range(2)]
    rows = []
    for offset in range(days):
        day = FIRST + timedelta(days=offset)
        for n in rnd.sample(range(customers), customers // 3):
            for router in rnd.sample(routers, rnd.randint(1, 2)):
                package = rnd.choice(packages)
                down = rnd.randint(1, 10**9) if n % 10 else 0
                rows.append(UsageDay(day=day, username=f"u{n:03}", router=router, package=package, sessions=1,
                                     seconds=rnd.randint(1, 9000), bytes_in=down // 8, bytes_out=down))
                if n % 10 == 0:  # tie with u(n+1)'s row, same day, same figures
                    rows.append(UsageDay(day=day, username=f"t{n:03}", router=router, package=package, sessions=1,
                                         seconds=5, bytes_in=7, bytes_out=10**9 // 2))
    UsageDay.objects.bulk_create(rows, batch_size=2000)
    return routers, packages


def running_in_sql() -> dict[str, tuple[int, list[int]]]:
    """Each username's downloads added up month by month, from its first month with use to its last."""
    months: dict[str, dict[int, int]] = {}
    for month, username, _package, _rows, _sessions, _seconds, _bytes_in, bytes_out in months_in_sql():
        used = months.setdefault(username, {})
        used[month.year * 12 + month.month - 1] = used.get(month.year * 12 + month.month - 1, 0) + bytes_out
    running = {}
    for username, used in months.items():
        total, first = 0, min(used)
        running[username] = (first, [total := total + used.get(n, 0) for n in range(first, max(used) + 1)])
    return running


def running_kept() -> dict[str, tuple[int, list[int]]]:
    return {r.username: (r.first_month, r.downloaded) for r in CustomerUsageRunning.objects.all()}


def same_running(kept: dict, expected: dict) -> bool:
    """The same total up to the end of every month, for every username (before a row's first month 0,
    after its last the last total; a row may start earlier with zeros, or be all zeros, or absent)."""
    rows = [*kept.values(), *expected.values()]
    first = min(row[0] for row in rows)
    last = max(row[0] + len(row[1]) for row in rows)

    def through(row, month):
        if row is None or month < row[0] or not row[1]:
            return 0
        return row[1][min(month - row[0], len(row[1]) - 1)]

    for username in set(kept) | set(expected):
        assert [through(kept.get(username), m) for m in range(first, last)] == [
            through(expected.get(username), m) for m in range(first, last)], username
    return True


def test_months_follow_inserts_updates_and_deletes_of_usage_days():
    fill(customers=30, days=70)
    assert kept() == months_in_sql() and len(kept()) > 120
    assert same_running(running_kept(), running_in_sql())
    UsageDay.objects.filter(username="u001", day__lt=FIRST + timedelta(days=40)).update(bytes_out=5, sessions=3)
    UsageDay.objects.filter(username="u002").update(username="z002")  # moved to another username
    UsageDay.objects.filter(username="u004", day__gte=FIRST + timedelta(days=31)).delete()
    UsageDay.objects.filter(username="u005").delete()  # every row: its months are gone, not zero
    UsageDay.objects.filter(username="u006", day__gte=date(2026, 2, 1), day__lt=date(2026, 3, 1)).delete()
    UsageDay.objects.filter(username="u007", day__lt=date(2026, 2, 1)).delete()  # its first month goes
    UsageDay.objects.filter(username="u008", day__gte=date(2026, 2, 1)).update(package=None)
    UsageDay.objects.filter(username="u009", day__lt=date(2026, 2, 1)).update(day=F("day") - timedelta(days=62))
    assert kept() == months_in_sql()
    assert not CustomerUsageMonth.objects.filter(username="u005").exists()
    assert CustomerUsageMonth.objects.filter(username="u008", package=None).count() == 2  # Feb. and March
    running = running_kept()
    assert same_running(running, running_in_sql()) and not any(running["u005"][1]) and not any(running["u002"][1])
    assert running["u006"][1][1] == running["u006"][1][0]  # February without use: January's total again
    assert running["u009"][0] == running_in_sql()["u009"][0] < 2026 * 12  # moved into 2025: starts there


@pytest.mark.parametrize("first, last", [
    (date(2026, 1, 1), date(2026, 5, 30)),    # four whole months, a month's end days
    (date(2026, 1, 17), date(2026, 5, 2)),    # partial both ends
    (date(2026, 2, 1), date(2026, 3, 31)),    # whole months only
    (date(2026, 1, 31), date(2026, 3, 1)),    # one whole month, a day each side
    (date(2025, 12, 20), date(2026, 2, 28)),  # starting before any row
    (date(2026, 2, 5), date(2026, 3, 4)),     # 30 days: February less its first 4 days, March's first 4
    (date(2026, 2, 3), date(2026, 2, 27)),    # within one month: the month less 3 days
])
def test_top_customers_from_months_equal_the_usage_days_summed(first, last):
    _routers, packages = fill()
    period = Period(first, last)
    found = top_customers(period)
    assert found == straight(period)
    assert len(found) == TOP
    for package in packages:  # one package's customers: its month rows
        assert top_customers(period, package) == straight(period, package=package)
    down = [row[1] for row in found]
    tied = [n for n in range(1, len(down)) if down[n] == down[n - 1]]
    assert tied, "the data has ties within the top"  # ordered by username among equals (compared above)


def test_a_range_with_no_whole_month_and_filters_read_the_usage_days(client, technician):
    routers, packages = fill()
    assert top_customers(Period(date(2026, 2, 10), date(2026, 2, 12))) is None  # 3 days: fewer than the rest
    client.force_login(technician)
    answer = client.get("/api/reports/usage", {"from": "2026-01-10", "to": "2026-04-20", "group_by": "customer",
                                               "router": routers[0].pk}).json()
    expected = straight(Period(date(2026, 1, 10), date(2026, 4, 20)), router=routers[0])
    assert [row["group"] for row in answer["rows"]] == [row[0] for row in expected]
    for chosen in ({"package": packages[1]}, {"package": packages[1], "router": routers[1]}):
        answer = client.get("/api/reports/usage", {"from": "2026-01-10", "to": "2026-04-20", "group_by": "customer",
                                                   **{name: value.pk for name, value in chosen.items()}}).json()
        expected = straight(Period(date(2026, 1, 10), date(2026, 4, 20)), **chosen)
        assert [(row["group"], row["sessions"]) for row in answer["rows"]] == [row[::3] for row in expected]
    whole = client.get("/api/reports/usage", {"from": "2026-01-10", "to": "2026-04-20",
                                              "group_by": "customer"}).json()
    expected = straight(Period(date(2026, 1, 10), date(2026, 4, 20)))
    assert [row["group"] for row in whole["rows"]] == [row[0] for row in expected]
    assert CustomerUsageMonth.objects.aggregate(n=Sum("bytes_out"))["n"] == UsageDay.objects.aggregate(
        n=Sum("bytes_out"))["n"]


def test_every_customer_listed_and_none_whose_rows_all_lie_outside_the_range():
    """Fewer customers than TOP: the whole list compared, those using nothing (0 bytes, still a row) at
    the end by username, and one whose rows all lie in the days taken off a month not listed."""
    fill(customers=20, days=70)
    UsageDay.objects.create(day=date(2026, 2, 2), username="gone", sessions=1, bytes_out=10**12)
    UsageDay.objects.create(day=date(2026, 3, 20), username="later", sessions=1, bytes_out=10**12)
    period = Period(date(2026, 2, 5), date(2026, 3, 4))
    found = top_customers(period)
    assert found == straight(period) and len(found) < TOP
    assert "gone" not in [row[0] for row in found] and "later" not in [row[0] for row in found]
    assert found[-1][1] == 0


@pytest.mark.parametrize("first, last", [
    (date(2026, 1, 1), date(2026, 5, 30)),    # five months touched, four whole
    (date(2026, 1, 17), date(2026, 5, 2)),    # partial both ends
    (date(2025, 6, 9), date(2026, 6, 8)),     # a year, most of it before the first use
])
def test_over_long_ranges_only_contenders_are_summed_and_the_answer_is_the_same(first, last):
    """Use as ISPs see it, a few customers downloading far more than most (a Pareto tail): the running
    rows leave a fraction of the customers as contenders, and the top is the one UsageDay sums."""
    rnd = random.Random(11)
    heavy = {n: rnd.paretovariate(1.2) for n in range(600)}
    UsageDay.objects.bulk_create([
        UsageDay(day=FIRST + timedelta(days=offset), username=f"c{n:03}", sessions=1, seconds=60,
                 bytes_in=1000, bytes_out=int(heavy[n] * rnd.randint(10**6, 2 * 10**6)))
        for offset in range(0, 150, 3) for n in rnd.sample(range(600), 200)], batch_size=5000)
    period = Period(first, last)
    _months, _added, _taken, whole, parts = usage._pieces(period)
    assert len(whole) + len(parts) >= usage.BOUNDED_FROM
    contenders = usage._contenders(whole, parts)
    assert contenders is not None and TOP <= len(contenders) < 600 // 2
    found = top_customers(period)
    assert found == straight(period) and len(found) == TOP
    assert {row[0] for row in found} <= set(contenders)


@pytest.mark.parametrize("first, last", [(date(2026, 1, 1), date(2026, 5, 31)), (date(2026, 1, 12), date(2026, 5, 3))])
def test_one_packages_top_over_long_ranges_is_summed_from_its_contenders(first, last):
    """A big package and a small one, customers on both (a Pareto tail of use): the big package's
    contenders are a fraction of its customers, bounded by what they downloaded on every package; the
    small one has too few customers to set a bar and its month rows are all summed. Both are the
    top its UsageDay rows give."""
    rnd = random.Random(13)
    big, small = (Package.objects.create(name=name, price=50, validity_minutes=1440) for name in ("Big", "Small"))
    heavy = {n: rnd.paretovariate(1.2) for n in range(600)}
    UsageDay.objects.bulk_create([
        UsageDay(day=FIRST + timedelta(days=offset), username=f"c{n:03}", package=small if n % 15 == 0 else big,
                 sessions=1, seconds=60, bytes_in=1000, bytes_out=int(heavy[n] * rnd.randint(10**6, 2 * 10**6)))
        for offset in range(0, 150, 3) for n in rnd.sample(range(600), 200)], batch_size=5000)
    UsageDay.objects.filter(username__in=["c001", "c002"], day__lt=FIRST + timedelta(days=30)).update(package=small)
    period = Period(first, last)
    pieces = usage._pieces(period)
    contenders = usage._package_contenders(*pieces, big)
    assert contenders is not None and TOP <= len(contenders) < 600 // 2
    assert usage._package_contenders(*pieces, small) is None  # 40 customers: no bar, all summed
    for package in (big, small):
        found = top_customers(period, package)
        assert found == straight(period, package=package) and found


@pytest.mark.django_db(transaction=True)
def test_a_rebuild_leaves_the_per_customer_rows_without_their_dead_versions():
    """Each month's rows written by a statement of its own (as a rebuild writes them) rewrite every
    customer's running and recent rows each time; rebuild_reports leaves the tables compact, the
    totals unchanged."""
    base = date.today().replace(day=1) - timedelta(days=1)  # last month: in the recent rows' window
    for offset in range(8):
        UsageDay.objects.bulk_create([UsageDay(day=base - timedelta(days=31 * offset), username=f"k{n:03}",
                                               sessions=1, bytes_out=n + offset) for n in range(400)])

    def size(table: str) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_relation_size(%s)", [table])
            return cursor.fetchone()[0]

    bloated = {table: size(table) for table in report_rollups.COMPACTED}
    running = running_kept()
    call_command("rebuild_reports", "--from", "2020-01-01", "--to", "2020-01-01", stdout=io.StringIO())
    assert size("billing_customerusagerunning") < bloated["billing_customerusagerunning"] / 4
    assert size("billing_customerusagerecent") <= bloated["billing_customerusagerecent"]
    assert running_kept() == running and same_running(running, running_in_sql())


def test_when_the_bounds_leave_nobody_out_everyone_is_summed(monkeypatch):
    """Customers who all use the same: every one is a contender, over MOST_CONTENDERS, and the answer
    comes from everyone's month rows instead; the same either way."""
    UsageDay.objects.bulk_create([UsageDay(day=FIRST + timedelta(days=offset), username=f"e{n:03}", sessions=1,
                                           bytes_out=10**6) for offset in range(0, 150, 5) for n in range(120)])
    monkeypatch.setattr(usage, "MOST_CONTENDERS", 100)
    period = Period(date(2026, 1, 10), date(2026, 5, 20))
    assert usage._contenders(*usage._pieces(period)[3:]) is None
    assert top_customers(period) == straight(period)


def recent_in_sql(base: date) -> dict[str, list[int]]:
    """Each username's downloads added up day by day from ``base`` to its last day with use."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT username, day, sum(bytes_out) FROM hotspot_usageday WHERE day >= %s "
                       "GROUP BY 1, 2 ORDER BY 1, 2", [base])
        days: dict[str, dict[date, int]] = {}
        for username, day, down in cursor.fetchall():
            days.setdefault(username, {})[day] = int(down)
    running = {}
    for username, used in days.items():
        total = 0
        running[username] = [total := total + used.get(base + timedelta(days=n), 0)
                             for n in range((max(used) - base).days + 1)]
    return running


def test_over_recent_weeks_every_customer_is_ranked_from_one_row():
    """Ranges inside the recent window (the last 7 and 30 days, this month, last month) are ranked
    from billing.CustomerUsageRecent, which follows inserts, updates and deletes of the day rows in
    the window and ignores older ones; the answer is the one the day rows give."""
    from siteconfig import time_zone

    with connection.cursor() as cursor:
        cursor.execute("SELECT (date_trunc('month', current_date) - interval '1 month')::date")
        base = cursor.fetchone()[0]
    today = time_zone.today()
    rnd = random.Random(5)
    routers = [Router.objects.create(name=f"R{n}", host=f"10.0.{n}.1") for n in range(2)]
    rows = []
    for offset in range((today - base).days + 1):
        day = base + timedelta(days=offset)
        for n in rnd.sample(range(300), 120):
            for router in rnd.sample(routers, rnd.randint(1, 2)):
                down = rnd.randint(1, 10**9) if n % 10 else 0
                rows.append(UsageDay(day=day, username=f"r{n:03}", router=router, sessions=1, seconds=9,
                                     bytes_in=down // 8, bytes_out=down))
    rows.append(UsageDay(day=base - timedelta(days=3), username="old", sessions=1, bytes_out=10**15))
    UsageDay.objects.bulk_create(rows, batch_size=5000)

    def recent_kept():
        return {r.username: r.downloaded for r in CustomerUsageRecent.objects.all()}

    def same_totals(kept, expected):
        """The same total on every day of the window (a running row's last total holds after its end;
        a customer who downloaded nothing may have a row of zeros or none)."""
        days = (today - base).days + 1
        for username in set(kept) | set(expected):
            totals = [(row[min(n, len(row) - 1)] if row else 0) for row in
                      (kept.get(username, []), expected.get(username, [])) for n in range(days)]
            assert totals[:days] == totals[days:], username
        return True

    assert same_totals(recent_kept(), recent_in_sql(base)) and "old" not in recent_kept()
    assert set(CustomerUsageRecent.objects.values_list("first_day", flat=True)) == {base}
    UsageDay.objects.filter(username="r001", day=today).update(bytes_out=7)
    UsageDay.objects.filter(username="r002").delete()
    UsageDay.objects.filter(username="r003", day__gte=today - timedelta(days=3)).delete()
    UsageDay.objects.filter(username="old").update(bytes_out=1)  # before the window: no row written
    assert same_totals(recent_kept(), recent_in_sql(base)) and not any(recent_kept().get("r002", []))

    month_start = today.replace(day=1)
    for period in (Period(today - timedelta(days=6), today), Period(today - timedelta(days=29), today),
                   Period(month_start, today), Period(base, month_start - timedelta(days=1))):
        if period.first >= base:  # not the last 30 days on 1 March: January's end is before the window
            assert usage._recent_top(period) is not None, period
        assert top_customers(period) == straight(period), period
    before = Period(base - timedelta(days=5), today)  # starts before the window: the other path, same answer
    assert usage._recent_top(before) is None
    assert top_customers(before) == straight(before)


@pytest.mark.parametrize("total, first, base, days, changes, expected", [
    (None, "2026-11-01", "2026-11-01", ["2026-11-03"], [5], [0, 0, 5]),               # a new row
    ([1, 3, 3], "2026-11-01", "2026-11-01", ["2026-11-02", "2026-11-05"], [2, -1], [1, 5, 5, 5, 4]),
    ([1, 3, 6, 10], "2026-10-30", "2026-11-01", [], [], [3, 7]),                       # its start moved up
    ([1, 3], "2026-10-01", "2026-11-01", ["2026-11-02"], [4], [0, 4]),                 # all of it before
    ([1, 3], "2026-11-01", "2026-11-01", ["2026-10-31"], [9], [1, 3]),                 # a day before: nothing
])
def test_a_change_is_added_to_a_running_row_from_its_day_on(total, first, base, days, changes, expected):
    with connection.cursor() as cursor:
        cursor.execute("SELECT billing_running_add(%s::bigint[], %s::date, %s::date, %s::date[], %s::bigint[])",
                       [total, first, base, days, changes])
        assert cursor.fetchone()[0] == expected


@pytest.mark.parametrize("total, first, months, changes, expected", [
    (None, None, [24300, 24302], [5, 2], [5, 5, 7]),              # a new row, from its first month
    ([1, 3, 3], 24300, [24301, 24304], [2, -1], [1, 5, 5, 5, 4]),  # inside, and after its end
    ([1, 3], 24300, [24298], [4], [4, 4, 5, 7]),                   # before its first month: it starts there
    ([1, 3], 24300, [24300], [-1], [0, 2]),                        # taken off
])
def test_a_change_is_added_to_a_monthly_running_row_from_its_month_on(total, first, months, changes, expected):
    with connection.cursor() as cursor:
        cursor.execute("SELECT billing_running_months(%s::bigint[], %s::int, %s::int[], %s::bigint[])",
                       [total, first, months, changes])
        assert cursor.fetchone()[0] == expected


@pytest.mark.parametrize("a, a_first, b, b_first, expected", [
    ([1, 3], 24300, [5], 24300, [6, 8]),               # b's last total holds after its end
    ([1, 3], 24300, [5, 5, 7], 24301, [1, 8, 8, 10]),  # b starts later and ends later
    ([1, 3], 24300, [4], 24298, [4, 4, 5, 7]),         # b starts earlier: a is 0 before its first
    ([], 24300, [2, 0], 24299, [2, 0]),                 # an empty row
])
def test_two_running_rows_are_summed_month_by_month(a, a_first, b, b_first, expected):
    with connection.cursor() as cursor:
        cursor.execute("SELECT billing_running_sum(%s::bigint[], %s::int, %s::bigint[], %s::int)",
                       [a, a_first, b, b_first])
        assert cursor.fetchone()[0] == expected
