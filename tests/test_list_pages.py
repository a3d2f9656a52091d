"""Every list page keeps every filter across its pages, and every list page is in this module's table.

The table (LISTS) names each list page with a filter combination that uses every filter the page has
and a maker of rows: one page and one row more that all match the filters, and rows that each miss
one filter. Page 1 asked for with the filters must link to a page 2 that keeps every filter, and
page 2 (as a page, and as the HTMX results partial) must still hold only matching rows. Each page is
asked for as an admin, who may see every list. The walk over the URL configuration finds the pages that
lib.listing.list_page renders (their context has ``filtering``): a list page added later without a
row in the table fails here.
"""
import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import Group
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter
from django.utils import timezone

from accounts.models import User
from accounts.roles import ADMIN, ROLES
from audit.models import Entry, LogRecord
from billing.models import Expense, Invoice, LedgerEntry, MpesaCallback, Payment
from hotspot import services
from hotspot.models import Customer, Package, PackageGroup, Voucher, VoucherBatch
from monitoring.models import DatabaseBackup, TaskFailure
from radius.models import Nas, RadAcct, RadCheck, RadPostAuth
from routers.models import AccessPoint, Router, RouterService, RouterVpnConfig

pytestmark = pytest.mark.django_db

PER_PAGE = 50


# The date filters' days, read when each test runs: a value taken at collection turns stale when the
# suite crosses midnight in the business time zone (21:00 UTC in Nairobi) between the two.
def yesterday(made) -> str:
    return str(timezone.localdate() - timedelta(days=1))


def today(made) -> str:
    return str(timezone.localdate())


@dataclass(frozen=True)
class Made:
    """What a row maker made: the URL's arguments and the rows a filter names (a router, a group),
    and the rows that must never be listed (as the page's rows are: a model row, or a plain value
    for a list of values)."""
    kwargs: dict = field(default_factory=dict)
    outsiders: tuple = ()


@dataclass(frozen=True)
class ListCase:
    url_name: str
    filters: dict[str, str | Callable[[Made], str]]
    make: Callable[[int], Made]
    per_page: int = PER_PAGE
    # Filter fields a page has that no row set of page size can share (an id picking one row).
    single_row_filters: frozenset = frozenset()


def _package(name="Daily 1GB") -> Package:
    return services.save_package(Package(name=name, price=50, validity_minutes=1440, rate_limit="2M/5M"))


def _customers(n: int, name: str, **fields) -> list[Customer]:
    return Customer.objects.bulk_create(Customer(name=f"{name} {i}", **fields) for i in range(n))


def _customer(name: str, **fields) -> Customer:
    return Customer.objects.create(name=name, **fields)


# The row makers: n rows that match the case's filters, and outsiders that each miss one of them.

def customers(kind=None):
    other = {"hotspot": "pppoe", "pppoe": "hotspot"}

    def make(n):
        typed = {"service_type": kind} if kind else {}
        _customers(n, "Amina", status="active", **typed)
        outsiders = [_customer("Amina inactive", status="inactive", **typed), _customer("Baraka", **typed)]
        if kind:
            outsiders.append(_customer("Amina other service", service_type=other[kind]))
        return Made(outsiders=tuple(outsiders))
    return make


def packages(n):
    hourly, home = PackageGroup.objects.bulk_create(PackageGroup(name=name) for name in ("Hourly", "Home fibre"))

    def shelved(count, group, start=0):
        return Package.objects.bulk_create(Package(name=f"Package {k}", group=group, price=50, validity_minutes=60)
                                           for k in range(start, start + count))
    shelved(n, hourly)
    return Made({"group": hourly.pk}, tuple(shelved(1, home, start=n)))


def package_groups(n):
    PackageGroup.objects.bulk_create(PackageGroup(name=f"Group {i}") for i in range(n))
    return Made()


def voucher_batches(n):
    package = _package()
    VoucherBatch.objects.bulk_create(VoucherBatch(package=package, count=1, valid_until=timezone.now()
                                                  + timedelta(days=90)) for _ in range(n))
    return Made()


