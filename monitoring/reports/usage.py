"""Bandwidth usage from hotspot.UsageDay (summed ahead: billing.UsageTotal): sessions, time online and
data per day, week, month, package, router, or the top customers (UsageDay's own rows, by username).

RADIUS counts from the NAS's side: bytes_in (Acct-Input-Octets) is what the customer sent, so it is
shown as uploaded, and bytes_out as downloaded."""
from datetime import date, timedelta

from django.db import connection
from django.db.models import Sum

from accounts.access import any_perm
from billing.models import UsageTotal
from hotspot.models import UsageDay
from siteconfig import time_zone

from .filters import ReportFilters
from .frame import Chart, Column, Report, Table, hours, megabytes
from .grouping import TIME, rows_to_sum, summed

KEYS = {"package": "package__name", "router": "router__name", "customer": "username"}
SUMS = {"down": Sum("bytes_out"), "up": Sum("bytes_in"), "session_count": Sum("sessions"), "online": Sum("seconds")}
TOP = 50  # customers listed when grouped by customer
# Who reads usage: Finance (billing.*) and Technician (routers.*), what the network carried is both theirs.
VIEWERS = any_perm("billing.view_revenue", "routers.view_router")


def usage_rows(form: ReportFilters, username: str | None = None):
    chosen, period = form.chosen(), form.period
    rows = UsageDay.objects.filter(day__gte=period.first, day__lte=period.last)
    if username is not None:
        rows = rows.filter(username=username)
    if "router" in chosen:
        rows = rows.filter(router=chosen["router"])
    if "package" in chosen:
        rows = rows.filter(package=chosen["package"])
    return rows


def table(form: ReportFilters, rows, title: str, found: list[tuple] | None = None) -> Table:
    group_by = form.grouping
    if found is None:
        found = summed(rows, group_by, form.period, SUMS, key=KEYS.get(group_by),
                       limit=TOP if group_by == "customer" else None)
    lines = [(group if group is not None else "(none)", sessions, hours(seconds),
              megabytes(down), megabytes(up), megabytes(down + up))
             for group, down, up, sessions, seconds in found]
    columns = [Column("group", dict(REPORT.group_by).get(group_by, "Day"), "date" if group_by in TIME else "text"),
               Column("sessions", "Sessions", optional=True), Column("hours", "Hours online", "tenths", optional=True),
               Column("downloaded_mb", "Downloaded (MB)", "mb"),
               Column("uploaded_mb", "Uploaded (MB)", "mb", optional=True),
               Column("total_mb", "Total (MB)", "mb")]
    totals = {"Sessions": sum(line[1] for line in lines), "Downloaded (MB)": sum(line[3] for line in lines),
              "Uploaded (MB)": sum(line[4] for line in lines)} if group_by != "customer" else {}
    note = f"The {TOP} customers who used the most data." if group_by == "customer" else ""
    return Table(title, columns, lines, Chart(("downloaded_mb", "uploaded_mb"), unit="MB"), totals=totals, note=note)


def top_customers(period, package=None) -> list[tuple] | None:
    """The TOP customers over ``period`` with no router or package chosen, as ``summed`` answers them
    ((username, down, up, sessions, seconds), most downloaded first, then by username), from
    billing.CustomerUsageMonth's row per customer and month and UsageDay's rows for the rest: a month the
    period covers whole is its month rows; a month it covers in part is its day rows in the period, or,
    when fewer, the month's rows less its day rows outside the period (the last 30 days, the 5th of a
    month to the 4th of the next: a month's rows and 8 days' rows instead of 30 days'). Sums are linear,
    so each customer's figures are exact; one counts when a UsageDay row of theirs lies in the period.

    Over BOUNDED_FROM months or more, the customers who can be among the TOP are found first from
    billing.CustomerUsageRunning's one row per customer (``_contenders``), and only theirs are summed;
    over a shorter range inside billing.CustomerUsageRecent's days, the TOP are ranked from its one
    row per customer (``_recent_top``) and only theirs summed. With a ``package``, that package's rows
    alone are summed (its month rows: a row per customer of theirs and month), over BOUNDED_FROM
    months or more only its contenders' (``_package_contenders``).
    None when no month's rows would be read or they are not kept (SQLite)."""
    if connection.vendor != "postgresql":
        return None
    months, added, taken, whole, parts = _pieces(period)
    if not months:
        return None
    if package is not None:
        contenders = None
        if len(whole) + len(parts) >= BOUNDED_FROM:
            contenders = _package_contenders(months, added, taken, whole, parts, package)
        return _summed(months, added, taken, contenders, package=package)
    if len(whole) + len(parts) >= BOUNDED_FROM and (contenders := _contenders(whole, parts)) is not None:
        return _summed(months, added, taken, contenders)
    if len(whole) + len(parts) < BOUNDED_FROM and (top := _recent_top(period)) is not None:
        return _summed(months, added, taken, top)
    return _summed(months, added, taken)


