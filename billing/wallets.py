"""Wallet balances: the stored figure pages read, and the check that it equals the ledger's sum.

The figure (billing.models.Wallet) is kept by the database in the statement that writes a ledger
entry (migration 0006's triggers), so no writer can forget it. The ledger stays the truth: a figure
that differs from its ledger's sum (a trigger disabled during a repair, rows copied in by hand) is
found by ``mismatches`` and set from the ledger by ``fix``, each correction in the audit trail.

Comparing every wallet with its ledger reads the whole ledger (1.8M rows at issue 23's size: 3-4 s),
so pages do not: ``check`` (the hourly job, and ``check_wallets``) runs it and stores what it found
with the last ledger entry it read; ``last_check`` (the payment reports) answers from that and
compares again only the wallets whose ledger moved since, and those found differing before (a fix
sets a figure without a ledger entry), up to RECHECK_MOST of them: a cost of the hour's activity,
not of the ledger's size.
"""
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cached_property

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, DecimalField, Exists, OuterRef, Q, Sum, Value
from django.utils import timezone

from audit import trail
from hotspot.models import Customer

from .models import LedgerEntry, Wallet

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=14, decimal_places=2)

# One pass over each table, both read in the same snapshot (what the triggers keep equal, the
# statement sees together). ROUND: the quick start's SQLite sums decimals as floating point.
MISMATCHES_SQL = """
SELECT coalesce(w.customer_id, l.customer_id), coalesce(w.balance, 0), coalesce(l.total, 0)
FROM billing_wallet w
FULL OUTER JOIN (SELECT customer_id, sum(amount) AS total FROM billing_ledgerentry GROUP BY customer_id) l
  ON l.customer_id = w.customer_id
WHERE round(coalesce(w.balance, 0) - coalesce(l.total, 0), 2) <> 0
ORDER BY 1
"""


# The wallets a page compares again at most (those whose ledger moved since the stored check, and
# those it found differing): an hour of activity at issue 23's size is a few hundred.
RECHECK_MOST = 2_000
# Entries numbered just below the last one the check read may commit after it (ids are taken
# before commit, by transactions still open then): the recheck reads from this many earlier, as the
# rollups re-read an overlap. Each costs a customer's ledger sum on every view (1,000 were 85 ms).
RECHECK_OVERLAP = 100
CHECK_KEY = "billing:wallet-check"
# With no check stored (the quick start, whose cache is each process's memory, or a cache emptied)
# a ledger this short (by its last entry's number) is compared whole at once: ~70 ms (2.4 s at 1.8M).
CHECK_AT_ONCE_UP_TO = 50_000

# The same comparison for the customers whose ledger moved since entry %s (the first %s of them)
# and some others ({before}), each by the ledger's (customer, created_at) index; one row more says
# how many had moved (at most that limit), so a page asks once whatever it finds.
RECHECK_SQL = """
WITH moved AS (SELECT DISTINCT customer_id FROM billing_ledgerentry WHERE id > %s LIMIT %s),
compared AS (
  SELECT c.customer_id, coalesce(w.balance, 0) AS stored,
         coalesce((SELECT sum(l.amount) FROM billing_ledgerentry l WHERE l.customer_id = c.customer_id), 0) AS ledger
  FROM (SELECT customer_id FROM moved UNION SELECT id FROM hotspot_customer WHERE {before}) c
  LEFT JOIN billing_wallet w ON w.customer_id = c.customer_id)
SELECT customer_id, stored, ledger FROM compared WHERE round(stored - ledger, 2) <> 0
UNION ALL
SELECT NULL, NULL, (SELECT count(*) FROM moved)
"""


def balance(customer: Customer | int) -> Decimal:
    """What the customer's wallet holds (negative: what they owe)."""
    customer_id = customer if isinstance(customer, int) else customer.pk
    stored = Wallet.objects.filter(customer_id=customer_id).values_list("balance", flat=True).first()
    return ZERO if stored is None else stored


