"""A customer's own data use per business day, read from the UsageDay rollup (one query through its
customer-and-day index), for the chart and table on their page."""
import calendar
from datetime import date, timedelta

from django.db.models import Sum

from siteconfig import time_zone

from .models import Customer, UsageDay

DAYS = 30
MB = 1_000_000


def daily_usage(customer: Customer, days: int = DAYS, today: date | None = None) -> dict:
    """Every day of the last ``days`` (quiet ones as zeros): rows of (day, downloaded MB, uploaded MB,
    sessions) and the same figures as the JSON static/js/report-chart.js draws."""
    today = today or time_zone.today()
    first = today - timedelta(days=days - 1)
    found = {row["day"]: row for row in UsageDay.objects.filter(customer=customer, day__gte=first, day__lte=today)
             .values("day").annotate(down=Sum("bytes_out"), up=Sum("bytes_in"), count=Sum("sessions")).order_by()}
    rows = []
    for n in range(days):
        day = first + timedelta(days=n)
        row = found.get(day, {"down": 0, "up": 0, "count": 0})
        rows.append((day, round(row["down"] / MB, 1), round(row["up"] / MB, 1), row["count"]))
    chart = {"kind": "time", "zone": "Etc/UTC", "unit": "MB",
             "x": [calendar.timegm(day.timetuple()) for day, *_ in rows], "labels": [str(day) for day, *_ in rows],
             "series": [{"label": "Downloaded (MB)", "values": [down for _, down, _, _ in rows]},
                        {"label": "Uploaded (MB)", "values": [up for _, _, up, _ in rows]}]}
    return {"rows": rows, "chart": chart, "used": any(count or down or up for _, down, up, count in rows)}
