"""Hotspot workflows: customers, packages and their groups (each package's RADIUS policy follows it).

Each change writes its audit entry in its own transaction (audit.trail); the customer's RADIUS
password is never among an entry's fields."""
import hmac
import re
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from audit import trail
from audit.actors import Actor, acting_as
from lib import live
from radius import coa, sessions
from radius import services as radius
from siteconfig import store, time_zone

from . import credentials, fair_use, portal_page, pppoe
from .models import AfterAllowance, Customer, Package, PackageGroup, PackageKind, ServiceType
from .phone import normalise_phone
from .subscriptions import ensure_grace_policy, restore_access

# What a customer's history shows; the RADIUS password is left out on purpose (a secret).
CUSTOMER_FIELDS = ("phone", "name", "service_type", "notes", "email")


def _as_created(instance, fields) -> dict:
    """A new object's changes: each field that has a value, from nothing."""
    return {name: [None, value] for name, value in trail.snapshot(instance, fields).items()
            if value not in (None, "")}


class CustomerError(ValueError):
    """A customer change that is refused, with the reason for the person who asked."""


@transaction.atomic
def create_customer(phone: str, name: str = "", service_type: str = ServiceType.HOTSPOT, notes: str = "",
                    email: str = "") -> Customer:
    """A new customer with fresh RADIUS credentials; access comes with a subscription."""
    phone = normalise_phone(phone)
    if Customer.objects.filter(phone=phone).exists():
        raise CustomerError(f"A customer with the phone number {phone} exists already.")
    customer = Customer(phone=phone, name=name.strip(), service_type=service_type, notes=notes, email=email.strip(),
                        password=credentials.new_password())
    for _ in range(5):  # a clash in 27 billion usernames: draw again
        customer.username = credentials.new_username()
        if not Customer.objects.filter(username=customer.username).exists():
            break
    customer.save()
    trail.record("created", customer, changes=_as_created(customer, CUSTOMER_FIELDS))
    live.publish(live.ADMIN, "customer.created", {"id": customer.pk})
    return customer


@transaction.atomic
def update_customer(customer: Customer, *, name: str, notes: str, service_type: str, phone: str,
                    email: str | None = None) -> Customer:
    phone = normalise_phone(phone)
    if Customer.objects.filter(phone=phone).exclude(pk=customer.pk).exists():
        raise CustomerError(f"Another customer has the phone number {phone}.")
    before = trail.snapshot(customer, CUSTOMER_FIELDS)
    customer.phone, customer.name, customer.notes, customer.service_type = phone, name.strip(), notes, service_type
    if email is not None:
        customer.email = email.strip()
    customer.save(update_fields=["phone", "name", "notes", "service_type", "email"])
    changed = trail.changes(before, trail.snapshot(customer, CUSTOMER_FIELDS))
    if changed:
        trail.record("changed", customer, changes=changed)
    if "service_type" in changed and customer.username and radius.has_access(customer.username):
        # A PPPoE customer's sessions carry PPP's reply attributes (hotspot.pppoe); a hotspot one's none.
        radius.update_access(customer.username, reply=pppoe.radius_reply(customer))
    live.publish(live.ADMIN, "customer.updated", {"id": customer.pk})
    return customer


def speaks(customer: Customer, language: str) -> None:
    """Remember the portal language of the customer's purchase: their receipts and reminders use it."""
    if language in dict(settings.LANGUAGES) and customer.language != language:
        Customer.objects.filter(pk=customer.pk).update(language=language)
        customer.language = language


def seen(customer: Customer, mac: str = "", ip: str | None = None) -> None:
    """Remember the device a customer last came from (phones randomise MACs: a hint, not an identity)."""
    changes = {"last_mac": mac[:17].upper()} if mac else {}  # as routers spell it: the search matches that
    if ip:
        changes["last_ip"] = ip
    if changes:
        Customer.objects.filter(pk=customer.pk).update(**changes)


