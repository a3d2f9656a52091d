"""Demo catalogue, customers, six months of their purchases and voucher batches, for the quick start.

Each customer's purchases are planned as one timeline that never overlaps itself. What is over
(everything but each customer's last purchase, and that one too when it ended more than a day
ago) is history, written in bulk as records. What still counts now (access, grace, queued time,
a recent expiry) is bought through the payment path by billing.demo, so the RADIUS rows, the
queue and the sweeps are the production ones; vouchers are made and redeemed by hotspot.vouchers."""
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import F

from . import subscriptions, vouchers
from .credentials import new_password, new_username
from .models import (
    AfterAllowance,
    Customer,
    Package,
    PackageGroup,
    PackageKind,
    ServiceType,
    Subscription,
    Voucher,
    VoucherBatch,
)
from .services import create_customer, save_package

DEMO_PACKAGES = [
    # name, type, price, minutes, rate limit, devices, weight of demand
    ("1 Hour", ServiceType.HOTSPOT, "10", 60, "2M/2M", 1, 30),
    ("3 Hours", ServiceType.HOTSPOT, "20", 180, "2M/3M", 1, 22),
    ("Daily", ServiceType.HOTSPOT, "50", 1440, "3M/5M", 1, 25),
    ("Weekly", ServiceType.HOTSPOT, "250", 10080, "3M/5M", 2, 10),
    ("Monthly Hotspot", ServiceType.HOTSPOT, "800", 43200, "5M/8M", 2, 5),
    ("Home 5 Mbps", ServiceType.PPPOE, "1500", 43200, "5M/5M", 5, 4),
    ("Home 10 Mbps", ServiceType.PPPOE, "2500", 43200, "10M/10M", 8, 4),
]
# Fair use (issue 20) on the month-long hotspot plan: 60 GB at full speed, then slowed rather than
# cut off, and 5 GB a day; the rest of the catalogue keeps no allowance.
DEMO_FAIR_USE = {"Monthly Hotspot": {"data_limit_mb": 60 * 1024, "daily_data_limit_mb": 5 * 1024,
                                     "after_allowance": AfterAllowance.THROTTLE, "fup_rate_limit": "1M/1M"}}
# Boosts for it (a fair-use customer buys one from the account page): 2 GB more for the rest of the
# plan, or full speed for 3 hours.
DEMO_BOOSTS = [("Boost 2 GB", "100", 43200, 2 * 1024), ("Full speed 3 hours", "30", 180, None)]
FIRST_NAMES = ["Wanjiru", "Otieno", "Akinyi", "Kamau", "Mwangi", "Njeri", "Kiprop", "Chebet", "Omondi",
               "Wambui", "Mutua", "Achieng", "Kibet", "Nyambura", "Odhiambo", "Wairimu", "Barasa",
               "Muthoni", "Onyango", "Jepkosgei", "Hassan", "Amina", "Juma", "Zawadi", "Baraka"]
LAST_NAMES = ["Kariuki", "Ouma", "Njoroge", "Wekesa", "Mutiso", "Kiptoo", "Odera", "Gitau", "Maina",
              "Nyaga", "Korir", "Ndungu", "Mohamed", "Wafula", "Kilonzo"]
HISTORY_DAYS = 180
PPPOE_SHARE = 0.08
# A purchase that ended less than this long ago is still the customer's story (grace, a fresh
# expiry the sweep handles): it goes through the services, not into the records.
LIVE_WINDOW = timedelta(days=1)
GRACE_CUSTOMERS = 3
# (package name, prefix, codes, codes redeemed, codes revoked)
VOUCHERS_VALID_DAYS = 90
DEMO_VOUCHER_BATCHES = [("1 Hour", "HR", 40, 14, 2), ("Daily", "DAY", 25, 8, 1)]


DEMO_GROUPS = ["Hourly & daily", "Weekly & monthly", "Home internet (PPPoE)"]


def seed_catalogue() -> list[Package]:
    groups = [PackageGroup.objects.get_or_create(name=name, defaults={"display_order": index})[0]
              for index, name in enumerate(DEMO_GROUPS)]
    packages = []
    for order, (name, kind, price, minutes, rate, devices, _) in enumerate(DEMO_PACKAGES):
        package = Package.objects.filter(name=name).first()
        if package is None:
            group = groups[2] if kind == ServiceType.PPPOE else groups[0] if minutes <= 1440 else groups[1]
            package = save_package(Package(
                name=name, group=group, service_type=kind, price=Decimal(price), validity_minutes=minutes,
                rate_limit=rate, devices=devices, display_order=order, grace_minutes=30 if minutes >= 1440 else 0,
                **DEMO_FAIR_USE.get(name, {})))
        packages.append(package)
    for name, price, minutes, extra_mb in DEMO_BOOSTS:
        if not Package.objects.filter(name=name).exists():
            save_package(Package(name=name, group=groups[1], kind=PackageKind.BOOST, price=Decimal(price),
                                 validity_minutes=minutes, data_limit_mb=extra_mb, display_order=len(DEMO_PACKAGES)))
    return packages


