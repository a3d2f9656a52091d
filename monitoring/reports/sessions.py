"""Session history of one user: their days from hotspot.UsageDay (the chart and table, as usage
shows them) and their own radacct rows of the range, newest first (one user's rows, through the
username index)."""
from datetime import datetime, time, timedelta

from radius.models import RadAcct
from siteconfig import time_zone

from .filters import ReportFilters
from .frame import Report, Table
from .usage import table, usage_rows

LISTED = 200  # sessions listed under the table; the days above count every one


def build(form: ReportFilters) -> Table:
    username = form.chosen().get("user")
    if not username:
        rows = usage_rows(form).none()
        return table(form, rows, "Sessions per day")
    return table(form, usage_rows(form, username=username), f"{username}: sessions per day")


def sessions_of(form: ReportFilters) -> list[RadAcct]:
    username = form.chosen().get("user")
    if not username:
        return []
    zone, period = time_zone.current(), form.period
    start = datetime.combine(period.first, time.min, tzinfo=zone)
    end = datetime.combine(period.last + timedelta(days=1), time.min, tzinfo=zone)
    return list(RadAcct.objects.filter(username=username, acct_start_time__gte=start, acct_start_time__lt=end)
                .order_by("-acct_start_time")[:LISTED])


REPORT = Report("sessions", "Session history of a user", [("day", "Day"), ("week", "Week"), ("month", "Month"),
                                                          ("router", "Router"), ("package", "Package")],
                ("router", "package", "user"), build)
