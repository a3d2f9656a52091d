"""Customers from billing.CustomerDay and CohortMonth: new, active, returning and churned per day or
month, and the monthly cohort table (of the customers who first bought in a month, the share who
bought again in each month after).

Active and returning are distinct customers: per day from CustomerDay, per month from CohortMonth
(each customer sits in one cohort, so a month's cohort rows add up to its distinct buyers)."""
from datetime import date

from django.db.models import Sum

from billing.models import CohortMonth, CustomerDay

from .filters import ReportFilters
from .frame import Chart, Column, Report, Table
from .period import buckets

COHORT_MONTHS = 12  # months after the first shown in the cohort table


def _months_after(first: date, later: date) -> int:
    return (later.year - first.year) * 12 + later.month - first.month


def _by_day(form: ReportFilters) -> list[tuple]:
    period = form.period
    found = {row.day: row for row in CustomerDay.objects.filter(day__gte=period.first, day__lte=period.last)}
    lines = []
    for day in period.each_day():
        row = found.get(day)
        lines.append((day, row.new, row.returning, row.active, row.churned) if row else (day, 0, 0, 0, 0))
    return lines


def _by_month(form: ReportFilters) -> list[tuple]:
    period = form.period
    months = buckets(period, "month")
    days = (CustomerDay.objects.filter(day__gte=period.first, day__lte=period.last)
            .values_list("day", "new", "churned"))
    active = dict(CohortMonth.objects.filter(month__in=months).values("month").annotate(n=Sum("customers"))
                  .values_list("month", "n"))
    new, churned = dict.fromkeys(months, 0), dict.fromkeys(months, 0)
    for day, joined, gone in days:
        new[day.replace(day=1)] += joined
        churned[day.replace(day=1)] += gone
    return [(month, new[month], max(active.get(month, 0) - new[month], 0), active.get(month, 0), churned[month])
            for month in months]


def _cohorts(form: ReportFilters) -> Table:
    months = buckets(form.period, "month")
    rows = CohortMonth.objects.filter(cohort__in=months).values_list("cohort", "month", "customers")
    grid = {}
    for cohort, month, customers in rows:
        grid.setdefault(cohort, {})[_months_after(cohort, month)] = customers
    lines = []
    for cohort in months:
        bought = grid.get(cohort, {})
        size = bought.get(0, 0)
        lines.append((cohort, size, *(round(bought.get(n, 0) * 100 / size, 1) if size else 0
                                      for n in range(1, COHORT_MONTHS + 1))))
    columns = [Column("cohort", "First bought in", "text"), Column("customers", "Customers"),
               *(Column(f"month_{n}", f"+{n} mo (%)", "tenths") for n in range(1, COHORT_MONTHS + 1))]
    lines = [(f"{cohort:%Y-%m}", *rest) for cohort, *rest in lines]
    return Table("Retention by monthly cohort", columns, lines,
                 note="Of the customers who first bought in a month, the share who bought in each month after.")


def build(form: ReportFilters) -> Table:
    group_by = form.grouping
    if group_by == "cohort":
        return _cohorts(form)
    lines = _by_month(form) if group_by == "month" else _by_day(form)
    columns = [Column("group", dict(REPORT.group_by)[group_by], "date"), Column("new", "New"),
               Column("returning", "Returning"), Column("active", "Active"), Column("churned", "Churned")]
    totals = {"New": sum(line[1] for line in lines), "Churned": sum(line[4] for line in lines)}
    return Table("Customers", columns, lines, Chart(("new", "returning", "churned")), totals=totals,
                 note=f"Active: bought that {group_by}. Churned: no purchase for {CustomerDay.CHURN_DAYS} days.")


REPORT = Report("customers", "Customers", [("day", "Day"), ("month", "Month"), ("cohort", "Monthly cohort")], (), build)