@dataclass
class Purchase:
    package: Package
    starts_at: datetime
    source: str = ""  # how it was paid (billing.demo decides)

    @property
    def expires_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.package.validity_minutes)


@dataclass
class Plan:
    """One demo customer: who they are and their purchases, oldest first, none overlapping."""
    phone: str
    name: str
    service_type: str
    joined: datetime
    history: list[Purchase] = field(default_factory=list)
    live: list[Purchase] = field(default_factory=list)  # bought through the services
    customer: Customer | None = None


def plan_customers(now: datetime, rng: random.Random, customers: int = 240) -> list[Plan]:
    """Who the demo's customers are and what each bought when (nothing written yet)."""
    packages = {package.name: package for package in Package.objects.filter(name__in=[p[0] for p in DEMO_PACKAGES])}
    hotspot = [(packages[row[0]], row[6]) for row in DEMO_PACKAGES if row[1] == ServiceType.HOTSPOT]
    homes = [packages[row[0]] for row in DEMO_PACKAGES if row[1] == ServiceType.PPPOE]
    plans, in_grace = [], 0
    for number in rng.sample(range(10_000_000, 99_999_999), customers):
        pppoe = rng.random() < PPPOE_SHARE
        # The business grows over the half year: more customers joined lately.
        joined = now - timedelta(days=HISTORY_DAYS * rng.random() ** 1.4, minutes=rng.randint(0, 1439))
        plan = Plan(phone=f"2547{number:08d}", name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                    service_type=ServiceType.PPPOE if pppoe else ServiceType.HOTSPOT, joined=joined)
        purchases = _pppoe_months(joined, now, rng, rng.choice(homes)) if pppoe else _hotspot_visits(
            joined, now, rng, hotspot)
        # The last purchase, if it still counts, is bought live (a PPPoE customer's by paying the
        # invoice of the month before, billing.demo).
        keep = 1
        if not pppoe and in_grace < GRACE_CUSTOMERS and _just_ran_out(purchases, now, rng):
            in_grace += 1
        if purchases and purchases[-1].expires_at > now - LIVE_WINDOW:
            plan.history, plan.live = purchases[:-keep], purchases[-keep:]
        else:
            plan.history = purchases
        plans.append(plan)
    return plans


def _just_ran_out(purchases: list[Purchase], now: datetime, rng: random.Random) -> bool:
    """Make the last purchase (a package with grace) one whose time ran out minutes ago, so the
    demo has customers in grace; False when it is not such a package or would overlap the one before."""
    last = purchases[-1] if purchases else None
    if last is None or not last.package.grace_minutes:
        return False
    starts_at = now - timedelta(minutes=last.package.validity_minutes + rng.randint(3, last.package.grace_minutes - 5))
    if len(purchases) > 1 and starts_at < purchases[-2].expires_at:
        return False
    last.starts_at = starts_at
    return True


def _hotspot_visits(joined, now, rng, packages) -> list[Purchase]:
    # Each customer has a habit: a favourite package and how many days pass between purchases.
    favourite = rng.choices([p for p, _ in packages], [w for _, w in packages])[0]
    gap_days = rng.uniform(1, 14)
    purchases, moment = [], joined
    while True:
        package = favourite if rng.random() < 0.6 else rng.choices([p for p, _ in packages],
                                                                    [w for _, w in packages])[0]
        if moment > now:
            return purchases
        purchases.append(Purchase(package, moment))
        moment = purchases[-1].expires_at + timedelta(days=rng.expovariate(1 / gap_days), minutes=rng.randint(1, 600))


def _pppoe_months(joined, now, rng, package) -> list[Purchase]:
    purchases, moment = [], joined
    while moment <= now:
        purchases.append(Purchase(package, moment))
        # Home customers renew on the day their invoice falls due, a few late (and one in ten leaves).
        if rng.random() < 0.1:
            break
        moment = purchases[-1].expires_at + (timedelta(days=rng.randint(1, 3)) if rng.random() < 0.2 else timedelta(
            minutes=rng.randint(10, 600)))
    return [p for p in purchases if p.starts_at <= now]


