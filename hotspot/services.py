"""Hotspot workflows: customers and packages (each package's RADIUS policy follows it)."""
import re
from decimal import Decimal

from django.db import transaction
from django.db.models import ProtectedError

from config import live
from radius import services as radius

from .models import Customer, Package, ServiceType
from .phone import normalise_phone


@transaction.atomic
def create_customer(phone: str, name: str = "", service_type: str = ServiceType.HOTSPOT) -> Customer:
    customer = Customer.objects.create(phone=normalise_phone(phone), name=name, service_type=service_type)
    live.publish(live.ADMIN, "customer.created", {"id": customer.pk})
    return customer


# --- packages ---------------------------------------------------------------------------------------

RATE_LIMIT = re.compile(r"^\d+(\.\d+)?[kKmMgG]?/\d+(\.\d+)?[kKmMgG]?( [\w./ -]+)?$")
MINUTES = {"minutes": 1, "hours": 60, "days": 1440, "months": 43200}
MAX_VALIDITY_MINUTES = 10_000_000
# Routers report every five minutes; quotas and stale-session sweeps count on it.
INTERIM_INTERVAL = 300


class PackageError(ValueError):
    """A package change that is refused, with the reason for the person who asked."""


def check_rate_limit(value: str) -> str:
    value = (value or "").strip()
    if value and not RATE_LIMIT.match(value):
        raise PackageError(f'"{value}" is not a MikroTik rate limit: use upload/download such as 2M/5M')
    return value


def _sync_policy(package: Package) -> None:
    radius.set_group_policy(
        package.radius_group,
        rate_limit=package.rate_limit or None,
        total_bytes=package.data_limit_mb * 2**20 if package.data_limit_mb else None,
        shared_users=package.devices,
        interim_interval=INTERIM_INTERVAL,
    )


@transaction.atomic
def save_package(package: Package) -> Package:
    """Create or change a package and, in the same transaction, its RADIUS group policy."""
    package.rate_limit = check_rate_limit(package.rate_limit)
    if package.price is None or package.price < 0:
        raise PackageError("The price cannot be negative.")
    package.price = Decimal(package.price).quantize(Decimal("0.01"))
    if not package.validity_minutes or package.validity_minutes > MAX_VALIDITY_MINUTES:
        raise PackageError("A package lasts from a minute to about 19 years.")
    if package.devices < 1:
        raise PackageError("A package allows at least one device.")
    package.save()
    _sync_policy(package)
    live.publish(live.ADMIN, "package.changed", {"id": package.pk})
    return package


@transaction.atomic
def set_package_active(package: Package, active: bool) -> Package:
    """Inactive packages leave the portal; who already bought one keeps it."""
    Package.objects.filter(pk=package.pk).update(is_active=active)
    package.is_active = active
    live.publish(live.ADMIN, "package.changed", {"id": package.pk})
    return package


@transaction.atomic
def delete_package(package: Package) -> None:
    sold = PackageError(f"{package.name} has been sold: deactivate it instead, so its history stays.")
    if package.subscriptions.exists():
        raise sold
    group = package.radius_group
    try:
        package.delete()
    except ProtectedError:  # sold while we were deleting
        raise sold from None
    radius.delete_group_policy(group)
    live.publish(live.ADMIN, "package.changed", {"id": None})
