#!/usr/bin/env python
"""Every staff page and API list at an ISP's size (issue 23): p50 / p95 of warm requests as Admin,
with the query count beside the count of the same page on demo-sized data.

The data set is bench/dataset.py's (100,000 customers, 1,000,000 payments, 10,000,000 radacct rows
...), generated into the scratch database ``bench_pages`` (with --keep kept, and reused by the next
--keep run: generation takes minutes), and at scale 0.001 into ``bench_pages_small`` for the query
counts, which a second process of this script takes (--counts).

Which pages: the URL configuration walked as tests/test_input_fuzz.py walks it (the pages that need
no id, then one URL per page name found by following the Admin's links, so detail pages get real
ids and a new page joins by itself), every GET operation of the API (path ids from the data set);
for each page one variant per option (the first 8) of each <select> of its GET filter form, and
page 2; for each API list one per value of each enum parameter, its text filters and the next page;
and the searches of issue 23's table: a phone in full and in part, a CheckoutRequestID, a receipt,
a username, a MAC, a RADIUS session id, an invoice number. Left out: signing in and out, the
customer's portal, Daraja's and the SMS gateway's callbacks, exports and downloads (bench/ has
their own), and pages whose GET does not answer (forms that only take a POST). A search answered
by a redirect to its one hit is timed as answered.

Each case: two warm-up requests (the smaller of their query counts is the page's), then --requests
timed requests through Django's test Client (middleware, session, view, template), fewer for a
case slower than CASE_BUDGET_SECONDS (it fails anyway). The table is printed worst first; the exit
status is 1 when a case misses p95 < 200 ms or its query count differs from the small data set's.

Usage: DATABASE_URL=postgres://hotspot:hotspot@127.0.0.1:5432/hotspot .venv/bin/python bench/pages.py --keep
Options: --scale 1.0 --requests 10 --keep --only SUBSTRING
"""
import argparse
import gc
import io
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.dataset import dataset  # noqa: E402
from bench.figures import percentile  # noqa: E402
from lib.page_forms import PageForms, parsed, url_name  # noqa: E402

NAME, SMALL_NAME, SMALL_SCALE = "bench_pages", "bench_pages_small", 0.001
TARGET_MS = 200.0
CASE_BUDGET_SECONDS = 3.0
MIN_REQUESTS = 3
# Not staff pages, or not pages at all: signing in and out, the customer's side, callbacks from
# Daraja and the SMS gateway, the API's own documents; and the streams timed by their own benches.
SKIP_PREFIXES = ("portal", "login", "logout", "password-reset", "two-factor", "mpesa-", "sms-inbound", "openapi",
                 "api-root")
SKIP = {"payment-export", "backup-download", "voucher-csv", "branding-logo", "router-vpn-script", "vpn-server-conf"}
SKIP_API = ("/api/purchase/", "/api/health/ping", "/onboarding.rsc", "/server.conf")
# A select of 70 object types gives 70 cases much alike: its first few options stand for it.
OPTIONS_PER_SELECT = 8
# A search with one hit redirects to it (/search/): that redirect is the answer timed.
ANSWERED = (200, 302)


@dataclass
class Case:
    name: str
    url: str
    queries: int = 0
    status: int = 0
    upstream: bool = False  # a 502/503/504 in our JSON shape: a router out of reach answered so
    small: int | None = None  # the query count on the small data set
    times: list = field(default_factory=list)

    def p(self, share: float) -> float:
        return percentile(self.times, share) if self.times else 0.0

    @property
    def fast(self) -> bool:
        return self.p(0.95) < TARGET_MS

    @property
    def flat(self) -> bool:
        return self.small is None or self.small == self.queries


def skipped(name: str | None) -> bool:
    return not name or name.startswith(SKIP_PREFIXES) or name in SKIP or name.startswith("api:")


def crawl(client) -> dict[str, tuple[str, PageForms]]:
    """One URL per page name (with its parsed forms): the pages that need no id, then the pages
    their links reach."""
    from accounts.access import is_api_operation_view
    from accounts.checks import iter_patterns

    queue = ["/" + route for route, pattern in iter_patterns()
             if not is_api_operation_view(pattern.callback) and "<" not in route and not route.startswith("api/")]
    found, tried, gone = {}, Counter(), Counter()
    while queue:
        url = queue.pop(0)
        name = url_name(url)
        # A few tries per page name: a list links each row's page by the same name. More for links
        # to rows that are gone (an activity entry's object: the data set's entries name customer
        # ids past those generated), so the activity page's links do not use up a detail page's tries.
        if skipped(name) or name in found or tried[name] >= 3 or gone[name] >= 25:
            continue
        response = client.get(url)
        if response.status_code == 404:
            gone[name] += 1
            continue
        tried[name] += 1
        if response.status_code != 200:
            continue
        found[name] = (url, parsed(response))
        queue += [urlsplit(link).path for link in found[name][1].links]
    return found


