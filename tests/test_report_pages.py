"""The /reports/ pages (issue 18): revenue, logins, usage, one user's sessions and customers, each
read from its rollup only, with range presets, filters, chart + table and CSV / XLSX of exactly the
table shown; who may open which."""
import csv
import io
import json
import re
import zipfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from billing.models import CohortMonth, CustomerDay, Payment, PaymentDay
from hotspot.models import Customer, LoginDay, LoginHour, Package, UsageDay
from radius.models import RadAcct
from routers.models import Router
from siteconfig import time_zone
from tests.staff_kit import *  # noqa: F403 - the personas

pytestmark = pytest.mark.django_db
MB = 1_000_000
# What a report may read: the rollups and the rows its filters name. Never the raw tables.
RAW = re.compile(r'"(billing_payment|radacct|radpostauth|hotspot_customer|hotspot_subscription)"')


def today() -> date:
    return time_zone.today()


def make_router(name="Westlands") -> Router:
    return Router.objects.create(name=name, host=f"10.0.{len(name)}.1")


def make_package(name="Daily", price="50") -> Package:
    return Package.objects.create(name=name, price=Decimal(price), validity_minutes=1440)


def paid(day, amount, payments=1, method=Payment.Method.MPESA_STK, package=None, router=None, refunded="0", refunds=0):
    return PaymentDay.objects.create(day=day, amount=Decimal(amount), payments=payments, method=method,
                                     package=package, router=router, refunded=Decimal(refunded), refunds=refunds)