def current_subscription(customer: Customer, now=None):
    """The subscription that gives access now (active and not yet expired), if any."""
    now = now or timezone.now()
    return (customer.subscriptions.select_related("package")
            .active(now).order_by("-expires_at").first())


def left(customer: Customer):
    """(seconds, bytes or None, subscription) left for ``customer`` now: the portal's status page,
    the captive API and the customer's account page all show this."""
    subscription = current_subscription(customer)
    if subscription is None:
        return 0, 0, None
    seconds = max(0, int((subscription.expires_at - timezone.now()).total_seconds()))
    limit = subscription.package.data_limit_mb
    if not limit:
        return seconds, None, subscription
    used = sessions.usage(customer.username, since=subscription.starts_at).total_octets
    return seconds, max(0, limit * 2**20 - used), subscription


def disconnect_customer(customer: Customer, requested_by: str = "") -> list:
    """Ask the router to end every open session of the customer; returns the CoA attempts."""
    return [coa.disconnect(session, requested_by=requested_by)
            for session in sessions.open_sessions(customer.username)]


@transaction.atomic
def reset_password(customer: Customer) -> str:
    """A new RADIUS password (the customer forgot theirs, or someone else knows it): written to
    RADIUS in the same transaction, so the old one stops working at the next sign-in."""
    Customer.objects.select_for_update().filter(pk=customer.pk).values_list("pk").get()
    customer.password = credentials.new_password()
    customer.save(update_fields=["password"])
    if customer.username and radius.has_access(customer.username):
        radius.update_access(customer.username, password=customer.password)
    trail.record("password_reset", customer, changes={"password": trail.SECRET})
    return customer.password


# What a customer may choose: RADIUS compares the password the portal lowercases (captive
# browsers capitalise the first letter), so letters and digits only, stored lowercase; 6 at least
# (the generated ones have 8), 32 at most (the column).
CUSTOMER_PASSWORD = re.compile(r"[a-z0-9]{6,32}")