def needles() -> dict:
    """Values a person would search for, taken from the data set: one customer with payments,
    callbacks and sessions, and their identifiers."""
    from django.db import connection

    with connection.cursor() as cursor:
        # A customer from the 100th on where there is one: a username with 3+ digits (wairimu100) is
        # searched in phone numbers too (the tickets' search), one with fewer (wafula67) is not, and
        # both data sets must search alike for their query counts to compare.
        for first_id in (100, 0):
            cursor.execute("""SELECT p.id, p.mpesa_receipt, p.checkout_request_id, c.id, c.phone, c.username, c.name,
                                     c.last_mac
                              FROM billing_mpesacallback b JOIN billing_payment p ON p.id = b.payment_id
                              JOIN hotspot_customer c ON c.id = p.customer_id
                              WHERE p.mpesa_receipt IS NOT NULL AND c.id >= %s ORDER BY b.id LIMIT 1""", [first_id])
            if found := cursor.fetchone():
                break
        payment, receipt, checkout, customer, phone, username, name, mac = found
        cursor.execute("SELECT acctsessionid, callingstationid FROM radacct WHERE username = %s "
                       "ORDER BY acctstarttime DESC LIMIT 1", [username])
        session, session_mac = cursor.fetchone() or ("81000001", mac)
        cursor.execute("SELECT number FROM billing_invoice ORDER BY id LIMIT 1")
        invoice = (cursor.fetchone() or [""])[0]
        cursor.execute("SELECT min(id) FROM hotspot_package")
        package = cursor.fetchone()[0]
        cursor.execute("SELECT min(id) FROM routers_router")
        router = cursor.fetchone()[0]
        cursor.execute("SELECT id FROM auth_group WHERE name = 'Admin'")
        role = cursor.fetchone()[0]
        ticket = None
        if _has("monitoring_ticket"):
            cursor.execute("SELECT number FROM monitoring_ticket ORDER BY id LIMIT 1")
            ticket = (cursor.fetchone() or [None])[0]
    return {"payment": payment, "receipt": receipt, "checkout": checkout, "customer": customer,
            "phone": "0" + phone[3:], "partial": phone[-6:], "username": username, "name": name.split()[0],
            "mac": mac, "session": session, "session_mac": session_mac, "invoice": invoice, "package": package,
            "router": router, "role": role, "ticket": ticket}


def _has(table: str) -> bool:
    from django.db import connection

    return table in connection.introspection.table_names()


def searches(n: dict) -> list[tuple[str, str]]:
    """Issue 23's table and the searches a person types: (case name, URL)."""
    last_month = (date.today().replace(day=1) - timedelta(days=1)).replace(day=1)
    return [
        ("customers q=<phone>", f"/customers/?q={n['phone']}"),
        ("customers q=<partial phone>", f"/customers/?q={n['partial']}"),
        ("customers q=<username>", f"/customers/?q={n['username']}"),
        ("customers q=<name>", f"/customers/?q={n['name']}"),
        ("customers q=<MAC>", f"/customers/?q={n['mac']}"),
        ("payments q=<phone>", f"/payments/?q={n['phone']}"),
        ("payments q=<partial phone>", f"/payments/?q={n['partial']}"),
        ("payments q=<receipt>", f"/payments/?q={n['receipt']}"),
        ("payments q=<CheckoutRequestID>", f"/payments/?q={n['checkout']}"),
        ("payments q=<username>", f"/payments/?q={n['username']}"),
        ("payments status=completed page 2", "/payments/?status=completed&page=2"),
        ("mpesa callbacks q=<CheckoutRequestID>", f"/payments/mpesa/?q={n['checkout']}"),
        ("mpesa callbacks q=<receipt>", f"/payments/mpesa/?q={n['receipt']}"),
        ("payment reports last month", f"/payments/reports/?month={last_month:%Y-%m}"),
        ("sessions history q=<username>", f"/radius/sessions/history/?q={n['username']}"),
        ("sessions history q=<MAC>", f"/radius/sessions/history/?q={n['session_mac']}"),
        ("sessions history q=<session id>", f"/radius/sessions/history/?q={n['session']}"),
        ("sessions online q=<username>", f"/radius/sessions/?q={n['username']}"),
        ("auth log q=<username>", f"/radius/auth-log/?q={n['username']}"),
        ("auth log q=<MAC>", f"/radius/auth-log/?q={n['session_mac']}"),
        ("invoices q=<number>", f"/invoices/?q={n['invoice']}"),
        ("wallet show=all", "/wallet/?show=all"),
        ("wallet q=<phone>", f"/wallet/?q={n['phone']}"),
        ("search q=<phone>", f"/search/?q={n['phone']}"),
        ("search q=<receipt>", f"/search/?q={n['receipt']}"),
        ("search q=<username>", f"/search/?q={n['username']}"),
    ]


