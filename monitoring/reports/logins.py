"""Daily logins from hotspot.LoginHour: sign-ins accepted and rejected per day, week, month, hour of
the day or router, and the reasons for rejection."""
from django.db.models import Sum

from hotspot.models import LoginDay, LoginHour

from .filters import ReportFilters
from .frame import Chart, Column, Report, Table
from .grouping import TIME, summed

KEYS = {"hour": "hour", "router": "router__name", "reason": "reason"}
SUMS = {"yes": Sum("accepted"), "no": Sum("rejected")}
REASONS = dict(LoginHour.Reason.choices)


def _rows(form: ReportFilters):
    chosen, period = form.chosen(), form.period
    rows = LoginHour.objects.filter(day__gte=period.first, day__lte=period.last)
    if "router" in chosen:
        rows = rows.filter(router=chosen["router"])
    return rows


def _users_per_day(form: ReportFilters) -> dict:
    """Each day's distinct usernames: the whole network's row, or a router's (accepted users only)."""
    period, router = form.period, form.chosen().get("router")
    rows = LoginDay.objects.filter(day__gte=period.first, day__lte=period.last, router=router)
    field = "users_accepted" if router else "users"
    return dict(rows.values_list("day", field))


def build(form: ReportFilters) -> Table:
    group_by = form.grouping
    rows = _rows(form)
    if group_by == "reason":
        found = summed(rows.filter(rejected__gt=0), group_by, form.period, {"no": Sum("rejected")}, key="reason")
        columns = [Column("reason", "Reason"), Column("rejected", "Rejected")]
        lines = [(REASONS.get(reason, reason), rejected) for reason, rejected in found]
        return Table("Rejections by reason", columns, lines, Chart(("rejected",)))
    found = summed(rows, group_by, form.period, SUMS, key=KEYS.get(group_by))
    if group_by == "hour":  # all 24 hours, in order, quiet ones as zeros
        by_hour = {hour: (accepted, rejected) for hour, accepted, rejected in found}
        found = [(hour, *by_hour.get(hour, (0, 0))) for hour in range(24)]
    lines = [(group if group is not None else "(none)", accepted, rejected, accepted + rejected,
              round(rejected * 100 / (accepted + rejected), 1) if accepted + rejected else 0)
             for group, accepted, rejected in found]
    kind = "date" if group_by in TIME else "hour" if group_by == "hour" else "text"
    columns = [Column("group", dict(REPORT.group_by)[group_by], kind), Column("accepted", "Accepted"),
               Column("rejected", "Rejected"), Column("attempts", "Attempts"),
               Column("rejected_percent", "Rejected (%)", "tenths")]
    if group_by == "day":  # distinct users add up over hours and routers only per day (LoginDay)
        users = _users_per_day(form)
        lines = [(*line, users.get(line[0], 0)) for line in lines]
        columns.append(Column("users", "Unique users"))
    accepted, rejected = sum(line[1] for line in lines), sum(line[2] for line in lines)
    totals = {"Accepted": accepted, "Rejected": rejected}
    if group_by == "day":
        totals["Busiest day's users"] = max((line[-1] for line in lines), default=0)
    return Table("Logins", columns, lines, Chart(("accepted", "rejected")), totals=totals)


REPORT = Report("logins", "Daily logins", [("day", "Day"), ("week", "Week"), ("month", "Month"),
                                           ("hour", "Hour of day"), ("router", "Router"),
                                           ("reason", "Rejection reason")],
                ("router",), build)