class PasswordRefused(CustomerError):
    """A password change refused; ``reason`` names the words the customer is shown."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def change_password(customer: Customer, current: str, new: str, ip: str | None = None) -> Customer:
    """The customer chooses their own password (they know the current one): written to RADIUS in
    the same transaction, so the old one stops working at the next sign-in. The customer is the
    actor of the entry; the password is never in it."""
    new = new.strip().lower()
    if not CUSTOMER_PASSWORD.fullmatch(new):
        raise PasswordRefused("password_rule", "A password is 6 to 32 letters and digits.")
    with acting_as(Actor.customer(customer, ip)), transaction.atomic():
        held = Customer.objects.select_for_update().filter(pk=customer.pk).values_list("password", flat=True).get()
        if not hmac.compare_digest(held.encode(), current.strip().lower().encode()):
            raise PasswordRefused("password_wrong", "The current password is wrong.")
        customer.password = new
        customer.save(update_fields=["password"])
        if customer.username and radius.has_access(customer.username):
            radius.update_access(customer.username, password=new)
        trail.record("password_changed", customer, changes={"password": trail.SECRET})
    return customer


def set_customer_active(customer: Customer, active: bool, requested_by: str = "") -> Customer:
    """Deactivating removes RADIUS access and disconnects; activating restores what is paid for."""
    with transaction.atomic():
        was = customer.status
        customer.status = Customer.Status.ACTIVE if active else Customer.Status.INACTIVE
        customer.save(update_fields=["status"])
        if customer.status != was:  # access is written again either way; the history says what changed
            trail.record("activated" if active else "deactivated", customer,
                         changes={"status": [was, customer.status]})
        subscription = current_subscription(customer) if active else None
        if subscription is not None:
            restore_access(subscription)
        elif not active:
            radius.revoke_access(customer.username)
        live.publish(live.ADMIN, "customer.updated", {"id": customer.pk})
    if not active:
        # After commit: the NAS is asked only once FreeRADIUS would refuse a reconnection.
        disconnect_customer(customer, requested_by)
    return customer


@transaction.atomic
def delete_customer(customer: Customer) -> None:
    if customer.subscriptions.exists():
        raise CustomerError("This customer has subscriptions: deactivate instead, so the history stays.")
    radius.revoke_access(customer.username)
    trail.record("deleted", customer)
    customer.delete()


# --- packages ---------------------------------------------------------------------------------------

# ASCII: RouterOS reads 0-9 only; \d alone lets "２M/５M" through to RADIUS and the routers.
RATE_LIMIT = re.compile(r"^\d+(\.\d+)?[kKmMgG]?/\d+(\.\d+)?[kKmMgG]?( [\w./ -]+)?$", re.ASCII)
MINUTES = {"minutes": 1, "hours": 60, "days": 1440, "months": 43200}
MAX_VALIDITY_MINUTES = 10_000_000


# What a package's history shows (what a customer gets and pays).
PACKAGE_FIELDS = ("name", "group", "service_type", "price", "validity_minutes", "data_limit_mb", "rate_limit",
                  "devices", "grace_minutes", "is_active", "display_order", "after_allowance", "fup_rate_limit",
                  "daily_data_limit_mb", "kind")
GROUP_FIELDS = ("name", "description", "display_order")


class PackageError(ValueError):
    """A package change that is refused, with the reason for the person who asked."""


def check_rate_limit(value: str) -> str:
    value = (value or "").strip()
    if value and not RATE_LIMIT.match(value):
        raise PackageError(f'"{value}" is not a MikroTik rate limit: use upload/download such as 2M/5M')
    return value


def _sync_policy(package: Package) -> None:
    throttles = package.after_allowance == AfterAllowance.THROTTLE
    interim = store.get("radius.interim_interval")
    radius.set_group_policy(
        package.radius_group,
        rate_limit=package.rate_limit or None,
        total_bytes=package.data_limit_mb * 2**20 if package.data_limit_mb else None,
        shared_users=package.devices,
        # A session that slows down is seen crossing at its next interim update: a short one keeps
        # the crossing-to-CoA time within fair_use.BOUND_SECONDS.
        interim_interval=min(interim, fair_use.INTERIM_SECONDS) if throttles and interim else interim,
        daily_bytes=package.daily_data_limit_mb * 2**20 if package.daily_data_limit_mb else None,
        fup_rate=package.fup_rate_limit if throttles else None,
        day_zone=str(time_zone.current()),
    )


def radius_settings_saved(sender, names=(), **kwargs) -> None:
    """The RADIUS settings changed (store.saved): every package's group gets the new interim
    interval, and the grace group its address list and rate, so the next sign-in follows them."""
    if sender.name == "general" and "time_zone" in names:
        # Daily allowances count from midnight in the business's zone, which FreeRADIUS reads
        # from each package's group.
        with transaction.atomic():
            for package in Package.objects.exclude(daily_data_limit_mb=None):
                _sync_policy(package)
    if sender.name != "radius":
        return
    if "interim_interval" in names:
        with transaction.atomic():
            for package in Package.objects.all():
                _sync_policy(package)
    if {"grace_address_list", "grace_rate"} & set(names):
        ensure_grace_policy()


def _check_fair_use(package: Package) -> None:
    """Refuse a fair-use policy that cannot work (hotspot.fair_use); normalise its rate."""
    if package.after_allowance not in AfterAllowance.values:
        raise PackageError(f'"{package.after_allowance}" is not a choice: block or throttle.')
    daily = package.daily_data_limit_mb
    if daily is not None and not 1 <= daily <= 2_147_483_647:
        raise PackageError("A daily allowance is at least 1 MB (empty: none).")
    package.fup_rate_limit = check_rate_limit(package.fup_rate_limit)
    if package.after_allowance == AfterAllowance.THROTTLE:
        if not package.fup_rate_limit:
            raise PackageError("A package that slows down needs the fair-use speed, e.g. 512k/512k.")
        if not package.data_limit_mb and not daily:
            raise PackageError("A package that slows down needs a data allowance (for the period or the day).")
    elif package.fup_rate_limit:
        raise PackageError("A fair-use speed applies only to a package that slows down: choose it, "
                           "or leave the speed empty.")


def _check_kind(package: Package) -> None:
    """A boost (hotspot.subscriptions._boost) adds its data_limit_mb, or full speed, to a running
    plan for validity_minutes: a policy of its own would never apply."""
    if package.kind not in PackageKind.values:
        raise PackageError(f'"{package.kind}" is not a kind: plan or boost.')
    if package.pk and Package.objects.filter(pk=package.pk).exclude(kind=package.kind).exists() and (
            package.subscriptions.exists() or package.boosts.exists()):
        raise PackageError("Customers have bought this package: add a new one of the other kind instead.")
    if package.kind == PackageKind.BOOST and (package.after_allowance != AfterAllowance.BLOCK
                                              or package.daily_data_limit_mb):
        raise PackageError("A boost adds data (or full speed) to the customer's plan: the plan's fair-use "
                           "policy applies, so a boost has no daily allowance or fair-use speed of its own.")


@transaction.atomic
def save_package(package: Package) -> Package:
    """Create or change a package and, in the same transaction, its RADIUS group policy."""
    package.rate_limit = check_rate_limit(package.rate_limit)
    _check_fair_use(package)
    _check_kind(package)
    if package.price is None or package.price < 0:
        raise PackageError("The price cannot be negative.")
    package.price = Decimal(package.price).quantize(Decimal("0.01"))
    if not package.validity_minutes or package.validity_minutes > MAX_VALIDITY_MINUTES:
        raise PackageError("A package lasts from a minute to about 19 years.")
    if package.devices < 1:
        raise PackageError("A package allows at least one device.")
    # Before: as stored, since the caller (a form, the API) has already set the new values.
    stored = Package.objects.select_related("group").filter(pk=package.pk).first() if package.pk else None
    package.save()
    if stored is None:
        trail.record("created", package, changes=_as_created(package, PACKAGE_FIELDS))
    elif changed := trail.changes(trail.snapshot(stored, PACKAGE_FIELDS), trail.snapshot(package, PACKAGE_FIELDS)):
        trail.record("changed", package, changes=changed)
    _sync_policy(package)
    live.publish(live.ADMIN, "package.changed", {"id": package.pk})
    return package


@transaction.atomic
def set_package_active(package: Package, active: bool) -> Package:
    """Inactive packages leave the portal; who already bought one keeps it."""
    was = Package.objects.select_for_update().values_list("is_active", flat=True).get(pk=package.pk)
    Package.objects.filter(pk=package.pk).update(is_active=active)
    package.is_active = active
    portal_page.packages_changed()  # an UPDATE sends no post_save
    if was != active:
        trail.record("activated" if active else "deactivated", package, changes={"is_active": [was, active]})
    live.publish(live.ADMIN, "package.changed", {"id": package.pk})
    return package


@transaction.atomic
def delete_package(package: Package) -> None:
    sold = PackageError(f"{package.name} has been sold: deactivate it instead, so its history stays.")
    if package.subscriptions.exists():
        raise sold
    group = package.radius_group
    trail.record("deleted", package)  # rolled back with the rest if the delete is refused
    try:
        package.delete()
    except ProtectedError:  # sold while we were deleting
        raise sold from None
    radius.delete_group_policy(group)
    live.publish(live.ADMIN, "package.changed", {"id": None})


@transaction.atomic
def save_group(group: PackageGroup) -> PackageGroup:
    """Create or change a package group (the caller has checked its name is free)."""
    stored = PackageGroup.objects.filter(pk=group.pk).first() if group.pk else None
    group.save()
    if stored is None:
        trail.record("created", group, changes=_as_created(group, GROUP_FIELDS))
    elif changed := trail.changes(trail.snapshot(stored, GROUP_FIELDS), trail.snapshot(group, GROUP_FIELDS)):
        trail.record("changed", group, changes=changed)
    return group
