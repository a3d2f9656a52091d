"""Profit from billing.PaymentDay (summed ahead: billing.PaymentTotal) and billing.Expense: net revenue
minus expenses per month (or day, week) or per site (the router the money came in through, or was spent for).

Revenue is the revenue report's (every method but the wallet, refunds taken off, on the day the money
moved); an expense counts on its own date. Money not tied to a router (cash at the office, rent of the
head office) is its own row when grouping by site, "(whole business)", so the sites' rows plus it add
up to the total."""
from decimal import Decimal

from django.db.models import F, Sum

from billing.models import Expense, Payment, PaymentDay, PaymentTotal

from .filters import ReportFilters
from .frame import Chart, Column, Report, Table
from .grouping import TIME, rows_to_sum, summed

NO_SITE = "(whole business)"


def build(form: ReportFilters) -> Table:
    group_by, period, chosen = form.grouping, form.period, form.chosen()
    chosen = {"router": chosen["router"]} if "router" in chosen else {}
    revenue = rows_to_sum(PaymentTotal, PaymentDay.objects.all(), period, group_by, chosen).exclude(
        method=Payment.Method.WALLET)
    spent = Expense.objects.filter(date__gte=period.first, date__lte=period.last)
    if "router" in chosen:
        spent = spent.filter(router=chosen["router"])
    key = None if group_by in TIME else "router__name"
    earned = {group: amount - refunded for group, amount, refunded
              in summed(revenue, group_by, period, {"amount": Sum("amount"), "refunded": Sum("refunded")}, key=key)}
    costs = dict(summed(spent.annotate(day=F("date")), group_by, period, {"amount": Sum("amount")}, key=key))
    groups = list(earned) + [group for group in costs if group not in earned]
    if key:  # largest profit first; the whole business's own row last
        groups.sort(key=lambda g: (g is None, -(earned.get(g, 0) - costs.get(g, 0)), g or ""))
    rows = []
    for group in groups:
        income, cost = _money(earned.get(group)), _money(costs.get(group))
        rows.append((NO_SITE if key and group is None else group, income, cost, income - cost, _margin(income, cost)))
    income, cost = sum((r[1] for r in rows), Decimal("0.00")), sum((r[2] for r in rows), Decimal("0.00"))
    first = dict(REPORT.group_by)[group_by]
    columns = [Column("group", first, "date" if key is None else "text"),
               Column("revenue", "Net revenue (KES)", "money"), Column("expenses", "Expenses (KES)", "money"),
               Column("profit", "Profit (KES)", "money"),
               Column("margin", "Margin (%)", "percent")]
    totals = {"Net revenue (KES)": income, "Expenses (KES)": cost, "Profit (KES)": income - cost,
              "Margin": f"{_margin(income, cost)} %" if income else "—"}
    # Over time the three lines; per site one bar each, of what the site leaves.
    chart = Chart(("revenue", "expenses", "profit") if key is None else ("profit",), unit="KES")
    return Table("Profit", columns, rows, chart, totals=totals,
                 note="Net revenue: money received by every method but the wallet, refunds taken off. "
                      "Expenses count on their own date; those for no site are the whole business's.")


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))


def _margin(income: Decimal, cost: Decimal) -> Decimal | None:
    return ((income - cost) * 100 / income).quantize(Decimal("0.1")) if income else None


REPORT = Report("profit", "Profit", [("month", "Month"), ("router", "Site"), ("week", "Week"), ("day", "Day")],
                ("router",), build)
