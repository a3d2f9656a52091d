"""Report rollups (issue 18, one mechanism for issue 23's summary rows): each rollup's figures equal the
same figures computed with SQL straight from payments, radacct and radpostauth, on a small generated
set with a session crossing midnight, refunds, payments at the business-day boundary and a customer
with no activity; running twice, or two at once, changes nothing."""
import threading
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.db.models import Sum

from billing import report_rollups
from billing.customer_rollup import CustomerRollup
from billing.models import CohortMonth, CustomerDay, Payment, PaymentDay, PaymentTotal, UsageTotal
from billing.payment_rollup import PaymentRollup
from hotspot.login_rollup import LoginRollup
from hotspot.models import Customer, LoginDay, LoginHour, Package, SessionMark, Subscription, UsageDay
from hotspot.rollup_sources import router_by_address
from hotspot.usage_rollup import UsageRollup
from lib import rollups
from radius.models import RadAcct, RadPostAuth
from routers.models import Router
from siteconfig import time_zone

MB = 2**20


def zone():
    return time_zone.current()


def at(day: date, hour: int, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    return rollups.day_start(day, zone()) + timedelta(hours=hour, minutes=minute, seconds=second, microseconds=micro)


class World:
    """Two routers, two packages; Alice and Bob buy and browse, Carol never does anything."""

    def __init__(self):
        self.today = time_zone.today()
        self.d = self.today - timedelta(days=3)  # the day a session crosses into d + 1
        self.westlands = Router.objects.create(name="Westlands", host="10.0.0.1")
        self.kilimani = Router.objects.create(name="Kilimani", host="10.0.0.2")
        self.day_pass = Package.objects.create(name="Day pass", price=Decimal("50"), validity_minutes=1440)
        self.week = Package.objects.create(name="Week", price=Decimal("300"), validity_minutes=10080)
        self.alice = Customer.objects.create(username="alice", phone="254700000001")
        self.bob = Customer.objects.create(username="bob", phone="254700000002")
        self.carol = Customer.objects.create(username="carol", phone="254700000003")
        start = at(self.d - timedelta(days=40), 8)
        Subscription.objects.create(customer=self.alice, package=self.day_pass, status="active", starts_at=start,
                                    expires_at=at(self.today + timedelta(days=5), 0))
        Subscription.objects.create(customer=self.bob, package=self.week, status="expired", starts_at=start,
                                    expires_at=at(self.d, 12))

    def pay(self, customer, package, amount, completed_at, method="mpesa_stk", reversed_at=None, status="completed"):
        return Payment.objects.create(customer=customer, package=package, amount=Decimal(amount), method=method,
                                      status=status, completed_at=completed_at, reversed_at=reversed_at,
                                      created_at=completed_at or at(self.d, 1))

    def session(self, username, nas, start, *, update=None, stop=None, octets=(0, 0), seconds=0, mac="AA-00"):
        return RadAcct.objects.create(
            acct_session_id=f"s{RadAcct.objects.count()}", acct_unique_id=f"u{RadAcct.objects.count()}",
            username=username, nas_ip_address=nas, calling_station_id=mac, acct_start_time=start,
            acct_update_time=update or stop or start, acct_stop_time=stop, acct_input_octets=octets[0],
            acct_output_octets=octets[1], acct_session_time=seconds)

    def answer(self, username, when, accepted=True, mac="AA-00"):
        RadPostAuth.objects.create(username=username, reply="Access-Accept" if accepted else "Access-Reject",
                                   calling_station_id=mac, auth_date=when)

    def fill(self):
        d = self.d
        # Payments: the first microsecond of d and the last of d - 1; a refund; a wallet purchase (not
        # revenue); a pending and a failed one (not counted); Bob's first purchase ever on d + 1.
        self.pay(self.alice, self.day_pass, "50", at(d, 0))
        self.pay(self.alice, self.day_pass, "50", at(d, 0) - timedelta(microseconds=1))
        self.pay(self.alice, self.week, "300", at(d, 23, 59, 59, 999999), reversed_at=at(d + timedelta(days=1), 9))
        self.pay(self.alice, self.day_pass, "50", at(d, 13), method="wallet")
        self.pay(self.bob, self.week, "300", at(d + timedelta(days=1), 10), method="cash")
        self.pay(self.bob, self.week, "300", None, status="pending")
        self.pay(self.bob, self.week, "300", None, status="failed")
        self.pay(self.alice, self.day_pass, "50", at(d - timedelta(days=35), 10))  # a purchase 35 days earlier
        # Sessions: Alice at Westlands, one a day, and Bob at Kilimani; an unknown NAS address too.
        self.session("alice", "10.0.0.1", at(d, 0, 0, 1), stop=at(d, 1), octets=(5 * MB, 50 * MB), seconds=3599)
        self.session("bob", "10.0.0.2", at(d + timedelta(days=1), 10, 1), stop=at(d + timedelta(days=1), 11),
                     octets=(MB, 9 * MB), seconds=3540, mac="BB-01")
        self.session("bob", "10.0.0.2", at(d + timedelta(days=1), 12), stop=at(d + timedelta(days=1), 12, 30),
                     octets=(MB, 2 * MB), seconds=1800, mac="BB-02")
        self.session("stranger", "10.9.9.9", at(d, 23, 59, 59), stop=at(d, 23, 59, 59, 500000), octets=(1, 2))
        # Sign-ins: accepts followed by their sessions, rejects for each reason, at the hour's edges.
        self.answer("alice", at(d, 0, 0, 0))
        self.answer("bob", at(d + timedelta(days=1), 10, 0, 30), mac="BB-01")
        self.answer("bob", at(d + timedelta(days=1), 11, 59, 59), accepted=False, mac="BB-01")  # no package
        self.answer("alice", at(d, 23, 59, 59, 999999), accepted=False)  # refused: a package runs
        self.answer("mallory", at(d + timedelta(days=1), 0, 0, 0), accepted=False)  # unknown


def run():
    return {outcome.name: outcome.keys for outcome in report_rollups.refresh()}


def snapshot():
    return {
        "payments": sorted(PaymentDay.objects.values_list("day", "package", "router", "method", "payments", "amount",
                                                          "refunds", "refunded")),
        "customers": sorted(CustomerDay.objects.values_list("day", "active", "new", "returning", "churned")),
        "cohorts": sorted(CohortMonth.objects.values_list("cohort", "month", "customers", "amount")),
        "usage": sorted(UsageDay.objects.values_list("day", "username", "router", "package", "customer", "sessions",
                                                     "seconds", "bytes_in", "bytes_out", "devices"),
                        key=str),
        "logins": sorted(LoginHour.objects.values_list("day", "hour", "router", "reason", "accepted", "rejected",
                                                       "users"), key=str),
        "login_days": sorted(LoginDay.objects.values_list("day", "router", "users", "users_accepted",
                                                          "users_rejected"), key=str),
    }


def sql(query, params=()):
    with connection.cursor() as cursor:
        # The zone's placeholders come before any other in these queries.
        cursor.execute(query.replace("{tz}", "%s"), [str(zone())] * query.count("{tz}") + list(params))
        return cursor.fetchall()


@pytest.fixture
def world(db):
    return World()


def test_payment_days_equal_sql_over_payments_with_refunds_and_the_days_edges(world):
    world.fill()
    run()
    expected = sql("""SELECT (completed_at AT TIME ZONE {tz})::date, method, count(*), sum(amount),
                             count(*) FILTER (WHERE reversed_at IS NOT NULL),
                             coalesce(sum(amount) FILTER (WHERE reversed_at IS NOT NULL), 0)
                      FROM billing_payment WHERE status = 'completed' GROUP BY 1, 2 ORDER BY 1, 2""")
    got = sorted((r["day"], r["method"], r["n"], r["amount"], r["refunds"], r["refunded"]) for r in
                 PaymentDay.objects.values("day", "method").annotate(n=Sum("payments"), amount=Sum("amount"),
                                                                      refunds=Sum("refunds"),
                                                                      refunded=Sum("refunded")))
    assert got == [tuple(row) for row in expected]
    d = world.d
    # The boundary: 00:00:00.000000 of d is d's, a microsecond before is d - 1's.
    assert PaymentDay.objects.get(day=d - timedelta(days=1)).amount == Decimal("50")
    revenue = PaymentDay.objects.revenue().filter(day=d).aggregate(amount=Sum("amount"), refunded=Sum("refunded"))
    assert revenue == {"amount": Decimal("350.00"), "refunded": Decimal("300.00")}  # the wallet's 50 is not revenue
    # Bob's cash on d + 1 is his session's router's (Kilimani, started within 15 minutes after it).
    assert PaymentDay.objects.get(day=d + timedelta(days=1)).router == world.kilimani
    assert PaymentDay.objects.get(day=d, method="wallet").router == world.westlands


def test_customer_days_and_cohorts_equal_sql_over_purchases(world):
    world.fill()
    run()
    expected = sql("""WITH p AS (SELECT customer_id, (completed_at AT TIME ZONE {tz})::date AS day FROM billing_payment
                                 WHERE status = 'completed' AND reversed_at IS NULL AND customer_id IS NOT NULL),
                           f AS (SELECT customer_id, min(day) AS first FROM p GROUP BY 1)
                      SELECT p.day, count(DISTINCT p.customer_id),
                             count(DISTINCT p.customer_id) FILTER (WHERE f.first = p.day),
                             count(DISTINCT p.customer_id) FILTER (WHERE f.first < p.day)
                      FROM p JOIN f USING (customer_id) GROUP BY 1 ORDER BY 1""")
    got = list(CustomerDay.objects.filter(active__gt=0).order_by("day").values_list("day", "active", "new",
                                                                                  "returning"))
    assert got == [tuple(row) for row in expected]
    churn = sql("""WITH p AS (SELECT DISTINCT customer_id, (completed_at AT TIME ZONE {tz})::date AS day
                              FROM billing_payment WHERE status = 'completed' AND reversed_at IS NULL)
                   SELECT p.day + 30, count(*) FROM p WHERE p.day + 30 <= %s AND NOT EXISTS (
                       SELECT 1 FROM p q WHERE q.customer_id = p.customer_id AND q.day > p.day AND q.day <= p.day + 30)
                   GROUP BY 1 ORDER BY 1""", [world.today])
    assert list(CustomerDay.objects.filter(churned__gt=0).order_by("day").values_list("day", "churned")) == [
        tuple(row) for row in churn]
    # Alice's purchase 35 days before d, none for 30 days: gone on d - 5, back (returning) on d.
    assert churn == [(world.d - timedelta(days=5), 1)]
    assert CustomerDay.objects.get(day=world.d).returning == 1
    assert CustomerDay.objects.get(day=world.d + timedelta(days=1)).new == 1
    cohorts = sql("""WITH p AS (SELECT customer_id, amount, method,
                                       date_trunc('month', completed_at AT TIME ZONE {tz})::date AS month
                                FROM billing_payment WHERE status = 'completed' AND reversed_at IS NULL
                                AND customer_id IS NOT NULL),
                          f AS (SELECT customer_id, min(month) AS cohort FROM p GROUP BY 1)
                     SELECT cohort, month, count(DISTINCT customer_id),
                            coalesce(sum(amount) FILTER (WHERE method <> 'wallet'), 0)
                     FROM p JOIN f USING (customer_id) GROUP BY 1, 2 ORDER BY 1, 2""")
    assert list(CohortMonth.objects.order_by("cohort", "month").values_list(
        "cohort", "month", "customers", "amount")) == [tuple(row) for row in cohorts]


def test_usage_days_equal_sql_over_radacct_and_a_session_crossing_midnight_is_split_by_its_reports(world):
    world.fill()
    d = world.d
    # Alice's evening session at Kilimani, open, last reported at 23:30 on d: 100 MB in so far.
    crossing = world.session("alice", "10.0.0.2", at(d, 22), update=at(d, 23, 30), octets=(100 * MB, 10 * MB),
                             seconds=5400, mac="AA-02")
    run()
    # Its next report at 00:30: 200 MB more, half of them over the hour before midnight.
    RadAcct.objects.filter(pk=crossing.pk).update(acct_update_time=at(d + timedelta(days=1), 0, 30),
                                                  acct_input_octets=300 * MB, acct_session_time=9000)
    run()
    # It stops at 01:00 with 50 MB more.
    RadAcct.objects.filter(pk=crossing.pk).update(acct_stop_time=at(d + timedelta(days=1), 1),
                                                  acct_input_octets=350 * MB, acct_session_time=10800)
    run()
    row = {r.day: r for r in UsageDay.objects.filter(username="alice", router=world.kilimani)}
    assert row[d].bytes_in == 200 * MB and row[d + timedelta(days=1)].bytes_in == 150 * MB
    assert row[d].seconds == 5400 + 1800 and row[d + timedelta(days=1)].seconds == 1800 + 1800
    assert row[d].sessions == 1 and row[d + timedelta(days=1)].sessions == 0
    assert row[d].devices == row[d + timedelta(days=1)].devices == 1
    # Every other session lies within a day: those days equal radacct grouped by its start's day.
    expected = sql("""SELECT (acctstarttime AT TIME ZONE {tz})::date, username, host(nasipaddress), count(*),
                             sum(acctsessiontime)::bigint, sum(acctinputoctets)::bigint, sum(acctoutputoctets)::bigint,
                             count(DISTINCT callingstationid)
                      FROM radacct WHERE radacctid <> %s GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""", [crossing.pk])
    addresses = {world.westlands.pk: "10.0.0.1", world.kilimani.pk: "10.0.0.2", None: "10.9.9.9"}
    got = sorted((r.day, r.username, addresses[r.router_id], r.sessions, r.seconds, r.bytes_in, r.bytes_out,
                  r.devices) for r in UsageDay.objects.exclude(username="alice", router=world.kilimani))
    assert got == [tuple(row) for row in expected]
    # And the totals over all days are radacct's counters.
    totals = UsageDay.objects.aggregate(i=Sum("bytes_in"), o=Sum("bytes_out"), s=Sum("seconds"))
    assert (totals["i"], totals["o"], totals["s"]) == tuple(sql(
        "SELECT sum(acctinputoctets)::bigint, sum(acctoutputoctets)::bigint, sum(acctsessiontime)::bigint "
        "FROM radacct")[0])
    alice = UsageDay.objects.filter(username="alice", router=world.westlands).get()
    assert (alice.customer, alice.package) == (world.alice, world.day_pass)
    assert not UsageDay.objects.filter(username="carol").exists()
    # Seen stopped more than a day after its stop: nothing left to watch.
    assert not SessionMark.objects.filter(pk=crossing.pk).exists()


def test_the_rebuild_in_sql_gives_the_rows_the_python_one_gives(world):
    """PostgreSQL rebuilds in SQL (a year of radacct in minutes), the quick start's SQLite in Python."""
    world.fill()
    world.session("alice", "10.0.0.2", at(world.d, 22, 17, 3, 5), stop=at(world.d + timedelta(days=2), 1, 2, 3),
                  octets=(10**9 + 7, 3 * 10**9 + 1), seconds=97_000, mac="AA-09")
    rollup, routers = UsageRollup(zone()), router_by_address()
    first, last = world.d - timedelta(days=2), world.today
    rollup._rebuild_days_in_python(first, last, routers)
    in_python = snapshot()["usage"]
    rollup._rebuild_days_in_sql(first, last, routers)
    assert snapshot()["usage"] == in_python and len(in_python) == 6
    # The SQL rebuild writes only what differs: a wrong figure, a row too many, a row missing, a row
    # under another package are all put right; the days outside the range are left as they are.
    UsageDay.objects.filter(username="bob").update(bytes_out=1)
    UsageDay.objects.filter(username="alice").order_by("day").first().delete()
    UsageDay.objects.create(day=world.d, username="ghost", bytes_out=5)
    UsageDay.objects.filter(username="stranger").update(package=world.week)
    outside = UsageDay.objects.create(day=first - timedelta(days=1), username="ghost", bytes_out=5)
    rollup._rebuild_days_in_sql(first, last, routers)
    assert snapshot()["usage"] == sorted([*in_python, (outside.day, "ghost", None, None, None, 0, 0, 0, 5, 0)], key=str)
    outside.delete()
    first = world.d - timedelta(days=40)
    payments, logins, customers = PaymentRollup(zone()), LoginRollup(zone()), CustomerRollup(zone())
    for day in rollups.days(first, last):
        payments._day(day, routers)
        logins._day_in_python(day, routers)
    customers._rebuild_in_python(first, last)
    in_python = snapshot()
    assert in_python["payments"] and in_python["logins"] and in_python["customers"] and in_python["cohorts"]
    payments._range_in_sql(first, last, routers)
    logins._range_in_sql(first, last, routers)
    customers._rebuild_in_sql(first, last)
    assert snapshot() == in_python


def test_login_hours_equal_sql_over_radpostauth_with_reasons_and_unique_users(world):
    world.fill()
    run()
    expected = sql("""SELECT (authdate AT TIME ZONE {tz})::date, extract(hour FROM authdate AT TIME ZONE {tz})::int,
                             count(*) FILTER (WHERE reply = 'Access-Accept'),
                             count(*) FILTER (WHERE reply <> 'Access-Accept')
                      FROM radpostauth GROUP BY 1, 2 ORDER BY 1, 2""")
    got = sorted((r["day"], r["hour"], r["a"], r["r"]) for r in LoginHour.objects.values("day", "hour").annotate(
        a=Sum("accepted"), r=Sum("rejected")))
    assert got == [tuple(row) for row in expected]
    d, next_day = world.d, world.d + timedelta(days=1)
    reasons = {(r.day, r.reason): r for r in LoginHour.objects.exclude(reason="")}
    assert reasons[(d, "refused")].hour == 23
    assert reasons[(next_day, "unknown")].hour == 0
    assert reasons[(next_day, "no_package")].hour == 11
    accepts = {r.day: r for r in LoginHour.objects.filter(reason="")}
    assert accepts[d].router == world.westlands and accepts[next_day].router == world.kilimani
    network = LoginDay.objects.get(day=next_day, router=None)
    assert (network.users, network.users_accepted, network.users_rejected) == (2, 1, 2)
    assert LoginDay.objects.get(day=next_day, router=world.kilimani).users == 1


def test_running_again_and_the_commands_change_nothing(world):
    world.fill()
    run()
    first = snapshot()
    run()
    call_command("refresh_reports")
    assert snapshot() == first
    call_command("rebuild_reports", "--from", str(world.d - timedelta(days=40)), "--to", str(world.today))
    assert snapshot() == first
    call_command("refresh_reports", "--since", str(world.d))
    assert snapshot() == first


def test_a_refund_later_changes_the_day_the_money_came_in(world):
    world.fill()
    run()
    payment = Payment.objects.get(method="cash")
    Payment.objects.filter(pk=payment.pk).update(reversed_at=rollups.database_now())
    run()
    day = PaymentDay.objects.get(day=world.d + timedelta(days=1))
    assert (day.refunds, day.refunded) == (1, Decimal("300.00"))
    assert CustomerDay.objects.filter(day=world.d + timedelta(days=1)).first() is None  # Bob bought nothing after all


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_count_nothing_twice():
    world = World()
    world.fill()
    crossing = world.session("alice", "10.0.0.2", at(world.d, 22), update=at(world.d, 23, 30), octets=(MB, MB))
    run()
    RadAcct.objects.filter(pk=crossing.pk).update(acct_update_time=at(world.d + timedelta(days=1), 0, 30),
                                                  acct_input_octets=3 * MB)
    world.pay(world.carol, world.week, "300", rollups.database_now())
    barrier, errors = threading.Barrier(2), []

    def one():
        try:
            barrier.wait()
            run()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    together = snapshot()
    run()
    assert snapshot() == together
    assert UsageDay.objects.filter(username="alice").aggregate(i=Sum("bytes_in"))["i"] == sql(
        "SELECT sum(acctinputoctets)::bigint FROM radacct WHERE username = 'alice'")[0][0]
    assert PaymentDay.objects.aggregate(n=Sum("payments"))["n"] == Payment.objects.completed().count()


def test_rebuilding_days_radacct_no_longer_holds_keeps_their_payments_routers(world):
    # Alice paid at Westlands 40 days ago; radacct's retention has since dropped that session's month.
    old = world.d - timedelta(days=40)
    world.session("alice", "10.0.0.1", at(old, 10), stop=at(old, 11), octets=(MB, MB), seconds=3600)
    world.pay(world.alice, world.day_pass, "50", at(old, 10, 5))
    world.session("alice", "10.0.0.2", at(world.d, 10), stop=at(world.d, 11), octets=(MB, MB), seconds=3600)
    run()
    before = snapshot()["payments"]
    assert [row[2] for row in before] == [world.westlands.pk]
    RadAcct.objects.filter(acct_start_time__lt=at(world.d, 0)).delete()
    call_command("rebuild_reports", "--from", str(old - timedelta(days=5)), "--to", str(world.today))
    call_command("refresh_reports", "--since", str(old))
    assert snapshot()["payments"] == before


def test_rebuilding_a_past_range_counts_the_sessions_crossing_its_edges_once(world):
    d = world.d
    # Alice's session crosses into d: most of its bytes came before midnight, as the runs saw.
    alice = world.session("alice", "10.0.0.1", at(d - timedelta(days=1), 22), update=at(d - timedelta(days=1), 23),
                          octets=(0, 3 * MB), seconds=3600)
    # Bob's starts on d + 1 and is still open today.
    bob = world.session("bob", "10.0.0.2", at(d + timedelta(days=1), 20), update=at(d + timedelta(days=1), 23),
                        octets=(0, MB), seconds=3 * 3600)
    run()
    RadAcct.objects.filter(pk=alice.pk).update(acct_stop_time=at(d, 2), acct_update_time=at(d, 2),
                                               acct_output_octets=4 * MB, acct_session_time=4 * 3600)
    now = rollups.database_now()
    RadAcct.objects.filter(pk=bob.pk).update(acct_update_time=now - timedelta(minutes=1), acct_output_octets=10 * MB)
    run()
    assert UsageDay.objects.aggregate(total=Sum("bytes_out"))["total"] == 14 * MB
    report_rollups.rebuild(d, d + timedelta(days=1))
    assert UsageDay.objects.aggregate(total=Sum("bytes_out"))["total"] == 14 * MB
    rebuilt = snapshot()["usage"]
    run()  # and the next run adds nothing to what the rebuild counted
    assert snapshot()["usage"] == rebuilt


def summed_ahead(rollup_rows, sums: tuple[str, ...], always: tuple[str, ...] = ()) -> list:
    """What billing.PaymentTotal / UsageTotal must hold: the rollup rows summed per day and per month,
    router and package each kept or summed away, computed here in Python."""
    found: dict[tuple, list] = {}
    for row in rollup_rows.values("day", "router", "package", *always, *sums):
        for kept in range(4):
            for grain, day in (("d", row["day"]), ("m", row["day"].replace(day=1))):
                key = (grain, kept, day, row["router"] if kept & 1 else None, row["package"] if kept & 2 else None,
                       *(row[name] for name in always))
                cell = found.setdefault(key, [0] * (len(sums) + 1))
                cell[0] += 1
                for n, name in enumerate(sums, 1):
                    cell[n] += row[name]
    return sorted(((*key, *cell) for key, cell in found.items()), key=str)


def kept_totals(model, sums: tuple[str, ...], always: tuple[str, ...] = ()) -> list:
    return sorted(model.objects.values_list("grain", "kept", "day", "router", "package", *always, "rows", *sums),
                  key=str)


def test_the_totals_ahead_equal_the_rollup_rows_summed_after_runs_rebuilds_and_deletes(world):
    pays, uses = ("payments", "amount", "refunds", "refunded"), ("sessions", "seconds", "bytes_in", "bytes_out")
    world.fill()
    run()
    call_command("rebuild_reports", "--from", str(world.d - timedelta(days=40)), "--to", str(world.today))
    assert PaymentTotal.objects.exists() and UsageTotal.objects.exists()
    assert kept_totals(PaymentTotal, pays, ("method",)) == summed_ahead(PaymentDay.objects.all(), pays, ("method",))
    assert kept_totals(UsageTotal, uses) == summed_ahead(UsageDay.objects.all(), uses)
    # A day's rows go (and one changes): its totals go with them, none is left summing nothing.
    PaymentDay.objects.filter(day=world.d).delete()
    PaymentDay.objects.filter(day=world.d + timedelta(days=1)).update(router=None)
    UsageDay.objects.filter(username="bob").delete()
    assert kept_totals(PaymentTotal, pays, ("method",)) == summed_ahead(PaymentDay.objects.all(), pays, ("method",))
    assert kept_totals(UsageTotal, uses) == summed_ahead(UsageDay.objects.all(), uses)
    assert not PaymentTotal.objects.filter(rows=0).exists()


def test_a_session_whose_start_never_arrived_is_counted_when_its_stop_comes(world):
    run()
    # Only the Stop reached us, after the run: a closed row that started an hour before (past the overlap).
    now = rollups.database_now()
    world.session("alice", "10.0.0.1", now - timedelta(hours=1), stop=now, octets=(MB, 7 * MB), seconds=3600)
    run()
    assert UsageDay.objects.aggregate(down=Sum("bytes_out"), sessions=Sum("sessions")) == {
        "down": 7 * MB, "sessions": 1}