def voucher_batch(n):
    package = _package()
    batch, other = (VoucherBatch.objects.create(package=package, count=n, valid_until=timezone.now()
                                                + timedelta(days=90)) for _ in range(2))
    Voucher.objects.bulk_create(Voucher(batch=batch, code=f"LIST{i:06d}") for i in range(n))
    return Made({"pk": batch.pk}, (Voucher.objects.create(batch=other, code="OTHERBATCH1"),))


def _payments(n, customer, **fields):
    values = {"amount": Decimal("50.00"), "method": Payment.Method.CASH, "status": Payment.Status.COMPLETED, **fields}
    return Payment.objects.bulk_create(Payment(customer=customer, **values) for _ in range(n))


def payments(n):
    amina = _customer("Amina Wanjiru")
    _payments(n, amina)
    outsiders = [
        *_payments(1, amina, status=Payment.Status.FAILED),
        *_payments(1, amina, method=Payment.Method.MPESA_STK),
        *_payments(1, amina, created_at=timezone.now() - timedelta(days=10)),
        *_payments(1, _customer("Amina elsewhere")),  # another customer of the same name
        *_payments(1, _customer("Baraka")),
    ]
    return Made({"customer": amina.pk}, tuple(outsiders))


def customer_payments(n):
    amina = _customer("Amina Wanjiru")
    _payments(n, amina)
    return Made({"pk": amina.pk}, tuple(_payments(1, _customer("Baraka"))))


def mpesa_transactions(n):
    def callbacks(count, **fields):
        values = {"kind": MpesaCallback.Kind.STK, "outcome": MpesaCallback.Outcome.CREDITED,
                  "body": '{"note": "listpaging"}', **fields}
        return MpesaCallback.objects.bulk_create(MpesaCallback(**values) for _ in range(count))
    callbacks(n)
    outsiders = [*callbacks(1, outcome=MpesaCallback.Outcome.FAILED),
                 *callbacks(1, kind=MpesaCallback.Kind.C2B_CONFIRMATION),
                 *callbacks(1, body='{"note": "elsewhere"}'),
                 *callbacks(1, received_at=timezone.now() - timedelta(days=10))]
    return Made({}, tuple(outsiders))


def invoices(n):
    package = _package()
    now = timezone.now()

    def issue(count, customer, status=Invoice.Status.OVERDUE):
        start = Invoice.objects.count()  # one invoice per customer and period: each its own month
        return Invoice.objects.bulk_create(
            Invoice(number=f"INV-{k:05d}", customer=customer, package=package, amount=Decimal("50.00"),
                    period_start=now - timedelta(days=30 * (k + 1)), period_end=now - timedelta(days=30 * k),
                    due_at=now, status=status)
            for k in range(start, start + count))
    amina = _customer("Amina Wanjiru")
    issue(n, amina)
    return Made({}, (*issue(1, amina, Invoice.Status.PAID), *issue(1, _customer("Baraka"))))


def wallets(n):
    # ?show=all lists customers without a balance too, so the rows need no ledger.
    _customers(n, "Amina")
    return Made({}, (_customer("Baraka"),))


def wallet(n):
    amina, baraka = _customer("Amina"), _customer("Baraka")
    LedgerEntry.objects.bulk_create(LedgerEntry(customer=amina, amount=Decimal("10.00"),
                                                kind=LedgerEntry.Kind.ADJUSTMENT) for _ in range(n))
    other = LedgerEntry.objects.create(customer=baraka, amount=Decimal("10.00"), kind=LedgerEntry.Kind.ADJUSTMENT)
    return Made({"customer_id": amina.pk}, (other,))


def nas_devices(n):
    Nas.objects.bulk_create(Nas(nasname=f"10.1.{i // 250}.{i % 250 + 1}", shortname=f"kilimani-{i}", secret="s")
                            for i in range(n))
    return Made({}, (Nas.objects.create(nasname="10.2.0.1", shortname="rongai", secret="s"),))