def page_cases(client, n: dict) -> list[tuple[str, str]]:
    """Each crawled page, page 2 of a list, and one variant per option of its GET form's selects."""
    found = []
    for name, (url, forms) in sorted(crawl(client).items()):
        found.append((name, url))
        if any("page=2" in link for link in forms.links):
            found.append((f"{name} page 2", f"{url}?page=2"))
        for select, values in sorted(forms.get_selects().items()):
            for value in values[:OPTIONS_PER_SELECT]:
                found.append((f"{name} {select}={_label(select, value, n)}", f"{url}?{urlencode({select: value})}"))
    return found


def _label(select: str, value: str, n: dict) -> str:
    """An option's value in a case name, the same on both data sets (ids of rows are not)."""
    return "<id>" if value.isdigit() and select not in ("level", "days", "hours", "range") else value


def api_cases(n: dict) -> list[tuple[str, str]]:
    """Every GET operation of the API (path ids from the data set); for a list, the next page and
    one case per value of each enum parameter, and its text filters with a needle."""
    from config.api import api

    document = api.get_openapi_schema()
    components = document.get("components", {}).get("schemas", {})
    ids = {"customer_id": n["customer"], "payment_id": n["payment"], "package_id": n["package"],
           "router_id": n["router"], "role_id": n["role"], "number": n["ticket"], "section": "general"}
    text = {"q": n["username"], "username": n["username"], "phone": n["phone"], "checkout_request_id": n["checkout"],
            "customer_id": n["customer"], "since": f"{date.today() - timedelta(days=30)}T00:00:00"}
    found = []
    for path, methods in sorted(document["paths"].items()):
        operation = methods.get("get")
        if not operation or any(part in path for part in SKIP_API):
            continue
        values = {key: ids.get(key) for key in re.findall(r"\{(\w+)\}", path)}
        if None in values.values():
            continue
        url = path.format(**values)
        name = f"GET {path}"
        found.append((name, url))
        for parameter in operation.get("parameters", []):
            if parameter["in"] != "query":
                continue
            key = parameter["name"]
            if key == "offset":
                found.append((f"{name} offset=50", f"{url}?offset=50"))
            elif key in text:
                found.append((f"{name} {key}=<{key}>", f"{url}?{urlencode({key: text[key]})}"))
            for value in _enum(parameter.get("schema", {}), components):
                found.append((f"{name} {key}={value}", f"{url}?{urlencode({key: value})}"))
    return found


def _enum(schema: dict, components: dict) -> list:
    for option in [schema, *schema.get("anyOf", [])]:
        if "$ref" in option:
            option = components.get(option["$ref"].rsplit("/", 1)[-1], {})
        if option.get("enum"):
            return option["enum"]
    return []


def measure(case: Case, client, requests: int, headers: dict) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for _ in range(2):  # the warm-up request and one more, their queries counted, neither timed
        with CaptureQueriesContext(connection) as captured:
            answer = client.get(case.url, **headers)
        counts.append(len(captured))
    # The smaller count is the page's own: a request may also make a periodic read that falls due
    # during it (the settings' version check, every SITECONFIG_CHECK_SECONDS), on either data set.
    case.status, case.queries = answer.status_code, min(counts)
    case.upstream = case.status in (502, 503, 504) and answer.get("Content-Type", "").startswith("application/json")
    spent = 0.0
    while len(case.times) < requests and (len(case.times) < MIN_REQUESTS or spent < CASE_BUDGET_SECONDS):
        started = time.perf_counter()
        client.get(case.url, **headers)
        elapsed = time.perf_counter() - started
        spent += elapsed
        case.times.append(elapsed * 1000)


