"""The customers rollup: billing.CustomerDay (new, returning, churned) and CohortMonth from payments,
kept current by lib.rollups. See the models for the definitions.

A purchase added or reversed on day D of customer C can change: day D; C's next purchase day (new or
returning); D + 30 and C's previous purchase day + 30 (churn); the months of C's purchases from D's
month on (C's cohort). A run recomputes exactly those days and months, plus today and yesterday
(whose churn counts change as the days pass, with no payment changing), so it is idempotent."""
from collections import defaultdict
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal

from django.db import connection
from django.db.models import Min, Q

from lib import rollups

from .models import CohortMonth, CustomerDay, Payment

CHURN = timedelta(days=CustomerDay.CHURN_DAYS)


def purchases():
    """What counts as a purchase: a completed payment of a known customer, not reversed."""
    return Payment.objects.completed().filter(customer__isnull=False, reversed_at__isnull=True).order_by()


class CustomerRollup:
    name = "customers"
    overlap = timedelta(minutes=15)

    def __init__(self, zone: tzinfo):
        self.zone = zone

    def earliest(self) -> date | None:
        first = purchases().order_by("completed_at").values_list("completed_at", flat=True).first()
        return rollups.day_of(first, self.zone) if first else None

    def refresh(self, window: rollups.Window) -> int:
        today = rollups.day_of(window.until, self.zone)
        since = window.since
        changed = list(Payment.objects.completed().filter(customer__isnull=False)
                       .filter(Q(completed_at__gte=since) | Q(reversed_at__gte=since))
                       .order_by().values_list("customer", "completed_at"))
        # The days the window reaches (today; yesterday too on the first run after midnight, whose
        # last minutes it had not seen) and those the changed purchases reach (below). Always
        # yesterday as well cost every 5-minute run its four queries over a day's buyers.
        days = set(rollups.days(min(rollups.day_of(since, self.zone), today), today))
        months = set()
        history = self._purchase_days({customer for customer, _ in changed})
        for customer, at in changed:
            day = rollups.day_of(at, self.zone)
            bought = history.get(customer, [])
            later = [d for d in bought if d > day]
            earlier = [d for d in bought if d < day]
            days.update([day, day + CHURN, *later[:1], *(d + CHURN for d in earlier[-1:])])
            months.update(rollups.month_start(d) for d in [day, *later])
        days = sorted(d for d in days if d <= today)
        for day in days:
            self._day(day)
        for month in sorted(months):
            self._month(month)
        return len(days) + len(months)

    def rebuild(self, first: date, last: date, until: datetime) -> int:
        if connection.vendor == "postgresql":
            return self._rebuild_in_sql(first, last)
        return self._rebuild_in_python(first, last)

    def _rebuild_in_python(self, first: date, last: date) -> int:
        CustomerDay.objects.filter(day__gte=first, day__lte=last).delete()
        for day in rollups.days(first, last):
            self._day(day)
        month = rollups.month_start(first)
        months = 0
        while month <= last:
            self._month(month)
            months += 1
            month = (month + timedelta(days=32)).replace(day=1)
        return (last - first).days + 1 + months

    def _rebuild_in_sql(self, first: date, last: date) -> int:
        """``rebuild`` in two statements over every purchase (PostgreSQL), as _day and _month count."""
        month_first = rollups.month_start(first)
        month_end = (rollups.month_start(last) + timedelta(days=32)).replace(day=1)
        params = {"zone": str(self.zone), "first": first, "last": last, "churn": CustomerDay.CHURN_DAYS,
                  "month_first": month_first, "month_end": month_end, "wallet": Payment.Method.WALLET}
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM billing_customerday WHERE day BETWEEN %s AND %s", [first, last])
            cursor.execute(DAYS_SQL, params)
            written = cursor.rowcount
            cursor.execute("DELETE FROM billing_cohortmonth WHERE month >= %s AND month < %s",
                           [month_first, month_end])
            cursor.execute(COHORTS_SQL, params)
            return written + cursor.rowcount

    def _purchase_days(self, customers: set[int]) -> dict[int, list[date]]:
        found: dict[int, set[date]] = defaultdict(set)
        ids = sorted(customers)
        for first in range(0, len(ids), 2000):
            for customer, at in purchases().filter(customer__in=ids[first:first + 2000]).values_list(
                    "customer", "completed_at"):
                found[customer].add(rollups.day_of(at, self.zone))
        return {customer: sorted(days) for customer, days in found.items()}

    def _bounds(self, first: date, last: date) -> tuple[datetime, datetime]:
        return rollups.day_start(first, self.zone), rollups.day_start(last + timedelta(days=1), self.zone)

    def _buyers(self, first: date, last: date) -> set[int]:
        start, end = self._bounds(first, last)
        return set(purchases().filter(completed_at__gte=start, completed_at__lt=end)
                   .values_list("customer", flat=True).distinct())

    def _day(self, day: date) -> None:
        start, _ = self._bounds(day, day)
        active = self._buyers(day, day)
        returning = set()
        ids = sorted(active)
        for first in range(0, len(ids), 2000):
            returning.update(purchases().filter(customer__in=ids[first:first + 2000], completed_at__lt=start)
                             .values_list("customer", flat=True).distinct())
        lost = self._buyers(day - CHURN, day - CHURN)
        churned = lost - self._buyers(day - CHURN + timedelta(days=1), day) if lost else set()
        CustomerDay.objects.filter(day=day).delete()
        if active or churned:
            CustomerDay.objects.create(day=day, active=len(active), new=len(active - returning),
                                       returning=len(returning), churned=len(churned))

    def _month(self, month: date) -> None:
        last = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        start, end = self._bounds(month, last)
        spent: dict[int, Decimal] = defaultdict(Decimal)
        for customer, method, amount in (purchases().filter(completed_at__gte=start, completed_at__lt=end)
                                         .values_list("customer", "method", "amount")):
            spent[customer] += amount if method != Payment.Method.WALLET else 0
        cohorts: dict[date, list] = defaultdict(lambda: [0, Decimal("0.00")])
        ids = sorted(spent)
        for first in range(0, len(ids), 2000):
            for customer, first_at in (purchases().filter(customer__in=ids[first:first + 2000])
                                       .values("customer").annotate(first=Min("completed_at"))
                                       .values_list("customer", "first")):
                cell = cohorts[rollups.month_start(rollups.day_of(first_at, self.zone))]
                cell[0] += 1
                cell[1] += spent[customer]
        CohortMonth.objects.filter(month=month).delete()
        CohortMonth.objects.bulk_create([CohortMonth(cohort=cohort, month=month, customers=count, amount=amount)
                                         for cohort, (count, amount) in cohorts.items()])