def radius_users(n):
    RadCheck.objects.bulk_create(RadCheck(username=f"amina{i}", attribute="Cleartext-Password", op=":=",
                                          value="secret") for i in range(n))
    RadCheck.objects.create(username="baraka", attribute="Cleartext-Password", op=":=", value="secret")
    return Made({}, ("baraka",))


def _sessions(count, username, **fields):
    start = RadAcct.objects.count()
    return RadAcct.objects.bulk_create(
        RadAcct(acct_session_id=f"s{start + i}", acct_unique_id=f"u{start + i}", username=username,
                nas_ip_address="10.1.0.1", acct_start_time=timezone.now() - timedelta(minutes=i), **fields)
        for i in range(count))


def open_sessions(n):
    _sessions(n, "amina")
    closed = _sessions(1, "amina", acct_stop_time=timezone.now())
    return Made({}, (*closed, *_sessions(1, "baraka")))


def session_history(n):
    _sessions(n // 2, "amina")
    _sessions(n - n // 2, "amina", acct_stop_time=timezone.now())
    return Made({}, tuple(_sessions(1, "baraka")))


def auth_log(n):
    RadPostAuth.objects.bulk_create(RadPostAuth(username="amina", reply="Access-Accept") for _ in range(n))
    return Made({}, (RadPostAuth.objects.create(username="baraka", reply="Access-Accept"),))


def staff(n):
    User.objects.bulk_create(User(username=f"former{i}", is_active=False) for i in range(n))
    # The admin looking at the page is active: the filter leaves them out too.
    return Made({}, (User.objects.create(username="still-here"),))


def roles(n):
    # The four built-in roles are rows too: n rows in all.
    for i in range(n - len(ROLES)):
        Group.objects.create(name=f"Custom {i:02d}")
    return Made({}, ())


def _routers(n, name="Kilimani", **fields) -> list[Router]:
    return Router.objects.bulk_create(Router(name=f"{name} {i}", host=f"10.9.{i // 250}.{i % 250 + 1}", **fields)
                                      for i in range(n))


def routers(n):
    _routers(n, status=Router.Status.ONLINE)
    outsiders = [*_routers(1, "Kilimani offline", status=Router.Status.OFFLINE),
                 *_routers(1, "Rongai", status=Router.Status.ONLINE)]
    return Made({}, tuple(outsiders))


def _access_points(count, router, location="Block A", start=0):
    return AccessPoint.objects.bulk_create(
        AccessPoint(router=router, name=f"AP {start + i}", location=location,
                    mac_address=f"AA:BB:CC:00:{(start + i) // 256:02X}:{(start + i) % 256:02X}")
        for i in range(count))


def access_points(n):
    kilimani, rongai = _routers(2)
    _access_points(n, kilimani)
    outsiders = [*_access_points(1, rongai, start=n), *_access_points(1, kilimani, "Block B", start=n + 1)]
    return Made({"router": kilimani.pk}, tuple(outsiders))


def expenses(n):
    kilimani, rongai = _routers(2)
    today = timezone.localdate()

    def spent(count, router=kilimani, category=Expense.Category.RENT, note="listpaging rent", day=today):
        return Expense.objects.bulk_create(Expense(date=day, category=category, amount=Decimal("100.00"),
                                                   router=router, note=note) for _ in range(count))
    spent(n)
    outsiders = [*spent(1, router=rongai), *spent(1, category=Expense.Category.POWER), *spent(1, note="other"),
                 *spent(1, day=today - timedelta(days=10))]
    return Made({"router": kilimani.pk}, tuple(outsiders))


def router_services(n):
    kilimani, rongai = _routers(2)

    def found(count, router, kind=RouterService.Kind.HOTSPOT):
        return RouterService.objects.bulk_create(RouterService(router=router, kind=kind, name=f"hotspot{i}")
                                                 for i in range(count))
    found(n, kilimani)
    return Made({"router": kilimani.pk}, (*found(1, rongai), *found(1, kilimani, RouterService.Kind.PPPOE)))


_simulated = []  # routers a maker started; stopped after each test (stop_simulated_routers)


@pytest.fixture(autouse=True)
def stop_simulated_routers():
    yield
    while _simulated:
        _simulated.pop().stop()


def online_now(kind="hotspot"):
    """n sessions of amina-<i> (a customer each, on the Daily plan) on one router; outsiders: the same
    on a second router, another kind, no plan, another plan, a name the search misses."""
    def make(n):
        from hotspot.models import Subscription
        from routers.routeros_simulator import RouterOSSimulator

        sim = RouterOSSimulator(password="p").start()
        _simulated.append(sim)
        kilimani, rongai = (Router.objects.create(name=name, host="127.0.0.1", api_port=sim.port, api_password="p")
                            for name in ("Kilimani", "Rongai"))
        daily, weekly = _package("Daily"), _package("Weekly")
        names = [f"amina-{i}" for i in range(n)] + ["amina-noplan", "amina-weekly", "baraka"]
        customers = {c.username: c for c in Customer.objects.bulk_create(Customer(username=u) for u in names)}
        Subscription.objects.bulk_create(
            Subscription(customer=c, package=weekly if u == "amina-weekly" else daily, status="active",
                         starts_at=timezone.now(), expires_at=timezone.now() + timedelta(days=1))
            for u, c in customers.items() if u != "amina-noplan")
        login = sim.login_hotspot if kind == "hotspot" else sim.login_ppp
        other = sim.login_ppp if kind == "hotspot" else sim.login_hotspot
        first = [login(name) for name in names[:n]][0]
        outsiders = [(kilimani.pk, kind, login(name)) for name in names[n:]]
        outsiders.append((kilimani.pk, "pppoe" if kind == "hotspot" else "hotspot", other("amina-0")))
        outsiders.append((rongai.pk, kind, first))  # the same simulated router under another row
        return Made({"router": kilimani.pk, "package": daily.pk}, tuple(outsiders))
    return make


def vpn_tunnels(n):
    RouterVpnConfig.objects.bulk_create(
        RouterVpnConfig(router=router, private_key="k", public_key=f"{i:043d}=",
                        tunnel_address=f"10.8.{i // 250}.{i % 250 + 2}", api_username="hotspot-api", api_password="p")
        for i, router in enumerate(_routers(n)))
    return Made()


def activity(n):
    def entries(count, **fields):
        values = {"actor_kind": "staff", "actor_id": "3", "actor_name": "amani", "action": "changed",
                  "object_type": "hotspot.package", "object_id": "7", "object_label": "Daily listpaging", **fields}
        return Entry.objects.bulk_create(Entry(**values) for _ in range(count))
    entries(n)
    outsiders = [*entries(1, actor_name="baraka", actor_id="4"), *entries(1, actor_kind="job"),
                 *entries(1, object_type="routers.router"), *entries(1, object_id="8"),
                 *entries(1, action="deleted"), *entries(1, object_label="Daily elsewhere"),
                 *entries(1, at=timezone.now() - timedelta(days=10))]
    return Made({}, tuple(outsiders))


def system_log(n):
    def records(count, **fields):
        values = {"level": 40, "logger": "billing.callbacks", "message": "listpaging refused", **fields}
        return LogRecord.objects.bulk_create(LogRecord(**values) for _ in range(count))
    records(n)
    outsiders = [*records(1, level=30), *records(1, logger="routers.polling"), *records(1, logger="billingx"),
                 *records(1, message="something else"), *records(1, at=timezone.now() - timedelta(days=10))]
    return Made({}, tuple(outsiders))


def failed_jobs(n):
    def failures(count, **fields):
        values = {"task_name": "billing.tasks.reconcile_payments", "exception": "ValueError: listpaging", **fields}
        return TaskFailure.objects.bulk_create(TaskFailure(**values) for _ in range(count))
    failures(n)
    outsiders = [*failures(1, task_name="routers.tasks.check_router_status"), *failures(1, state="dismissed")]
    return Made({}, tuple(outsiders))


def database_backups(n):
    DatabaseBackup.objects.bulk_create(DatabaseBackup(state="verified", file_name=f"hotspot-{i}.dump")
                                       for i in range(n))
    return Made()


def tickets(n):
    from monitoring.models import Ticket

    tess, other = User.objects.create(username="tess-tickets"), User.objects.create(username="otto-tickets")
    late = timezone.now() - timedelta(hours=1)
    made = iter(range(10_000))

    def opened(count, subject="listpaging: paid, no internet", **fields):
        values = {"status": "open", "category": "payment", "priority": "high", "assignee": tess, "due_at": late,
                  **fields}
        return Ticket.objects.bulk_create(Ticket(number=f"T-2026-{next(made):05d}", subject=subject, **values)
                                          for _ in range(count))
    opened(n)
    return Made({"assignee": tess.pk}, (*opened(1, subject="something else"), *opened(1, status="resolved"),
                                        *opened(1, category="billing"), *opened(1, priority="low"),
                                        *opened(1, assignee=other),
                                        *opened(1, due_at=timezone.now() + timedelta(hours=1))))


def inbound_sms(n):
    from monitoring.models import InboundSms

    def received(count, **fields):
        values = {"status": "unmatched", "sender": "254712000111", "text": "listpaging: still down", **fields}
        return InboundSms.objects.bulk_create(InboundSms(**values) for _ in range(count))
    received(n)
    return Made({}, (*received(1, text="something else"), *received(1, status="attached")))


def incidents(n):
    from monitoring.models import Incident

    def made(count, kind="router_offline", **fields):
        return Incident.objects.bulk_create(Incident(kind=kind, subject=f"{kind}:{fields.get('resolved_at')}:{i}",
                                                     label=f"Router {i}", **fields) for i in range(count))
    made(n)
    outsiders = [*made(1, resolved_at=timezone.now()), *made(1, kind="disk_low")]
    return Made({}, tuple(outsiders))


def chosen(name: str) -> Callable[[Made], str]:
    """A filter whose value is a row the maker made (a router, a customer)."""
    return lambda made: str(made.kwargs[name])


LISTS = [
    ListCase("customer-list", {"q": "Amina", "status": "active"}, customers()),
    ListCase("customer-hotspot", {"q": "Amina", "status": "active"}, customers("hotspot")),
    ListCase("customer-pppoe", {"q": "Amina", "status": "active"}, customers("pppoe")),
    ListCase("package-list", {"group": chosen("group")}, packages),
    ListCase("package-groups", {}, package_groups),
    ListCase("voucher-batches", {}, voucher_batches, per_page=30),
    ListCase("voucher-batch", {}, voucher_batch, per_page=100),
    ListCase("payment-list", {"q": "Amina Wanjiru", "status": "completed", "method": "cash",
                              "customer": chosen("customer"), "from": yesterday,
                              "to": today}, payments),
    ListCase("customer-payments", {}, customer_payments),
    ListCase("mpesa-transactions", {"q": "listpaging", "kind": "stk", "outcome": "credited",
                                    "from": yesterday, "to": today}, mpesa_transactions,
             single_row_filters=frozenset({"id"})),
    ListCase("invoice-list", {"q": "Amina Wanjiru", "status": "overdue"}, invoices),
    ListCase("expense-list", {"q": "listpaging", "category": "rent", "router": chosen("router"),
                              "from": yesterday, "to": today}, expenses),
    ListCase("wallet-list", {"q": "Amina", "show": "all"}, wallets),
    ListCase("wallet-detail", {}, wallet),
    ListCase("radius-nas", {"q": "kilimani"}, nas_devices),
    ListCase("radius-users", {"q": "amina"}, radius_users),
    ListCase("radius-sessions", {"q": "amina"}, open_sessions),
    ListCase("radius-session-history", {"q": "amina"}, session_history),
    ListCase("radius-auth-log", {"q": "amina"}, auth_log),
    ListCase("staff-list", {"show": "inactive"}, staff),
    ListCase("role-list", {}, roles),
    ListCase("router-list", {"q": "Kilimani", "status": "online"}, routers),
    ListCase("access-point-list", {"q": "Block A", "router": chosen("router")}, access_points),
    ListCase("router-services", {"router": chosen("router"), "kind": "hotspot"}, router_services),
    ListCase("live-sessions", {"q": "amina", "router": chosen("router"), "kind": "hotspot",
                               "package": chosen("package")}, online_now()),
    ListCase("pppoe-sessions", {"q": "amina", "router": chosen("router"), "kind": "pppoe",
                                "package": chosen("package")}, online_now("pppoe")),
    ListCase("vpn-overview", {}, vpn_tunnels),
    ListCase("activity-list", {"q": "listpaging", "actor": "amani", "actor_kind": "staff",
                               "object_type": "hotspot.package", "object_id": "7", "action": "changed",
                               "from": yesterday, "to": today}, activity),
    ListCase("system-log", {"q": "listpaging", "level": "40", "logger": "billing",
                            "from": yesterday, "to": today}, system_log),
    ListCase("alerts", {"state": "open", "kind": "router_offline"}, incidents),
    ListCase("failed-jobs", {"task": "billing.tasks", "state": "failed"}, failed_jobs),
    ListCase("backup-list", {}, database_backups),
    # "mine" is the signed-in admin, made after the rows: the assignee filter stands for it here.
    ListCase("ticket-list", {"q": "listpaging", "status": "open", "assignee": chosen("assignee"),
                             "category": "payment", "priority": "high", "overdue": "on"}, tickets,
             single_row_filters=frozenset({"mine"})),
    ListCase("ticket-sms", {"q": "listpaging", "status": "unmatched"}, inbound_sms),
]


def _filters(case: ListCase, made: Made) -> dict[str, str]:
    return {key: value(made) if callable(value) else value for key, value in case.filters.items()}


def _url_kwargs(case: ListCase, made: Made) -> dict:
    """The maker's kwargs that are the URL's (the rest are filter values)."""
    return {key: value for key, value in made.kwargs.items() if key not in case.filters}


def _link(content: str, page: int) -> str:
    found = re.findall(r'href="([^"]*)"', content)
    links = [html.unescape(href) for href in found if parse_qs(urlsplit(html.unescape(href)).query).get("page")
             == [str(page)]]
    assert links, f"no link to page {page}"
    return links[0]


def _keys(rows) -> set:
    return {getattr(row, "pk", row) for row in rows}


@pytest.mark.parametrize("case", LISTS, ids=[case.url_name for case in LISTS])
def test_page_two_of_a_filtered_list_keeps_every_filter(case, signed_in):
    made = case.make(case.per_page + 1)
    filters = _filters(case, made)
    path = reverse(case.url_name, kwargs=_url_kwargs(case, made))
    browser = signed_in(ADMIN)

    first = browser.get(path, filters)
    assert first.status_code == 200 and "filtering" in first.context, "not rendered by lib.listing.list_page"
    page = first.context["page"]
    assert (page.paginator.per_page, page.paginator.count) == (case.per_page, case.per_page + 1)
    form = first.context.get("filters")
    if form is not None:  # the table uses every filter the page has
        assert set(form.fields) - case.single_row_filters <= set(filters)

    following = _link(first.content.decode(), 2)
    assert {key: values[0] for key, values in parse_qs(urlsplit(following).query).items()} == {**filters, "page": "2"}
    second = browser.get(path + following)
    assert second.context["page"].number == 2 and len(second.context["page"]) == 1
    assert f"{case.per_page + 1} in all" in second.content.decode()
    assert not _keys(made.outsiders) & (_keys(page) | _keys(second.context["page"]))

    back = _link(second.content.decode(), 1)
    assert {key: values[0] for key, values in parse_qs(urlsplit(back).query).items()} == {**filters, "page": "1"}

    swapped = browser.get(path + following, HTTP_HX_REQUEST="true").content.decode()  # the search box's request
    assert "<html" not in swapped and f"{case.per_page + 1} in all" in swapped


def test_page_two_of_a_filtered_customer_list_keeps_every_filter(signed_in):
    """The list's pages keep ?status= and ?q= (the shared pagination kept only ?q= before)."""
    for n in range(55):
        services.create_customer(f"07110{n:05d}", name=f"Amina {n}")
    services.create_customer("0722000001", name="Amina elsewhere")
    Customer.objects.filter(phone="254722000001").update(status=Customer.Status.INACTIVE)
    client = signed_in("support")
    first = client.get("/customers/?status=active&q=Amina").content.decode()
    assert 'href="?status=active&amp;q=Amina&amp;page=2"' in first
    second = client.get("/customers/?status=active&q=Amina&page=2").content.decode()
    assert "Page 2 of 2" in second and "Amina elsewhere" not in second
    assert 'href="?status=active&amp;q=Amina&amp;page=1"' in second


# The walk: which pages does list_page render? An int in the URL is filled with a row of the model
# its prefix names (the longest prefix wins); other arguments are not guessed.
def _arguments():
    package = _package("Walk package")
    customer = _customer("Walk customer")
    router = Router.objects.create(name="Walk router", host="127.0.0.1", api_port=9)
    batch = VoucherBatch.objects.create(package=package, count=1, valid_until=timezone.now())
    return {
        "customers/": customer.pk,
        "wallet/": customer.pk,
        "packages/": package.pk,
        "vouchers/batches/": batch.pk,
        "vouchers/": Voucher.objects.create(batch=batch, code="WALK00001").pk,
        "payments/": _payments(1, customer)[0].pk,
        "invoices/": Invoice.objects.create(
            number="INV-WALK", customer=customer, package=package, amount=Decimal("50.00"), period_start=timezone.now(),
            period_end=timezone.now(), due_at=timezone.now()).pk,
        "staff/": User.objects.create(username="walk-staff").pk,
        "radius/sessions/": _sessions(1, "walk")[0].pk,
        "routers/access-points/": _access_points(1, router, start=999)[0].pk,
        "routers/": router.pk,
    }


def _patterns(resolvers, prefix=""):
    for entry in resolvers:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _patterns(entry.url_patterns, route)
        elif isinstance(entry, URLPattern) and entry.name:
            yield route, entry


def _walkable(arguments):
    """(URL name, path) of every page the walk can reach without guessing."""
    for route, entry in _patterns(get_resolver().url_patterns):
        if route.startswith("api/"):
            continue  # the JSON API: its lists page through lib's page(), not list_page
        converters = entry.pattern.converters
        if not converters:
            yield entry.name, reverse(entry.name)
            continue
        owner = max((p for p in arguments if route.startswith(p)), key=len, default=None)
        (argument, converter), *more = converters.items()
        if owner and not more and isinstance(converter, IntConverter):
            yield entry.name, reverse(entry.name, kwargs={argument: arguments[owner]})


def test_every_list_page_is_in_the_table(signed_in):
    browser = signed_in(ADMIN)  # a GET never signs out (logout/ takes a POST only)
    listed = set()
    for name, path in _walkable(_arguments()):
        response = browser.get(path)
        if response.context is not None and "filtering" in response.context:
            listed.add(name)
    assert listed == {case.url_name for case in LISTS}, "each list page needs its row in LISTS"


@pytest.mark.django_db
def test_a_list_counted_up_to_a_cap_says_more_than_and_still_pages(signed_in):
    """The activity list counts at most 10,000 entries (millions would cost more than the page)."""
    activity(10_001)
    client = signed_in("Admin")
    first = client.get(reverse("activity-list")).content.decode()
    assert "more than 10000 in all" in first and "page=2" in first
    assert "Page 2 · more than 10000" in client.get(reverse("activity-list"), {"page": 2}).content.decode()