# From a range touching this many months on, the top customers are sought among contenders first: at 3
# months the sums read 300,000 month rows (fast enough, ~150 ms), and the bounds of a range with
# fewer whole months are too loose to leave few contenders.
BOUNDED_FROM = 4
# More contenders than this and summing them costs more than summing everyone's months.
MOST_CONTENDERS = 5000


def _pieces(period):
    """The period as CustomerUsageMonth months, UsageDay spans added and spans taken off those months
    (see top_customers), and as the months (numbered year x 12 + month - 1) whose use in the period
    is exactly the month's (``whole``: covered, or the days left out have no use yet: after today)
    and those only partly in it (``parts``)."""
    today = time_zone.today()
    months, added, taken, whole, parts = [], [], [], [], []
    start = period.first.replace(day=1)
    while start <= period.last:
        end = _next_month(start) - timedelta(days=1)
        low, high = max(period.first, start), min(period.last, end)
        inside = max(0, (min(high, today) - low).days + 1)  # days with rows: none after today
        outside = max(0, (min(end, today) - start).days + 1) - inside
        (whole if outside == 0 else parts).append(start.year * 12 + start.month - 1)
        if (low, high) == (start, end) or outside < inside:
            months.append(start)
            taken += [(start, low - timedelta(days=1))] if low > start else []
            taken += [(high + timedelta(days=1), end)] if high < end else []
        else:
            added.append((low, high))
        start = _next_month(start)
    return months, added, taken, whole, parts


def _contenders(whole: list[int], parts: list[int]) -> list[str] | None:
    """The usernames that can be among the TOP downloaders, from each customer's running row: their
    downloads in the whole months (``low``, exact) and those plus all of the partly covered months'
    (``high``, at least what they downloaded in the period). If TOP customers have a ``low`` of at
    least ``bar``, whoever's ``high`` is below it cannot be among the TOP.

    One scan: the MOST_CONTENDERS + 1 highest ``high``s, ``bar`` the TOPth largest ``low`` among them
    (TOP customers downloaded at least that much). None when the contenders may not all be there
    (``_above``) or ``bar`` is nothing (any customer may be listed)."""
    found = _bounds(whole, parts)
    lows = sorted((row[1] for row in found), reverse=True)
    return _above(found, lows[TOP - 1] if len(lows) >= TOP else 0)


def _package_contenders(months, added, taken, whole: list[int], parts: list[int], package) -> list[str] | None:
    """The usernames that can be among the TOP downloaders of ``package``: a customer's ``high`` over
    all packages (``_contenders``) bounds what they downloaded on one. ``bar``: the TOPth largest
    exact download on the package of the PACKAGE_SAMPLE highest ``high``s (TOP customers downloaded
    at least that much on it); whoever's ``high`` is below it cannot be among the TOP. Most of a big
    package's top downloaders are among everyone's: a year of the busiest package sums a few hundred
    customers' month rows instead of 35,000's (330,000 rows, 340 ms). None as ``_above``."""
    found = _bounds(whole, parts)
    sample = _summed(months, added, taken, [row[0] for row in found[:PACKAGE_SAMPLE]], package=package)
    return _above(found, sample[-1][1] if len(sample) >= TOP else 0)


# The customers with the highest bounds whose exact download on a package sets its bar.
PACKAGE_SAMPLE = 500


def _above(found: list[tuple], bar: int) -> list[str] | None:
    """The usernames of ``found`` (the highest ``high``s, in order) whose ``high`` is at least ``bar``.
    Everyone left out of ``found`` has a ``high`` at most its last one's; when that is below ``bar``
    the contenders are all here, else (too many) None. None too when ``bar`` is nothing."""
    if not bar or (len(found) > MOST_CONTENDERS and found[-1][2] >= bar):
        return None
    return [username for username, _low, high in found if high >= bar]