def collect(requests: int, only: str | None, timed: bool = True) -> list[Case]:
    """Sign in as Admin, find the cases, measure each (only its query count unless ``timed``)."""
    from django.contrib.auth.models import Group
    from django.core.cache import cache
    from django.core.management import call_command
    from django.test import Client

    from accounts import services
    from accounts.models import User
    from accounts.roles import ADMIN

    cache.clear()  # the bench's own Redis database: nothing from the other data set's run
    try:  # the hourly wallet check, whose stored result the payment reports page reads
        call_command("check_wallets", stdout=io.StringIO())
    except SystemExit:  # some differ: listed on the page, as in production
        pass
    admin = User.objects.filter(username="amani").first() or User.objects.create(username="amani")
    admin.groups.set([Group.objects.get(name=ADMIN)])
    client = Client(raise_request_exception=False)  # a page that fails is a 500 in the table, not the end
    client.force_login(admin)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {services.issue_token(admin)[0]}"}
    n = needles()
    found = [Case(name, url) for name, url in searches(n) + page_cases(client, n) + api_cases(n)
             if not only or only in name or only in url]
    seen, cases = set(), []
    for case in found:  # a name twice (a select offered twice on a page): the first
        if case.name not in seen:
            seen.add(case.name)
            cases.append(case)
    if timed:
        print(f"{len(cases)} cases, up to {requests} timed requests each after a warm-up; target p95 < "
              f"{TARGET_MS:g} ms; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} (2 cores)",
              flush=True)
    # As config/wsgi.py does after start-up: the loaded app's objects out of the cyclic collector's walks.
    gc.collect()
    gc.freeze()
    started = time.perf_counter()
    for i, case in enumerate(cases, 1):
        measure(case, client, requests if timed else 0, bearer if case.url.startswith("/api/") else {})
        if timed and i % 25 == 0:
            print(f"  {i} of {len(cases)} cases measured ({time.perf_counter() - started:.0f} s)", flush=True)
    return cases


def small_counts(args) -> dict:
    """Each case's query count on the demo-sized data set, from a second process."""
    command = [sys.executable, __file__, "--counts", "--scale", str(SMALL_SCALE)] + (["--keep"] if args.keep else [])
    if args.only:
        command += ["--only", args.only]
    done = subprocess.run(command, cwd=ROOT, env=os.environ, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"The small data set's run failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(cases: list[Case]) -> bool:
    timed = [c for c in cases if c.status in ANSWERED]
    others = [c for c in cases if c.status not in ANSWERED]
    timed.sort(key=lambda c: (c.fast and c.flat, -c.p(0.95)))
    width = max(len(c.name) for c in timed) if timed else 20
    print(f"\n{'case':<{width}} {'n':>3} {'p50 ms':>8} {'p95 ms':>8} {'queries':>7} {'small':>5}  result")
    for c in timed:
        verdict = "PASS" if c.fast and c.flat else "FAIL" + (" (slow)" if not c.fast else "") + (
            " (queries)" if not c.flat else "")
        small = "-" if c.small is None else str(c.small)
        print(f"{c.name:<{width}} {len(c.times):>3} {c.p(0.5):>8.0f} {c.p(0.95):>8.0f} {c.queries:>7} {small:>5}  "
              f"{verdict}\n    {c.url}" if not (c.fast and c.flat) else
              f"{c.name:<{width}} {len(c.times):>3} {c.p(0.5):>8.0f} {c.p(0.95):>8.0f} {c.queries:>7} {small:>5}  "
              f"{verdict}")
    failing = [c for c in timed if not (c.fast and c.flat)]
    errors = [c for c in others if c.status >= 500 and not c.upstream]
    print(f"\n{len(timed) - len(failing)} of {len(timed)} cases PASS, {len(failing)} FAIL "
          f"({sum(not c.fast for c in failing)} slow, {sum(not c.flat for c in failing)} with another query count); "
          f"not timed (no 200 for a GET): {len(others)}"
          + (f", of which server errors: {', '.join(f'{c.name} ({c.status})' for c in errors)}" if errors else ""))
    return not failing and not errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--keep", action="store_true", help="keep the databases, and reuse those a --keep run left")
    parser.add_argument("--only", help="only the cases whose name or URL holds this")
    parser.add_argument("--name", default=NAME, help="the database of the data set at --scale")
    parser.add_argument("--no-refresh", action="store_true", help="a kept database's rollups as they are")
    parser.add_argument("--counts", action="store_true", help=argparse.SUPPRESS)  # the small data set's process
    args = parser.parse_args()
    started = time.perf_counter()
    if args.counts:
        with dataset(SMALL_NAME, args.scale, keep=args.keep):
            cases = collect(0, args.only, timed=False)
        print(json.dumps({c.name: c.queries for c in cases if c.status in ANSWERED}))
        return
    print("Query counts on the demo-sized data set (scale 0.001) ...", flush=True)
    small = small_counts(args)
    with dataset(args.name, args.scale, keep=args.keep, refresh=not args.no_refresh):
        print(f"Ready after {time.perf_counter() - started:.0f} s", flush=True)
        cases = collect(args.requests, args.only)
    for case in cases:
        case.small = small.get(case.name)
    ok = report(cases)
    print(f"\nTotal {time.perf_counter() - started:.0f} s")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