def used(day, username, down_mb, up_mb=0, sessions=1, seconds=3600, router=None, package=None):
    return UsageDay.objects.create(day=day, username=username, bytes_out=down_mb * MB, bytes_in=up_mb * MB,
                                   sessions=sessions, seconds=seconds, router=router, package=package)


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def table_rows(response) -> list[list[str]]:
    page = response.content.decode()
    body = page[page.index("<table data-report-table>"):]
    body = body[body.index("<tbody>"):body.index("</tbody>")]
    return [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def chart_of(response) -> dict:
    page = response.content.decode()
    found = re.search(r'<script id="report-chart-data" type="application/json">(.*?)</script>', page, re.S)
    return json.loads(found.group(1))


def test_revenue_lists_every_day_of_the_range_net_of_refunds_without_the_wallet(client, finance_clerk):
    day = today()
    paid(day, "300", payments=3, refunded="100", refunds=1)
    paid(day - timedelta(days=2), "50")
    paid(day, "999", method=Payment.Method.WALLET)  # spends money already counted
    paid(day - timedelta(days=7), "80")  # the previous 7 days
    client.force_login(finance_clerk)

    page = client.get("/reports/revenue/?range=7d")

    rows = table_rows(page)
    assert len(rows) == 7
    assert rows[-1][1:] == ["3", "300.00", "1", "100.00", "200.00"]
    assert rows[-3][-1] == "50.00" and rows[0][-1] == "0.00"
    text = page.content.decode()
    assert 'data-total="net-revenue-kes"' in text and "250.00" in text and "80.00" in text
    assert "+212.5 %" in text  # 250 against 80
    chart = chart_of(page)
    assert chart["series"][0]["values"][-1] == 200.0 and len(chart["x"]) == 7


def test_revenue_groups_by_package_router_and_method_and_filters(client, finance_clerk):
    day = today()
    daily, weekly, westlands = make_package("Daily"), make_package("Weekly", "300"), make_router()
    paid(day, "100", payments=2, package=daily, router=westlands)
    paid(day, "300", package=weekly)
    paid(day, "40", method=Payment.Method.CASH, package=daily)
    client.force_login(finance_clerk)

    by_package = table_rows(client.get("/reports/revenue/?range=today&group_by=package"))
    by_method = table_rows(client.get("/reports/revenue/?range=today&group_by=method"))
    one_router = table_rows(client.get(f"/reports/revenue/?range=today&group_by=package&router={westlands.pk}"))
    cash = table_rows(client.get("/reports/revenue/?range=today&group_by=day&method=cash"))

    assert [(r[0], r[-1]) for r in by_package] == [("Weekly", "300.00"), ("Daily", "140.00")]
    assert [(r[0], r[-1]) for r in by_method] == [("M-Pesa (STK push)", "400.00"), ("Cash", "40.00")]
    assert [(r[0], r[-1]) for r in one_router] == [("Daily", "100.00")]
    assert cash[0][-1] == "40.00"


def test_a_range_of_whole_months_and_odd_days_sums_as_the_day_rows_do(client, finance_clerk):
    # 100 days of rows at two routers and two packages: the pages read month totals for the months the
    # range covers whole and day totals for its ends (billing.PaymentTotal, UsageTotal); the figures
    # must be the day rows' own sums, whatever the grouping and filters.
    daily, weekly, westlands, kilimani = make_package("Daily"), make_package("Weekly", "300"), make_router(), \
        make_router("Kilimani")
    first = today() - timedelta(days=99)
    for n in range(100):
        day, router, package = first + timedelta(days=n), (westlands, kilimani)[n % 2], (daily, weekly)[n % 3 == 0]
        paid(day, str(10 + n), package=package, router=router, refunded=str(n % 4), refunds=n % 4 and 1)
        paid(day, "5", method=Payment.Method.CASH, package=daily, router=kilimani)
        used(day, f"user{n % 7}", 10 + n, up_mb=n, package=package, router=router)
    span = f"from={first + timedelta(days=3):%Y-%m-%d}&to={today() - timedelta(days=2):%Y-%m-%d}"
    within = PaymentDay.objects.filter(day__gte=first + timedelta(days=3), day__lte=today() - timedelta(days=2))
    used_within = UsageDay.objects.filter(day__gte=first + timedelta(days=3), day__lte=today() - timedelta(days=2))
    client.force_login(finance_clerk)

    def net(rows):
        found = rows.aggregate(a=Sum("amount"), r=Sum("refunded"))
        return f"{found['a'] - found['r']:,.2f}"

    by_router = dict((r[0], r[-1]) for r in table_rows(client.get(f"/reports/revenue/?{span}&group_by=router")))
    by_month = table_rows(client.get(f"/reports/revenue/?{span}&group_by=month&package={weekly.pk}"))
    profit = table_rows(client.get(f"/reports/profit/?{span}&group_by=router"))
    usage = dict((r[0], r[3]) for r in table_rows(client.get(f"/reports/usage/?{span}&group_by=package"
                                                             f"&router={westlands.pk}")))

    assert by_router == {"Westlands": net(within.filter(router=westlands)),
                         "Kilimani": net(within.filter(router=kilimani))}
    assert sum(Decimal(r[-1].replace(",", "")) for r in by_month) == Decimal(net(within.filter(package=weekly))
                                                                             .replace(",", ""))
    assert dict((r[0], r[1]) for r in profit)["Kilimani"] == net(within.filter(router=kilimani))
    down = {name: used_within.filter(router=westlands, package__name=name).aggregate(s=Sum("bytes_out"))["s"]
            for name in ("Daily", "Weekly")}
    assert usage == {name: f"{octets / MB:,.1f}" for name, octets in down.items()}


def test_arpu_is_net_revenue_per_paying_customer_month_and_says_why_when_it_is_not_shown(client, finance_clerk):
    day = today()
    paid(day, "600", payments=3, refunded="100", refunds=1)
    client.force_login(finance_clerk)

    unknown = client.get("/reports/revenue/?range=today").content.decode()
    CohortMonth.objects.create(cohort=day.replace(day=1), month=day.replace(day=1), customers=4, amount=500)
    known = client.get("/reports/revenue/?range=today").content.decode()
    filtered = client.get(f"/reports/revenue/?range=today&method={Payment.Method.CASH}").content.decode()

    assert re.search(r'data-total="arpu-kes"><div class="label">ARPU \(KES\)</div><div class="value">—', unknown)
    assert "ARPU —: no paying customer is counted in these months" in unknown
    assert re.search(r'data-total="arpu-kes">.*?<div class="value">125[.]00', known)  # 500 net / 4 customer-months
    assert "ARPU —" not in known
    assert 'data-total="arpu-kes"' not in filtered and "ARPU is the whole business" in filtered


def test_a_phone_shows_the_key_columns_of_the_usage_and_revenue_tables(client, technician):
    used(today(), "wanjiru", 10)
    client.force_login(technician)

    page = client.get("/reports/usage/?range=today").content.decode()

    head = page[page.index("<table data-report-table>"):page.index("</thead>")]
    hidden = re.findall(r'<th scope="col" class="[^"]*\bopt\b[^"]*">(.*?)</th>', head)
    assert hidden == ["Sessions", "Hours online", "Uploaded (MB)"]  # Day, Downloaded and Total stay
    assert page.count('class="num opt"') == 3 + 3  # the header's and the one row's


def test_the_filters_keep_the_router_and_package_chosen(client, finance_clerk):
    westlands, daily = make_router(), make_package("Daily & more")
    make_router("Kilimani")
    client.force_login(finance_clerk)

    page = client.get(f"/reports/revenue/?router={westlands.pk}&package={daily.pk}").content.decode()

    assert f'<option value="{westlands.pk}" selected>Westlands</option>' in page
    assert f'<option value="{daily.pk}" selected>Daily &amp; more</option>' in page
    assert page.count("<option value=\"\">All routers</option>") == 1  # not chosen, so not selected
    assert re.search(r'<select (id="id_router" name="router"|name="router" id="id_router")><option value="">All', page)


def test_the_downloads_hold_exactly_the_table_shown(client, finance_clerk):
    day = today()
    paid(day, "300", payments=3, refunded="100", refunds=1, package=make_package("=HYPERLINK(1)"))
    client.force_login(finance_clerk)
    query = "/reports/revenue/?range=today&group_by=package"

    shown = table_rows(client.get(query))
    sheet = csv_rows(client.get(query + "&format=csv"))
    book = client.get(query + "&format=xlsx")

    assert sheet[0] == ["Package", "Payments", "Received (KES)", "Refunds", "Refunded (KES)", "Net (KES)"]
    assert sheet[1] == ["'=HYPERLINK(1)", "3", "300.00", "1", "100.00", "200.00"]
    assert len(sheet) - 1 == len(shown)
    assert book["Content-Disposition"].startswith('attachment; filename="revenue-')
    cells = zipfile.ZipFile(io.BytesIO(b"".join(book.streaming_content))).read("xl/worksheets/sheet1.xml").decode()
    assert "<v>200</v>" in cells and "=HYPERLINK(1)" in cells and "<f>" not in cells


def test_a_bad_range_is_a_form_error_over_the_default_range(client, admin):
    client.force_login(admin)

    for query in ("from=2026-05-01", "from=2026-05-09&to=2026-05-01", "from=0001-01-01&to=2026-01-01",
                  "from=2020-01-01&to=2026-01-01", "range=forever&group_by=nope&router=x&method=gold"):
        page = client.get("/reports/revenue/?" + query)
        assert page.status_code == 200
        assert 'class="errorlist"' in page.content.decode()
        assert len(table_rows(page)) == 7


def test_usage_per_day_top_customers_and_one_users_sessions(client, technician):
    day = today()
    westlands = make_router()
    used(day, "alice", 900, 100, router=westlands)
    used(day, "bob", 200, 50)
    used(day - timedelta(days=1), "alice", 100)
    RadAcct.objects.create(acct_session_id="s-1", acct_unique_id="u-s-1", username="alice", nas_ip_address="10.0.0.1",
                           acct_start_time=datetime.now(UTC) - timedelta(hours=1), acct_output_octets=900 * MB,
                           acct_input_octets=100 * MB, acct_session_time=3600, calling_station_id="AA:BB:CC:00:00:01")
    client.force_login(technician)

    per_day = table_rows(client.get("/reports/usage/?range=7d"))
    top = table_rows(client.get("/reports/usage/?range=7d&group_by=customer"))
    routers = table_rows(client.get(f"/reports/usage/?range=7d&group_by=day&router={westlands.pk}"))
    alice = client.get("/reports/sessions/?range=7d&user=alice")

    assert per_day[-1][3:] == ["1,100.0", "150.0", "1,250.0"]
    assert [(r[0], r[-1]) for r in top] == [("alice", "1,100.0"), ("bob", "250.0")]
    assert routers[-1][-1] == "1,000.0" and routers[-2][-1] == "0.0"
    assert table_rows(alice)[-1][3] == "900.0"
    assert "AA:BB:CC:00:00:01" in alice.content.decode()


def test_logins_per_hour_reasons_and_unique_users(client, finance_clerk):
    day = today()
    LoginHour.objects.create(day=day, hour=8, accepted=10, users=7)
    LoginHour.objects.create(day=day, hour=8, reason=LoginHour.Reason.UNKNOWN, rejected=3, users=2)
    LoginHour.objects.create(day=day, hour=21, reason=LoginHour.Reason.NO_PACKAGE, rejected=5, users=5)
    LoginDay.objects.create(day=day, users=12, users_accepted=7, users_rejected=6)
    client.force_login(finance_clerk)

    per_day = table_rows(client.get("/reports/logins/?range=today"))
    per_hour = table_rows(client.get("/reports/logins/?range=today&group_by=hour"))
    reasons = table_rows(client.get("/reports/logins/?range=today&group_by=reason"))

    assert per_day == [[per_day[0][0], "10", "8", "18", "44.4", "12"]]
    assert len(per_hour) == 24 and per_hour[8] == ["08:00", "10", "3", "13", "23.1"]
    assert reasons == [["No package running", "5"], ["Unknown user", "3"]]


def test_customers_per_month_and_the_cohort_table(client, finance_clerk):
    this = today().replace(day=1)
    last = (this - timedelta(days=1)).replace(day=1)
    CustomerDay.objects.create(day=last, active=10, new=10)
    CustomerDay.objects.create(day=this, active=6, new=2, returning=4, churned=3)
    CohortMonth.objects.create(cohort=last, month=last, customers=10, amount=500)
    CohortMonth.objects.create(cohort=last, month=this, customers=4, amount=200)
    CohortMonth.objects.create(cohort=this, month=this, customers=2, amount=100)
    client.force_login(finance_clerk)
    span = f"from={last:%Y-%m-%d}&to={today():%Y-%m-%d}"

    months = table_rows(client.get(f"/reports/customers/?{span}&group_by=month"))
    cohorts = table_rows(client.get(f"/reports/customers/?{span}&group_by=cohort"))

    assert [r[1:] for r in months] == [["10", "0", "10", "0"], ["2", "4", "6", "3"]]
    assert cohorts[0][:3] == [f"{last:%Y-%m}", "10", "40.0"] and cohorts[1][:3] == [f"{this:%Y-%m}", "2", "0.0"]


# Session, user, permissions (2), groups, the filters' routers and packages, the session's save (3):
# 9 around each report's own reads (revenue: rows, totals with the previous period, ARPU's customers;
# grouped by package or router, their names after the sums by id; the top customers: ranked from the
# recent days' running rows, then their sums).
@pytest.mark.parametrize(("url", "queries"), [
    ("/reports/revenue/?group_by=package", 14), ("/reports/usage/?group_by=router", 12),
    ("/reports/revenue/?range=month", 13),
    ("/reports/usage/?group_by=customer", 12), ("/reports/logins/?group_by=day", 11),
    ("/reports/customers/?group_by=cohort", 9), ("/reports/sessions/?user=alice", 12)])
def test_each_report_reads_only_rollups_in_the_same_few_queries(client, admin, url, queries):
    client.force_login(admin)
    client.get(url)  # the session and the sidebar's first reads

    with CaptureQueriesContext(connection) as empty:
        client.get(url)
    day, package, router = today(), make_package(), make_router()
    for n in range(5):
        paid(day - timedelta(days=n), "50", package=package, router=router)
        used(day - timedelta(days=n), f"user{n}", 10, package=package, router=router)
        LoginHour.objects.create(day=day - timedelta(days=n), hour=n, accepted=n)
    with CaptureQueriesContext(connection) as full:
        client.get(url)

    assert len(full.captured_queries) == len(empty.captured_queries) == queries
    raw = [q["sql"] for q in full.captured_queries if RAW.search(q["sql"])]
    if url.startswith("/reports/sessions/"):  # one user's own sessions, by the username index
        assert len(raw) == 1 and '"radacct"."username" = ' in raw[0]
    else:
        assert raw == []


def test_a_customers_page_shows_their_own_30_days_of_data(client, support_agent):
    wanjiru = Customer.objects.create(phone="254711000222", name="Wanjiru", username="wanjiru")
    UsageDay.objects.create(day=today(), customer=wanjiru, username=wanjiru.username, bytes_out=1500 * MB,
                            bytes_in=120 * MB, sessions=3)
    UsageDay.objects.create(day=today() - timedelta(days=2), customer=wanjiru, username=wanjiru.username,
                            bytes_out=400 * MB, sessions=1)
    UsageDay.objects.create(day=today(), username="someone-else", bytes_out=999 * MB)
    client.force_login(support_agent)

    page = client.get(f"/customers/{wanjiru.pk}/").content.decode()

    usage = page[page.index('data-card="usage"'):]
    rows = re.findall(r"<tr><td class=\"when\">.*?</tr>", usage, re.S)
    assert len(rows) == 30
    assert re.findall(r'<td class="num">(.*?)</td>', rows[-1]) == ["1,500.0", "120.0", "3"]
    assert re.findall(r'<td class="num">(.*?)</td>', rows[-3])[0] == "400.0"
    chart = json.loads(re.search(r'<script id="customer-usage-data" type="application/json">(.*?)</script>',
                                 page, re.S).group(1))
    assert chart["series"][0]["values"][-3:] == [400.0, 0.0, 1500.0]
    assert "/reports/sessions/" not in page  # Support does not reach the usage reports
