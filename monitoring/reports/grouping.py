"""Summing a rollup's rows per day, week or month (every bucket of the range listed, empty ones as
zeros) or per router, package, method, customer... (largest first): one query either way, and one
more for the names of the routers or packages found (summed by id first, so the join is 500 names,
not a row per day).

``rows_to_sum`` picks the rows a report sums: billing.PaymentTotal and UsageTotal (the rollups summed
ahead per day and per month, router and package kept only when the report groups or filters by
them) on PostgreSQL, where the database keeps them; the rollup's own rows elsewhere."""
from datetime import date, timedelta

from django.db import connection
from django.db.models import DateField, F, Q
from django.db.models.functions import TruncMonth, TruncWeek

from billing.models import ReportTotal

from .period import Period, buckets

TIME = ("day", "week", "month")
TRUNC = {"week": TruncWeek, "month": TruncMonth}
DIMENSIONS = {"router": ReportTotal.ROUTER, "package": ReportTotal.PACKAGE}


def rows_to_sum(total_model, rollup_rows, period: Period | list[Period], group_by: str, chosen: dict):
    """The rows whose sums are those of ``rollup_rows`` (a rollup's queryset) over ``period`` (or each
    of several, apart) filtered by ``chosen`` (router, package, method): ``total_model``'s rows keeping
    just the router and package the report names, a month's total for each month a period covers
    whole unless the report groups by day or week. ``rollup_rows`` itself (filtered) where the totals
    are not kept (SQLite). A row's ``day`` is in the period it counts for either way."""
    periods = period if isinstance(period, list) else [period]
    if connection.vendor != "postgresql":
        within = Q(pk__in=[])
        for one in periods:
            within |= Q(day__gte=one.first, day__lte=one.last)
        return _filtered(rollup_rows, chosen).filter(within)
    kept = sum(bit for name, bit in DIMENSIONS.items() if name in chosen or name == group_by)
    within = Q(pk__in=[])
    for one in periods:
        within |= span(one, months=group_by not in ("day", "week"))
    return _filtered(total_model.objects.filter(within, kept=kept), chosen)


def span(period: Period, months: bool = True) -> Q:
    """Totals covering ``period`` exactly: month rows for its whole months (when ``months``), day rows
    for the rest."""
    first_whole = period.first if period.first.day == 1 else _next_month(period.first)
    after_whole = _next_month(period.last) if (period.last + timedelta(days=1)).day == 1 else period.last.replace(
        day=1)
    if not months or first_whole >= after_whole:
        return Q(grain=ReportTotal.DAY, day__gte=period.first, day__lte=period.last)
    return (Q(grain=ReportTotal.MONTH, day__gte=first_whole, day__lt=after_whole)
            | Q(grain=ReportTotal.DAY, day__gte=period.first, day__lt=first_whole)
            | Q(grain=ReportTotal.DAY, day__gte=after_whole, day__lte=period.last))


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def _filtered(rows, chosen: dict):
    for name in ("router", "package", "method"):
        if name in chosen:
            rows = rows.filter(**{name: chosen[name]})
    return rows


def summed(rows, group_by: str, period: Period, sums: dict, key: str | None = None, limit: int | None = None):
    """[(group, sum, sum, ...)] for ``sums`` (name -> aggregate). A time grouping reads the rollup's
    ``day`` truncated; any other reads ``key`` (a field, or a relation's name, e.g. "package__name":
    summed by the package's id, then named)."""
    names = list(sums)
    if group_by in TIME:
        bucket = TRUNC[group_by]("day", output_field=DateField()) if group_by in TRUNC else F("day")
        rows = rows.annotate(bucket=bucket)
        found = {row["bucket"]: row for row in rows.values("bucket").annotate(**sums).order_by()}
        empty = dict.fromkeys(names, 0)
        return [(bucket, *(_zero(found.get(bucket, empty)[name]) for name in names))
                for bucket in buckets(period, group_by)]
    if key.endswith("__name"):
        return _named(rows, key.removesuffix("__name"), sums, limit)
    grouped = rows.values(key).annotate(**sums).order_by(f"-{names[0]}", key)
    if limit:
        grouped = grouped[:limit]
    return [(row[key], *(_zero(row[name]) for name in names)) for row in grouped]


def _named(rows, relation: str, sums: dict, limit: int | None):
    names = list(sums)
    found = [(row[relation], *(_zero(row[name]) for name in names))
             for row in rows.values(relation).annotate(**sums).order_by()]
    related = rows.model._meta.get_field(relation).related_model
    label = dict(related.objects.order_by().values_list("pk", "name"))  # every one: a query however many
    named = [(label.get(row[0]), *row[1:]) for row in found]
    named.sort(key=lambda row: (-row[1], row[0] is None, row[0] or ""))  # as ORDER BY -sum, name (NULLs last)
    return named[:limit] if limit else named


def _zero(value):
    return 0 if value is None else value
