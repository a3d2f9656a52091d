"""Voucher batches: codes made to be hard to guess and easy to type, each redeemed exactly once.

Audited: a batch created (by the staff member), a code redeemed (by the customer it makes, from the
client's address), a code revoked."""
import re
import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from audit import trail
from audit.actors import Actor, acting_as
from lib.csv_export import csv_lines
from siteconfig import store

from . import subscriptions
from .models import Customer, Package, PackageKind, Subscription, Voucher, VoucherBatch

# The random part: no 0/O, 1/I/L, read off paper in a dim shop. Its length is the setting
# vouchers.code_length (6..16, default 8): 31^8 is 8.5 x 10^11, so with a million live codes a
# guesser needs ~850,000 tries per hit, and the portal lets an address fail 20 times an hour and
# then try once every 30 s (PORTAL_VOUCHER_*): about 2,900 tries a day, most of a year per hit.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
MAX_BATCH = 5000
# The prefix is the operator's own label (a shop's initials), kept as typed: any ASCII letters and
# digits, O and 1 included. Codes are not case-sensitive, so it is stored in capitals.
PREFIX = re.compile(r"[A-Za-z0-9]{0,6}")
PREFIX_RULE = "A prefix is up to 6 letters (A-Z) and digits, nothing else."


class VoucherError(ValueError):
    """Why a code can't be redeemed, in words for the customer: unknown, used, expired, revoked."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def _code(prefix: str, length: int) -> str:
    return prefix + "".join(secrets.choice(ALPHABET) for _ in range(length))


def clean_prefix(prefix: str) -> str:
    """The prefix as stored (capitals), or ValueError(PREFIX_RULE): nothing typed is dropped silently."""
    if not PREFIX.fullmatch(prefix or ""):
        raise ValueError(PREFIX_RULE)
    return (prefix or "").upper()


def normalise_code(raw: str) -> str:
    """What people type (lower case, spaces, dashes) -> the stored form."""
    return "".join((raw or "").upper().split()).replace("-", "")[:24]


def display(code: str, prefix: str = "") -> str:
    """KLMABCD2345 -> KLM-ABCD-2345 for printing: the prefix, then the random part in fours."""
    if prefix and code.startswith(prefix) and len(code) > len(prefix):
        return f"{prefix}-{display(code[len(prefix):])}"
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


@transaction.atomic
def generate_batch(package: Package, count: int, *, prefix: str = "", valid_days: int = 90, note: str = "",
                   created_by: str = "") -> VoucherBatch:
    if not 1 <= count <= MAX_BATCH:
        raise ValueError(f"A batch has 1 to {MAX_BATCH:,} vouchers.")
    if package.kind == PackageKind.BOOST:  # a voucher's account is new: nothing running to boost
        raise ValueError("A boost adds to a running package: vouchers are for plans.")
    prefix = clean_prefix(prefix)
    length = store.get("vouchers.code_length")
    batch = VoucherBatch.objects.create(package=package, prefix=prefix, count=count, note=note,
                                        created_by=created_by,
                                        valid_until=timezone.now() + timedelta(days=valid_days))
    codes: set[str] = set()
    while len(codes) < count:
        codes.add(_code(prefix, length))
    taken = set(Voucher.objects.filter(code__in=codes).values_list("code", flat=True))
    while taken:  # astronomically rare; the unique constraint stays the last word
        codes -= taken
        fresh = {_code(prefix, length) for _ in taken}
        taken = set(Voucher.objects.filter(code__in=fresh).values_list("code", flat=True)) | (fresh & codes)
        codes |= fresh - taken
    Voucher.objects.bulk_create([Voucher(batch=batch, code=code) for code in sorted(codes)], batch_size=1000)
    trail.record("created", batch, note=f"{count} codes for {package}, valid {valid_days} days")
    return batch


def redeem(raw_code: str, *, mac: str = "", ip: str | None = None, client_address: str | None = None,
           now: datetime | None = None) -> Subscription:
    """Exactly once: the one conditional UPDATE that flips the code from unused wins; the rest
    (concurrent or later) learn why they lost. The code becomes the customer's credentials.

    ``ip`` is the device's address as the router reports it; ``client_address`` is where the request
    came from (lib.network.client_ip), kept in the audit entries the customer is the actor of."""
    now = now or timezone.now()
    code = normalise_code(raw_code)
    voucher = Voucher.objects.select_related("batch__package").filter(code=code).first()
    if voucher is None or voucher.status != Voucher.Status.UNUSED or voucher.batch.valid_until <= now:
        raise _why_not(code, now)
    with transaction.atomic():
        # The WHERE names only this table's columns, so PostgreSQL re-checks "unused" on the row it
        # locks: of concurrent attempts exactly one updates a row. (A filter through a join would
        # become a subquery read from each transaction's snapshot, and every attempt would win.)
        won = Voucher.objects.filter(pk=voucher.pk, status=Voucher.Status.UNUSED).update(
            status=Voucher.Status.REDEEMED, redeemed_at=now, mac=mac[:17], ip=ip or None)
        if not won:
            raise _why_not(code, now)
        customer, created = _voucher_customer(code)
        with acting_as(Actor.customer(customer, client_address)):
            if created:
                trail.record("created", customer, note="by redeeming a voucher")
            subscription = subscriptions.activate(customer, voucher.batch.package, "voucher", now=now)
            Voucher.objects.filter(pk=voucher.pk).update(customer=customer, subscription=subscription)
            trail.record("redeemed", voucher, label=display(code), note=f"{voucher.batch.package} for {customer}",
                         changes={"status": [Voucher.Status.UNUSED, Voucher.Status.REDEEMED]})
    return subscription


def _voucher_customer(code: str) -> tuple[Customer, bool]:
    """The customer the code makes (and whether it is new)."""
    try:
        with transaction.atomic():
            return Customer.objects.create(username=code.lower(), password=code.lower(),
                                           name=f"Voucher {display(code)}"), True
    except IntegrityError:  # the same code as a username already: reuse that account
        return Customer.objects.get(username=code.lower()), False


def _why_not(code: str, now: datetime) -> VoucherError:
    voucher = Voucher.objects.select_related("batch").filter(code=code).first()
    if voucher is None:
        return VoucherError("unknown", "This voucher code does not exist. Check it and try again.")
    if voucher.status == Voucher.Status.REDEEMED:
        return VoucherError("used", "This voucher has already been used.")
    if voucher.status == Voucher.Status.REVOKED:
        return VoucherError("revoked", "This voucher has been cancelled.")
    return VoucherError("expired", "This voucher has expired.")


@transaction.atomic
def revoke(voucher: Voucher) -> bool:
    """Cancel an unused code; False (and no entry) when it was used or revoked already."""
    done = bool(Voucher.objects.filter(pk=voucher.pk, status=Voucher.Status.UNUSED)
                .update(status=Voucher.Status.REVOKED))
    if done:
        trail.record("revoked", voucher, label=display(voucher.code),
                     changes={"status": [Voucher.Status.UNUSED, Voucher.Status.REVOKED]})
    return done


def _local(moment: datetime | None) -> str:
    """A time as the business reads it: its own zone, to the minute."""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def batch_csv(batch: VoucherBatch) -> Iterator[str]:
    """The batch as CSV lines, through the one writer that makes typed names spreadsheet-safe;
    times in the business's zone (settings' time zone), without seconds."""
    rows = ((display(voucher.code, batch.prefix), batch.package.name, f"{batch.package.price:.2f}",
             _local(batch.valid_until), voucher.status, _local(voucher.redeemed_at))
            for voucher in batch.vouchers.all())
    return csv_lines(["code", "package", "price_kes", "valid_until", "status", "redeemed_at"], rows)
