"""Summing a rollup's rows per day, week or month (every bucket of the range listed, empty ones as
zeros) or per router, package, method, customer... (largest first): one query either way."""
from django.db.models import DateField, F
from django.db.models.functions import TruncMonth, TruncWeek

from .period import Period, buckets

TIME = ("day", "week", "month")
TRUNC = {"week": TruncWeek, "month": TruncMonth}


def summed(rows, group_by: str, period: Period, sums: dict, key: str | None = None, limit: int | None = None):
    """[(group, sum, sum, ...)] for ``sums`` (name -> aggregate). A time grouping reads the rollup's
    ``day`` truncated; any other reads ``key`` (a field path, e.g. "package__name")."""
    names = list(sums)
    if group_by in TIME:
        bucket = TRUNC[group_by]("day", output_field=DateField()) if group_by in TRUNC else F("day")
        rows = rows.annotate(bucket=bucket)
        found = {row["bucket"]: row for row in rows.values("bucket").annotate(**sums).order_by()}
        empty = dict.fromkeys(names, 0)
        return [(bucket, *(_zero(found.get(bucket, empty)[name]) for name in names))
                for bucket in buckets(period, group_by)]
    grouped = rows.values(key).annotate(**sums).order_by(f"-{names[0]}", key)
    if limit:
        grouped = grouped[:limit]
    return [(row[key], *(_zero(row[name]) for name in names)) for row in grouped]



def _zero(value):
    return 0 if value is None else value
