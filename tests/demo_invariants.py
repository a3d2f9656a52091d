"""What must hold on the demo (``seed_demo``), as database checks: each returns the broken cases.

Imported by tests/test_demo_invariants.py on PostgreSQL; run as a script on the quick start's
configuration (SQLite, embedded defaults) it migrates, seeds and prints the problems as JSON."""
import json
import os
import sys
from collections import defaultdict
from datetime import UTC, datetime


def problems() -> dict[str, list]:
    """Every invariant by name, with what breaks it (empty lists when the demo tells the truth)."""
    return {check.__name__: check() for check in CHECKS}


def running_access_matches_the_subscription() -> list:
    """A running subscription's customer can sign in with their password, under the package's
    policy (the grace policy while in grace) until it ends; nobody else can sign in."""
    from django.utils import timezone

    from hotspot.models import Subscription
    from radius.models import RadCheck, RadUserGroup

    now = timezone.now()
    checks = defaultdict(dict)
    for username, attribute, value in RadCheck.objects.values_list("username", "attribute", "value"):
        checks[username][attribute] = value
    groups = dict(RadUserGroup.objects.values_list("username", "groupname"))
    broken = []
    # Access stays until the expiry sweep (every minute) takes it: an active row just past its end counts.
    entitled = set(Subscription.objects.filter(status__in=("active", "grace")).values_list(
        "customer__username", flat=True))
    running = Subscription.objects.select_related("customer", "package").filter(
        status__in=("active", "grace")).exclude(status="active", expires_at__lte=now)
    for sub in running:
        user = sub.customer.username
        group, until = (sub.package.radius_group, sub.expires_at) if sub.status == "active" else (
            "grace", sub.grace_until)
        found = checks.get(user, {})
        if (found.get("Cleartext-Password") != sub.customer.password or groups.get(user) != group
                or found.get("Expiration") != str(int(until.timestamp()))):
            broken.append((user, sub.status, str(sub.package), found, groups.get(user)))
    broken += [(user, "access without a running subscription") for user, found in checks.items()
               if "Cleartext-Password" in found and user not in entitled]
    return broken


def no_overlapping_subscriptions() -> list:
    """At most one running subscription per customer, and what is queued starts after it."""
    from hotspot.models import Subscription

    rows = defaultdict(list)
    for row in Subscription.objects.filter(status__in=("active", "grace", "pending")).order_by("starts_at").values(
            "customer__username", "status", "starts_at", "expires_at"):
        rows[row["customer__username"]].append(row)
    broken = []
    for user, subs in rows.items():
        if sum(sub["status"] != "pending" for sub in subs) > 1:
            broken.append((user, "two running"))
        broken += [(user, "overlap") for before, after in zip(subs, subs[1:], strict=False)
                   if after["starts_at"] < before["expires_at"]]
    return broken


def payments_match_what_they_paid_for() -> list:
    """A voucher payment has its voucher; a voucher subscription its redeemed code; a completed
    payment for a package its subscription of that package."""
    from billing.models import Payment
    from hotspot.models import Subscription, Voucher

    redeemed = set(Voucher.objects.filter(status="redeemed").values_list("subscription_id", flat=True))
    broken = [("voucher payment without its voucher", pk) for pk, sub in Payment.objects.filter(
        method="voucher").values_list("pk", "subscription_id") if sub not in redeemed]
    broken += [("voucher subscription without its voucher", pk) for pk in Subscription.objects.filter(
        source="voucher").values_list("pk", flat=True) if pk not in redeemed]
    broken += [("paid, no subscription", pk) for pk in Payment.objects.filter(
        status="completed", package__isnull=False, subscription__isnull=True).values_list("pk", flat=True)]
    if not redeemed:
        broken.append("no voucher was ever redeemed")
    return broken


