"""API /api/reports/revenue, /usage, /logins, /customers: the report pages' figures as JSON, read
with the pages' own filter form, so a page, its download and the API never disagree. Rows are plain
numbers, amounts decimal strings, days ISO dates; bad input is a 422 naming the field."""
from datetime import date
from typing import Any

from django.http import JsonResponse
from ninja import Field, Query, Router, Schema

from accounts.access import api_access, perm

from ..reports import customers, logins, revenue, usage
from ..reports.frame import Report

reports_router = Router(tags=["reports"])
FINANCE = perm("billing.view_revenue")


class ReportQuery(Schema):
    """What the page's form takes; `from` and `to` (both, days in the business time zone) or a `range`."""

    from_: date | None = Field(None, alias="from", description="first day, business time zone")
    to: date | None = Field(None, description="last day (included)")
    range: str | None = Field(None, description="today, yesterday, 7d, 30d, month, last_month (default 7d)")
    group_by: str | None = Field(None, description="day, week, month or the report's own (package, router, ...)")
    router: int | None = Field(None, description="a router's id")
    package: int | None = Field(None, description="a package's id")
    method: str | None = Field(None, description="revenue only: a payment method")


class Column(Schema):
    key: str
    label: str
    kind: str


class ReportOut(Schema):
    report: str
    from_: date = Field(..., alias="from")
    to: date
    group_by: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    totals: dict[str, Any]


def _answer(request, report: Report):
    form = report.form(request.GET)
    if not form.is_valid():
        errors = [{"loc": ["query", field], "msg": " ".join(messages)} for field, messages in form.errors.items()]
        return JsonResponse({"detail": "Invalid request", "errors": errors}, status=422)
    table = report.build(form)
    return {"report": report.name, "from": form.period.first, "to": form.period.last,
            "group_by": form.grouping, **table.as_json()}


@reports_router.get("/revenue", auth=api_access(FINANCE), response=ReportOut, by_alias=True,
                    summary="Revenue per day, week, month, package, router or method")
def revenue_report(request, filters: Query[ReportQuery]):
    return _answer(request, revenue.REPORT)


@reports_router.get("/usage", auth=api_access(usage.VIEWERS), response=ReportOut, by_alias=True,
                    summary="Data used per day, week, month, package, router or customer (top 50)")
def usage_report(request, filters: Query[ReportQuery]):
    return _answer(request, usage.REPORT)


@reports_router.get("/logins", auth=api_access(FINANCE), response=ReportOut, by_alias=True,
                    summary="Sign-ins accepted and rejected per day, week, month, hour, router or reason")
def logins_report(request, filters: Query[ReportQuery]):
    return _answer(request, logins.REPORT)


@reports_router.get("/customers", auth=api_access(FINANCE), response=ReportOut, by_alias=True,
                    summary="New, active, returning and churned customers per day, week or month")
def customers_report(request, filters: Query[ReportQuery]):
    return _answer(request, customers.REPORT)
