"""Demo catalogue, customers and six months of purchase history for the quick start."""
import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from .credentials import new_password
from .models import Customer, Package, PackageGroup, ServiceType, Subscription
from .services import save_package

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
FIRST_NAMES = ["Wanjiru", "Otieno", "Akinyi", "Kamau", "Mwangi", "Njeri", "Kiprop", "Chebet", "Omondi",
               "Wambui", "Mutua", "Achieng", "Kibet", "Nyambura", "Odhiambo", "Wairimu", "Barasa",
               "Muthoni", "Onyango", "Jepkosgei", "Hassan", "Amina", "Juma", "Zawadi", "Baraka"]
LAST_NAMES = ["Kariuki", "Ouma", "Njoroge", "Wekesa", "Mutiso", "Kiptoo", "Odera", "Gitau", "Maina",
              "Nyaga", "Korir", "Ndungu", "Mohamed", "Wafula", "Kilonzo"]
HISTORY_DAYS = 180


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
                rate_limit=rate, devices=devices, display_order=order, grace_minutes=30 if minutes >= 1440 else 0))
        packages.append(package)
    return packages


def seed_customers_and_history(customers: int = 240, seed: int = 7) -> list[Subscription]:
    """Customers and their subscriptions over the last six months; nothing if any customer exists."""
    if Customer.objects.exists():
        return []
    rng = random.Random(seed)
    packages = seed_catalogue()
    weights = [row[6] for row in DEMO_PACKAGES]
    now = timezone.now()
    phones = rng.sample(range(10_000_000, 99_999_999), customers)
    people = Customer.objects.bulk_create([
        Customer(
            phone=f"2547{number:08d}", username=f"c{number:08d}", password=new_password(),
            name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            service_type=ServiceType.HOTSPOT,
            created_at=now - timedelta(days=rng.randint(1, HISTORY_DAYS)),
        )
        for number in phones
    ])
    subscriptions = []
    for day in range(HISTORY_DAYS, -1, -1):
        # Business grows over the half year: later days see more purchases.
        for _ in range(rng.randint(8, 14) + (HISTORY_DAYS - day) // 8):
            package = rng.choices(packages, weights)[0]
            start = now - timedelta(days=day, minutes=rng.randint(0, 24 * 60 - 1))
            if start > now:
                continue
            expires = start + timedelta(minutes=package.validity_minutes)
            subscriptions.append(Subscription(
                customer=rng.choice(people), package=package, starts_at=start, expires_at=expires,
                created_at=start,
                status=Subscription.Status.ACTIVE if expires > now else Subscription.Status.EXPIRED,
            ))
    return Subscription.objects.bulk_create(subscriptions, batch_size=1000)
