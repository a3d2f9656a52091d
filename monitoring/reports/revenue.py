"""Revenue from billing.PaymentDay: money received per day, week, month, package, router or method,
refunds, ARPU and the change from the previous period of the same length.

Revenue counts what reconciliation counts as received: every method but the wallet, whose purchases
spend money already counted when it came in (as billing.revenue does)."""
from decimal import Decimal

from django.db.models import Q, Sum

from billing.models import CohortMonth, Payment, PaymentDay, PaymentTotal

from .filters import ReportFilters
from .frame import Chart, Column, Report, Table
from .grouping import rows_to_sum, summed
from .period import Period

KEYS = {"package": "package__name", "router": "router__name", "method": "method"}
METHODS = dict(Payment.Method.choices)
SUMS = {"received": Sum("amount"), "count": Sum("payments"), "gave_back": Sum("refunded"),
        "refund_count": Sum("refunds")}


def _rows(form: ReportFilters, period: Period | list[Period], group_by: str):
    """The revenue rows summing to ``period`` with the form's filters (billing.PaymentTotal's, see
    grouping.rows_to_sum)."""
    return rows_to_sum(PaymentTotal, PaymentDay.objects.all(), period, group_by, form.chosen()).exclude(
        method=Payment.Method.WALLET)


def _totals(form: ReportFilters) -> dict:
    """This period and the one before, in one aggregate."""
    now, before = form.period, form.period.previous()
    this, last = Q(day__gte=now.first, day__lte=now.last), Q(day__gte=before.first, day__lte=before.last)
    sums = _rows(form, [now, before], "month").aggregate(
        received=Sum("amount", filter=this), gave_back=Sum("refunded", filter=this), count=Sum("payments", filter=this),
        before=Sum("amount", filter=last), before_refunded=Sum("refunded", filter=last))
    net = (sums["received"] or 0) - (sums["gave_back"] or 0)
    previous = (sums["before"] or 0) - (sums["before_refunded"] or 0)
    payments = sums["count"] or 0
    change = f"{(net - previous) * 100 / previous:+.1f} %" if previous else "—"
    totals = {"Net revenue (KES)": _cents(net), "Payments": payments,
              "Previous period (KES)": _cents(previous), "Change": change}
    return totals


def _arpu_and_why(form: ReportFilters, net) -> tuple[Decimal | str | None, str]:
    """ARPU for the totals (None: not shown) and, when it is not a figure, the page's word on why."""
    if form.chosen():  # paying customers are counted for the whole business only
        return None, "ARPU is the whole business's figure: shown without a router, package or method filter."
    arpu = _arpu(net, form.period)
    if arpu == "—":
        return arpu, ("ARPU —: no paying customer is counted in these months (no completed purchase, or the "
                      "customers rollup has not run since; it runs every 5 minutes).")
    return arpu, ""


def _cents(value) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))


def _arpu(net, period) -> Decimal | str:
    """Average revenue per paying customer per month: the range's net revenue over its customer-months
    (each month the range touches, its distinct paying customers, from CohortMonth)."""
    months = CohortMonth.objects.filter(month__gte=period.first.replace(day=1), month__lte=period.last)
    customer_months = months.aggregate(n=Sum("customers"))["n"] or 0
    return _cents(Decimal(net) / customer_months) if customer_months else "—"


def build(form: ReportFilters) -> Table:
    group_by, period = form.grouping, form.period
    found = summed(_rows(form, period, group_by), group_by, period, SUMS, key=KEYS.get(group_by))
    lines = []
    for group, amount, payments, refunded, refunds in found:
        if group_by == "method":
            group = METHODS.get(group, group)
        elif group is None:
            group = "(none)"
        amount, refunded = _cents(amount), _cents(refunded)
        lines.append((group, payments, amount, refunds, refunded, amount - refunded))
    first = dict(REPORT.group_by)[group_by]
    columns = [Column("group", first, "date" if group_by in ("day", "week", "month") else "text"),
               Column("payments", "Payments"), Column("amount", "Received (KES)", "money", optional=True),
               Column("refunds", "Refunds", optional=True),
               Column("refunded", "Refunded (KES)", "money", optional=True),
               Column("net", "Net (KES)", "money")]
    totals = _totals(form)
    arpu, why = _arpu_and_why(form, totals["Net revenue (KES)"])
    if arpu is not None:
        totals["ARPU (KES)"] = arpu
    return Table("Revenue", columns, lines, Chart(("net",), unit="KES"), totals=totals, note=why)


REPORT = Report("revenue", "Revenue", [("day", "Day"), ("week", "Week"), ("month", "Month"), ("package", "Package"),
                                       ("router", "Router"), ("method", "Method")],
                ("router", "package", "method"), build)