class Ranking:
    """Customers with their ``balance``, largest first, as the Paginator pages them: only the
    wallets holding or owing money, or ``everyone`` (no wallet row: zero). Read in three bands so
    each page is one indexed query whatever its depth: balances above zero in the wallet index's
    order, then the customers at zero newest first, then the debts; the bands' sizes come from one
    pass over the non-zero wallets' index (searched: over the matching customers)."""

    def __init__(self, customers, *, searched: bool, everyone: bool):
        self.customers, self.searched, self.everyone = customers, searched, everyone

    @cached_property
    def _sizes(self) -> tuple[int, int, int, Decimal]:
        """(above zero, at zero, below zero, held in all wallets)."""
        totals = Wallet.objects.exclude(balance=0).aggregate(
            above=Count("pk", filter=Q(balance__gt=0)), below=Count("pk", filter=Q(balance__lt=0)),
            held=Sum("balance"))
        held = totals["held"] or ZERO
        if self.searched:
            totals = self.customers.aggregate(above=Count("pk", filter=Q(wallet__balance__gt=0)),
                                              below=Count("pk", filter=Q(wallet__balance__lt=0)), all=Count("pk"))
            zero = totals["all"] - totals["above"] - totals["below"]
        else:
            zero = self.customers.count() - totals["above"] - totals["below"] if self.everyone else 0
        return totals["above"], zero if self.everyone else 0, totals["below"], held

    @property
    def held(self) -> Decimal:
        return self._sizes[3]

    def count(self) -> int:
        return sum(self._sizes[:3])

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, wanted: slice) -> list[Customer]:
        start, stop = wanted.start or 0, min(wanted.stop, self.count())
        parts, at = [], 0
        for number, (size, band) in enumerate(zip(self._sizes[:3], (self._above, self._zero, self._below),
                                                  strict=True)):
            lo, hi = max(start - at, 0), min(stop - at, size)
            if lo < hi:
                parts.append(band(number)[lo:hi])
            at += size
        if not parts:
            return []
        # A page across bands: their slices in one UNION ALL (order restored here from the band
        # number); SQLite cannot slice inside a compound statement, so it asks once per band.
        if len(parts) > 1 and connection.features.supports_slicing_ordering_in_compound:
            parts = [parts[0].union(*parts[1:], all=True)]
        page = sorted((row for part in parts for row in part), key=lambda row: (row[2], -row[1], -row[0]))
        # The page's ids first (a deep page skips index entries, not joined rows), then its customers.
        customers = self.customers.model.objects.order_by().in_bulk([customer_id for customer_id, _, _ in page])
        found = []
        for customer_id, balance, _ in page:
            if customer_id in customers:  # else deleted since (only one without a ledger can be)
                customers[customer_id].balance = balance
                found.append(customers[customer_id])
        return found

    def _above(self, number: int):
        return self._held("gt", number)

    def _below(self, number: int):
        return self._held("lt", number)

    def _zero(self, number: int):
        moved = Wallet.objects.filter(customer=OuterRef("pk")).exclude(balance=0)
        return (self.customers.filter(~Exists(moved)).order_by("-pk")
                .values_list("pk", Value(ZERO, output_field=MONEY), Value(number)))

    def _held(self, than_zero: str, number: int):
        if self.searched:  # from the matching customers (the search decides how many), joined to their wallets
            return (self.customers.filter(**{f"wallet__balance__{than_zero}": 0})
                    .order_by("-wallet__balance", "-pk").values_list("pk", "wallet__balance", Value(number)))
        return (Wallet.objects.filter(**{f"balance__{than_zero}": 0}).order_by("-balance", "-customer_id")
                .values_list("customer_id", "balance", Value(number)))


@dataclass(frozen=True)
class Mismatch:
    customer_id: int
    stored: Decimal
    ledger: Decimal

    @property
    def text(self) -> str:
        return (f"Customer {self.customer_id}: wallet KES {self.stored:,.2f}, "
                f"ledger KES {self.ledger:,.2f} (off by {self.stored - self.ledger:+,.2f})")