def _bounds(whole: list[int], parts: list[int]) -> list[tuple]:
    """(username, low, high) of the MOST_CONTENDERS + 1 customers with the highest ``high`` (see
    ``_contenders``), highest first."""
    def through(month: int) -> str:  # downloads up to the end of ``month``
        return (f"(CASE WHEN {month} < first_month THEN 0 "
                f"ELSE downloaded[least({month} - first_month + 1, cardinality(downloaded))] END)")

    low = f"{through(whole[-1])} - {through(whole[0] - 1)}" if whole else "0"
    every = sorted(whole + parts)  # one run of months: the whole ones with a part at either end
    high = f"{through(every[-1])} - {through(every[0] - 1)}"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT username, {low}, {high} FROM billing_customerusagerunning ORDER BY 3 DESC LIMIT %s",
                       [MOST_CONTENDERS + 1])
        return cursor.fetchall()


def _recent_top(period) -> list[str] | None:
    """The TOP downloaders' usernames over ``period``, ranked exactly from billing.CustomerUsageRecent
    (each customer's downloads added up day by day): None when the period starts before some row's
    first day (its days are not all there) or the TOPth downloaded nothing (then customers with a
    row but no bytes count, which only the day rows know)."""
    def through(day: date) -> str:  # downloads from the row's first day to the end of ``day``
        offset = f"(DATE '{day.isoformat()}' - first_day + 1)"
        total = f"coalesce(downloaded[least({offset}, cardinality(downloaded))], 0)"
        return f"(CASE WHEN {offset} < 1 THEN 0 ELSE {total} END)"

    with connection.cursor() as cursor:  # nothing when some row's days start after the period's first
        cursor.execute(f"""SELECT username, {through(period.last)} - {through(period.first - timedelta(days=1))}
                           FROM billing_customerusagerecent
                           WHERE (SELECT max(first_day) FROM billing_customerusagerecent) <= %s
                           ORDER BY 2 DESC, 1 LIMIT %s""", [period.first, TOP])
        found = cursor.fetchall()
    if len(found) < TOP or not found[-1][1]:
        return None
    return [username for username, _down in found]


def _summed(months, added, taken, usernames: list[str] | None = None, package=None) -> list[tuple]:
    """The TOP customers' sums over the pieces, of everyone or of ``usernames`` only, of one package's
    use or all."""
    among, whose = "", []
    if usernames is not None:
        among, whose = among + " AND username = ANY(%s)", [*whose, usernames]
    if package is not None:
        among, whose = among + " AND package_id = %s", [*whose, package.pk]
    pieces = ["SELECT username, rows, bytes_out, bytes_in, sessions, seconds FROM billing_customerusagemonth "
              f"WHERE month = ANY(%s){among}"]
    params: list = [months, *whose]
    for sign, spans in ((1, added), (-1, taken)):
        for low, high in spans:
            pieces.append(f"SELECT username, {sign}, {sign} * bytes_out, {sign} * bytes_in, {sign} * sessions, "
                          f"{sign} * seconds FROM hotspot_usageday WHERE day >= %s AND day <= %s{among}")
            params += [low, high, *whose]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT username, sum(bytes_out), sum(bytes_in), sum(sessions), sum(seconds)
                FROM ({" UNION ALL ".join(pieces)}) AS used (username, rows, bytes_out, bytes_in, sessions, seconds)
                GROUP BY username HAVING sum(rows) > 0 ORDER BY 2 DESC, 1 LIMIT %s""", [*params, TOP])
        return [(username, *(int(n or 0) for n in figures)) for username, *figures in cursor.fetchall()]


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def build(form: ReportFilters) -> Table:
    if form.grouping == "customer":  # per username: only the rollup's own rows (and CustomerUsageMonth) have it
        chosen = form.chosen()
        found = top_customers(form.period, chosen.get("package")) if set(chosen) <= {"package"} else None
        return table(form, usage_rows(form), "Bandwidth usage", found=found)
    rows = rows_to_sum(UsageTotal, UsageDay.objects.all(), form.period, form.grouping, form.chosen())
    return table(form, rows, "Bandwidth usage")


REPORT = Report("usage", "Bandwidth usage", [("day", "Day"), ("week", "Week"), ("month", "Month"),
                                             ("package", "Package"), ("router", "Router"),
                                             ("customer", "Customer")],
                ("router", "package"), build)
