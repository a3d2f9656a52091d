"""A report's date range: the presets people ask for, in the business's days, and the one before it."""
from dataclasses import dataclass
from datetime import date, timedelta

from siteconfig import time_zone

PRESETS = [
    ("today", "Today"),
    ("yesterday", "Yesterday"),
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
    ("month", "This month"),
    ("last_month", "Last month"),
    ("custom", "Custom"),
]
LONGEST = 3 * 366  # days: a custom range past three years is refused, not scanned


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # included

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> "Period":
        """The same number of days just before, for "compared with the previous period"."""
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def each_day(self):
        return (self.first + timedelta(days=offset) for offset in range(self.days))


def preset(name: str, today: date | None = None) -> Period:
    today = today or time_zone.today()
    month = today.replace(day=1)
    if name == "today":
        return Period(today, today)
    if name == "yesterday":
        return Period(today - timedelta(days=1), today - timedelta(days=1))
    if name == "30d":
        return Period(today - timedelta(days=29), today)
    if name == "month":
        return Period(month, today)
    if name == "last_month":
        end = month - timedelta(days=1)
        return Period(end.replace(day=1), end)
    return Period(today - timedelta(days=6), today)  # 7d, the default


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def buckets(period: Period, group_by: str) -> list[date]:
    """Every day, Monday or first of a month the range touches, so empty ones show as zeros."""
    start = {"week": week_start, "month": lambda d: d.replace(day=1)}.get(group_by, lambda d: d)
    seen = []
    for day in period.each_day():
        bucket = start(day)
        if not seen or seen[-1] != bucket:
            seen.append(bucket)
    return seen