def create_customers(plans: list[Plan]) -> None:
    """Customers the live path meets (created as staff or a first purchase creates them); the rest,
    who only have history, in bulk with the same generated credentials."""
    records = []
    for plan in plans:
        if plan.live:
            plan.customer = create_customer(plan.phone, name=plan.name, service_type=plan.service_type)
            plan.customer.created_at = plan.joined
        else:
            plan.customer = Customer(phone=plan.phone, username=new_username(), password=new_password(),
                                     name=plan.name, service_type=plan.service_type, created_at=plan.joined)
            records.append(plan.customer)
    Customer.objects.bulk_create(records, batch_size=1000)
    Customer.objects.bulk_update([plan.customer for plan in plans if plan.live], ["created_at"], batch_size=500)


def write_history(plans: list[Plan]) -> list[Subscription]:
    """Every purchase that is over, as the expiry sweep left it: expired."""
    return Subscription.objects.bulk_create([
        Subscription(customer=plan.customer, package=purchase.package, starts_at=purchase.starts_at,
                     expires_at=purchase.expires_at, created_at=purchase.starts_at, source=purchase.source,
                     status=Subscription.Status.EXPIRED)
        for plan in plans for purchase in plan.history], batch_size=1000)


def date_back(ages: dict[int, timedelta], bought_since: datetime) -> None:
    """Move what customers bought through the services since ``bought_since`` back by their age
    (the payment path takes no clock of its own: billing.demo.date_back moves the money)."""
    for customer_id, age in ages.items():
        Subscription.objects.filter(customer_id=customer_id, created_at__gte=bought_since).update(
            starts_at=F("starts_at") - age, expires_at=F("expires_at") - age, created_at=F("created_at") - age)


def restore_running(customer_ids, now: datetime) -> int:
    """RADIUS access for the running subscriptions, written again from their (dated) rows."""
    running = (Subscription.objects.select_related("customer", "package")
               .filter(customer_id__in=customer_ids, status=Subscription.Status.ACTIVE, expires_at__gt=now))
    count = 0
    for subscription in running:
        subscriptions.restore_access(subscription)
        count += 1
    return count


def sweep(now: datetime) -> None:
    """What the beat's expiry and grace jobs would have done by now (each runs in batches)."""
    while any(vars(subscriptions.expire_due(now)).values()):
        pass
    while subscriptions.process_grace(now).expired:
        pass


def seed_vouchers(now: datetime, rng: random.Random, created_by: str) -> list[Voucher]:
    """Batches printed a fortnight ago; some codes redeemed since (as the portal redeems them,
    at the moment each was typed), a few revoked. Returns the redeemed vouchers."""
    redeemed = []
    for name, prefix, count, used, revoked in DEMO_VOUCHER_BATCHES:
        package = Package.objects.get(name=name)
        batch = vouchers.generate_batch(package, count, prefix=prefix, note="Sold at the shop counter",
                                        valid_days=VOUCHERS_VALID_DAYS, created_by=created_by)
        printed = now - timedelta(days=14, hours=rng.randint(0, 8))
        VoucherBatch.objects.filter(pk=batch.pk).update(
            created_at=printed, valid_until=printed + timedelta(days=VOUCHERS_VALID_DAYS))
        codes = list(batch.vouchers.order_by("code").values_list("code", flat=True))
        rng.shuffle(codes)
        # Redeemed in time order, the last ones recently enough to be running now.
        moments = sorted(now - timedelta(minutes=rng.randint(5, 13 * 1440)) for _ in range(used))
        moments[-3:] = sorted(now - timedelta(minutes=rng.randint(5, package.validity_minutes - 5)) for _ in range(3))
        for code, moment in zip(codes, moments, strict=False):
            mac = "-".join(f"{rng.randint(0, 255):02X}" for _ in range(6))
            vouchers.redeem(code, mac=mac, ip=f"10.5.{rng.randint(0, 3)}.{rng.randint(2, 250)}", now=moment)
        for code in codes[used:used + revoked]:
            vouchers.revoke(Voucher.objects.get(code=code))
        redeemed += list(batch.vouchers.filter(status=Voucher.Status.REDEEMED).select_related("subscription"))
    # A voucher's customer appears when the code is typed: their rows date from then.
    for voucher in redeemed:
        Customer.objects.filter(pk=voucher.customer_id).update(created_at=voucher.redeemed_at)
        Subscription.objects.filter(pk=voucher.subscription_id).update(created_at=voucher.redeemed_at)
    return redeemed