def mismatches() -> list[Mismatch]:
    """Every customer whose stored balance is not their ledger's sum."""
    with connection.cursor() as cursor:
        cursor.execute(MISMATCHES_SQL)
        return [Mismatch(customer_id, _money(stored), _money(ledger)) for customer_id, stored, ledger in cursor]


@dataclass(frozen=True)
class Check:
    """What the whole check found at ``at``, brought up to date for the wallets moved since."""

    at: datetime
    found: list[Mismatch]
    # More than RECHECK_MOST wallets moved since ``at``: some are compared at the next check only.
    unchecked: bool = False


def check(now: datetime | None = None) -> Check:
    """Compare every wallet with its ledger and store the result for ``last_check``."""
    return _check_from(_last_entry(), now)


def _last_entry() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM billing_ledgerentry")
        return cursor.fetchone()[0]


def _check_from(upto: int, now: datetime | None) -> Check:
    """The whole comparison, ``upto`` read before it: an entry after it is compared again by last_check."""
    now = now or timezone.now()
    found = mismatches()
    cache.set(CHECK_KEY, {"at": now.isoformat(), "upto": upto,
                          "found": [(m.customer_id, str(m.stored), str(m.ledger)) for m in found]}, timeout=None)
    return Check(now, found)


def last_check() -> Check | None:
    """The stored check, with the wallets moved since it (and those it found differing) compared
    again. None before the first check (or after the cache lost it: the next hourly one stores it),
    unless the ledger is short enough to compare whole now (CHECK_AT_ONCE_UP_TO entries)."""
    stored = cache.get(CHECK_KEY)
    if not stored:
        upto = _last_entry()
        return _check_from(upto, None) if upto <= CHECK_AT_ONCE_UP_TO else None
    before = [customer_id for customer_id, _, _ in stored["found"]]
    which = f"id IN ({', '.join(['%s'] * len(before))})" if before else "1 = 0"
    with connection.cursor() as cursor:
        cursor.execute(RECHECK_SQL.format(before=which), [stored["upto"] - RECHECK_OVERLAP, RECHECK_MOST + 1, *before])
        rows = cursor.fetchall()
    found = sorted((Mismatch(customer_id, _money(wallet), _money(ledger))
                    for customer_id, wallet, ledger in rows if customer_id is not None), key=lambda m: m.customer_id)
    moved = next(int(ledger) for customer_id, _, ledger in rows if customer_id is None)
    return Check(datetime.fromisoformat(stored["at"]), found, unchecked=moved > RECHECK_MOST)


def fix(found: list[Mismatch] | None = None) -> list[Mismatch]:
    """Set each differing wallet from its ledger; returns the corrections made, each audited on
    the customer. Safe beside live payments: the wallet row is locked before the ledger is summed,
    so an entry written meanwhile is either in the sum or added by its trigger after this commits."""
    corrected = []
    for wrong in mismatches() if found is None else found:
        with transaction.atomic():
            Wallet.objects.get_or_create(customer_id=wrong.customer_id)
            wallet = Wallet.objects.select_for_update().select_related("customer").get(customer_id=wrong.customer_id)
            ledger = _money(LedgerEntry.objects.filter(customer_id=wrong.customer_id)
                            .aggregate(total=Sum("amount"))["total"])
            if wallet.balance == ledger:
                continue  # put right meanwhile
            Wallet.objects.filter(pk=wallet.pk).update(balance=ledger)
            trail.record("wallet_corrected", wallet.customer, changes={"wallet": [wallet.balance, ledger]},
                         note="stored balance set from the ledger's sum")
            corrected.append(Mismatch(wrong.customer_id, wallet.balance, ledger))
    return corrected


def _money(value) -> Decimal:
    return ZERO if value is None else Decimal(str(value)).quantize(ZERO)