def pppoe_packages_on_pppoe_customers_with_invoices() -> list:
    """PPPoE packages are sold to PPPoE customers only (and hotspot packages to the others); a
    PPPoE customer whose running month follows an earlier one paid its invoice for it."""
    from django.db.models import F

    from billing.models import Invoice
    from hotspot.models import Customer, Subscription

    broken = [("package and customer differ", pk) for pk in Subscription.objects.exclude(
        package__service_type=F("customer__service_type")).values_list("pk", flat=True)]
    broken += [("invoice of a hotspot customer", number) for number in Invoice.objects.exclude(
        customer__service_type="pppoe").values_list("number", flat=True)]
    pppoe = Customer.objects.filter(service_type="pppoe")
    renewed = pppoe.filter(subscriptions__status="active", subscriptions__source="invoice").distinct()
    broken += [("renewed without a paid invoice", c.username) for c in renewed if not c.invoices.filter(
        status="paid").exists()]
    if not pppoe.filter(subscriptions__status="active").exists() or not Invoice.objects.exists():
        broken.append("no running PPPoE customer, or no invoice")
    return broken


def sessions_are_entitled() -> list:
    """Open sessions belong to customers whose access runs, on a NAS FreeRADIUS knows; closed ones
    lie inside a subscription of theirs."""
    from hotspot.models import Subscription
    from radius.models import Nas, RadAcct, RadCheck

    entitled = set(RadCheck.objects.filter(attribute="Cleartext-Password").values_list("username", flat=True))
    nas = set(Nas.objects.values_list("nasname", flat=True))
    periods = defaultdict(list)
    for user, start, end in Subscription.objects.exclude(status="pending").values_list(
            "customer__username", "starts_at", "expires_at"):
        periods[user].append((start, end))
    broken = []
    for session in RadAcct.objects.all():
        user, start = session.username, session.acct_start_time
        if session.nas_ip_address not in nas:
            broken.append((user, "unknown NAS", session.nas_ip_address))
        if session.acct_stop_time is None and user not in entitled:
            broken.append((user, "online without access"))
        if session.acct_stop_time is not None and not any(
                s <= start and session.acct_stop_time <= e for s, e in periods[user]):
            broken.append((user, "session outside every subscription"))
    if not RadAcct.objects.filter(acct_stop_time__isnull=True).exists():
        broken.append("nobody online")
    return broken


def routers_carry_readable_secrets() -> list:
    """Each demo router has a RADIUS secret it can read, and its one NAS row holds it."""
    from lib.secrets import UnreadableSecret
    from radius.models import Nas
    from routers.models import Router

    broken = []
    for router in Router.objects.all():
        secret = router.radius_secret
        if isinstance(secret, UnreadableSecret) or not secret:
            broken.append((router.name, "no readable secret"))
        rows = list(Nas.objects.filter(nasname=router.host).values_list("secret", flat=True))
        if rows != [secret]:
            broken.append((router.name, router.host, "NAS rows", len(rows)))
    return broken


def wallets_never_negative() -> list:
    from django.db.models import Sum

    from billing.models import LedgerEntry

    return list(LedgerEntry.objects.values("customer__username").annotate(balance=Sum("amount"))
                .filter(balance__lt=0).values_list("customer__username", "balance"))


def stored_wallet_balances_equal_the_ledger() -> list:
    from billing import wallets

    return [(wrong.customer_id, str(wrong.stored), str(wrong.ledger)) for wrong in wallets.mismatches()]


CHECKS = [running_access_matches_the_subscription, no_overlapping_subscriptions, payments_match_what_they_paid_for,
          pppoe_packages_on_pppoe_customers_with_invoices, sessions_are_entitled, routers_carry_readable_secrets,
          wallets_never_negative, stored_wallet_balances_equal_the_ledger]


if __name__ == "__main__":  # the quick start's way: migrate, seed, check
    import io
    import time

    sys.path.insert(0, os.getcwd())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    started = time.process_time()
    call_command("seed_demo", stdout=io.StringIO())
    seconds = time.process_time() - started
    print(json.dumps({"vendor": connection.vendor, "seed_cpu_seconds": seconds, "problems": problems(),
                      "at": datetime.now(UTC).isoformat()}, default=str))