PURCHASES_SQL = """
SELECT customer_id, completed_at AT TIME ZONE %(zone)s AS local, amount, method FROM billing_payment
WHERE status = 'completed' AND reversed_at IS NULL AND customer_id IS NOT NULL
"""
DAYS_SQL = f"""
WITH purchases AS ({PURCHASES_SQL}),
bought AS (SELECT DISTINCT customer_id, local::date AS day FROM purchases),
spans AS (SELECT customer_id, day, lead(day) OVER (PARTITION BY customer_id ORDER BY day) AS next_day,
                 min(day) OVER (PARTITION BY customer_id) AS first_day FROM bought),
active AS (SELECT day, count(*) AS active, count(*) FILTER (WHERE day = first_day) AS new FROM spans
           WHERE day BETWEEN %(first)s AND %(last)s GROUP BY day),
gone AS (SELECT day + %(churn)s AS day, count(*) AS churned FROM spans
         WHERE (next_day IS NULL OR next_day > day + %(churn)s) AND day + %(churn)s BETWEEN %(first)s AND %(last)s
         GROUP BY 1)
INSERT INTO billing_customerday (day, active, new, "returning", churned)
SELECT day, coalesce(active, 0), coalesce(new, 0), coalesce(active, 0) - coalesce(new, 0), coalesce(churned, 0)
FROM active FULL JOIN gone USING (day)
"""
COHORTS_SQL = f"""
WITH purchases AS ({PURCHASES_SQL}),
firsts AS (SELECT customer_id, date_trunc('month', min(local))::date AS cohort FROM purchases GROUP BY customer_id)
INSERT INTO billing_cohortmonth (cohort, month, customers, amount)
SELECT cohort, date_trunc('month', local)::date, count(DISTINCT customer_id),
       coalesce(sum(amount) FILTER (WHERE method <> %(wallet)s), 0)
FROM purchases JOIN firsts USING (customer_id)
WHERE local >= %(month_first)s AND local < %(month_end)s
GROUP BY 1, 2
"""
