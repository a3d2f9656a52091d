"""The payments rollup: billing.PaymentDay from payments, kept current by lib.rollups. A run recomputes
every business day holding a payment completed or reversed since the watermark (a reversal changes
the day its payment came in), so reading a payment twice changes nothing. See PaymentDay.

The overlap (30 minutes) is longer than the 15 minutes within which a payment's session may start:
a day is read again after the session that names its router has arrived."""
from collections import defaultdict
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal

from django.db.models import DateTimeField, ExpressionWrapper, OuterRef, Q, Subquery

from hotspot.rollup_sources import router_by_address
from lib import rollups
from radius.models import RadAcct

from .models import Payment, PaymentDay

SESSION_AFTER = timedelta(minutes=15)


class PaymentRollup:
    name = "payments"
    overlap = timedelta(minutes=30)

    def __init__(self, zone: tzinfo):
        self.zone = zone

    def earliest(self) -> date | None:
        first = (Payment.objects.completed().order_by("completed_at")
                 .values_list("completed_at", flat=True).first())
        return rollups.day_of(first, self.zone) if first else None

    def refresh(self, window: rollups.Window) -> int:
        since = window.since
        changed = (Payment.objects.completed().filter(Q(completed_at__gte=since) | Q(reversed_at__gte=since))
                   .order_by().values_list("completed_at", flat=True))
        touched = sorted({rollups.day_of(at, self.zone) for at in changed.iterator(chunk_size=20000)})
        return self._days(touched)

    def rebuild(self, first: date, last: date, until: datetime) -> int:
        return self._days(rollups.days(first, last))

    def _days(self, days: list[date]) -> int:
        routers = router_by_address()
        written = 0
        for day in days:
            written += self._day(day, routers)
        return written

    def _day(self, day: date, routers: dict[str, int]) -> int:
        start = rollups.day_start(day, self.zone)
        end = rollups.day_start(day + timedelta(days=1), self.zone)
        nas = (RadAcct.objects.filter(username=OuterRef("customer__username"),
                                      acct_start_time__lte=ExpressionWrapper(
                                          OuterRef("completed_at") + SESSION_AFTER, output_field=DateTimeField()))
               .order_by("-acct_start_time").values("nas_ip_address")[:1])
        found = (Payment.objects.completed().filter(completed_at__gte=start, completed_at__lt=end).order_by()
                 .annotate(nas=Subquery(nas))
                 .values_list("package", "method", "amount", "reversed_at", "nas"))
        cells: dict[tuple, list] = defaultdict(lambda: [0, Decimal("0.00"), 0, Decimal("0.00")])
        for package, method, amount, reversed_at, address in found.iterator(chunk_size=5000):
            cell = cells[(package, routers.get(address) if address else None, method)]
            cell[0] += 1
            cell[1] += amount
            if reversed_at is not None:
                cell[2] += 1
                cell[3] += amount
        PaymentDay.objects.filter(day=day).delete()
        PaymentDay.objects.bulk_create([
            PaymentDay(day=day, package_id=package, router_id=router, method=method, payments=count, amount=amount,
                       refunds=refunds, refunded=refunded)
            for (package, router, method), (count, amount, refunds, refunded) in cells.items()])
        return len(cells)
