"""Fair use: what a package does once its data allowance (the period's or the day's) is used up.

A ``block`` package is rejected at the next sign-in, as before; a ``throttle`` one is accepted at its
fair-use rate. FreeRADIUS decides at sign-in from the package's group policy (radius/raddb/policy.d/
hotspot); sessions already online are slowed by radius.fair_use's job, by CoA. standing() is the
same count for the customer's pages.
"""
from dataclasses import dataclass
from datetime import UTC, datetime, time

from django.db.models import F, Max, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from radius.models import DataBoost, RadAcct
from siteconfig import time_zone

from .models import AfterAllowance

# Throttle packages' sessions send an interim update this often, and the job that slows them runs
# as often (settings: CELERY_BEAT_SCHEDULE "slow-down-crossed-sessions"): a session that crosses its
# allowance gets its CoA-Request at most INTERIM + beat seconds later.
INTERIM_SECONDS = 30
BOUND_SECONDS = 60
# The account page offers a boost from this share of an allowance used (the SMS warns at 80 %).
NEAR_PERCENT = 80
SPEED_UNITS = {"k": "kbit/s", "M": "Mbit/s", "G": "Gbit/s"}


@dataclass(frozen=True)
class Standing:
    """Where a subscription stands against its allowances now, counted as radius_data_allowance
    (migration 0007) counts them for FreeRADIUS: bytes of sessions started since the allowance began
    (today's: since local midnight), each allowance raised by the boosts running, and a full-speed
    boost meaning nothing is used up. ``*_left`` is None where the package has no such allowance."""

    period_used: int
    period_left: int | None
    day_used: int
    day_left: int | None
    slowed: bool  # over an allowance of a throttle package, no full-speed boost: at the fair-use rate
    near: bool  # slowed, or NEAR_PERCENT % of an allowance used: the account page offers boosts
    rate: str  # the Mikrotik-Rate-Limit the session has now ("" for none)
    fast_until: datetime | None  # a full-speed boost runs until then

    @property
    def speed(self) -> str:
        """The download speed of ``rate`` in words ("1 Mbit/s"), "" for no limit."""
        return speed(self.rate)


def speed(rate: str) -> str:
    """MikroTik's "upload/download" rate ("512k/2M ...") as the customer reads it: the download."""
    parts = rate.split(" ")[0].split("/") if rate and rate != "0/0" else []
    download = parts[-1] if parts else ""
    if download[-1:] in SPEED_UNITS and download[:-1].isdigit():
        return f"{download[:-1]} {SPEED_UNITS[download[-1]]}"
    return f"{download} bit/s" if download.isdigit() else download


def standing(subscription, now: datetime | None = None) -> Standing | None:
    """``subscription``'s allowances now, in two aggregate queries (its sessions, its boosts); None
    for a package with no data allowance (nothing to show, never slowed)."""
    package = subscription.package
    period_limit = (package.data_limit_mb or 0) * 2**20
    daily_limit = (package.daily_data_limit_mb or 0) * 2**20
    if not period_limit and not daily_limit:
        return None
    now = now or timezone.now()
    username = subscription.customer.username
    # Hotspot-Quota-Since is whole seconds (radius.services._epoch): the same start as FreeRADIUS.
    since_epoch = int(subscription.starts_at.timestamp())
    since = datetime.fromtimestamp(since_epoch, tz=UTC)
    zone = time_zone.current()
    midnight = datetime.combine(now.astimezone(zone).date(), time.min, tzinfo=zone)
    octets = Coalesce(F("acct_input_octets"), 0) + Coalesce(F("acct_output_octets"), 0)
    used = RadAcct.objects.filter(username=username, acct_start_time__gte=since).order_by().aggregate(
        period=Coalesce(Sum(octets), 0), day=Coalesce(Sum(octets, filter=Q(acct_start_time__gte=midnight)), 0))
    boosts = DataBoost.objects.filter(username=username, since=since_epoch, until__gt=now).aggregate(
        extra=Coalesce(Sum("extra_bytes"), 0), fast_until=Max("until", filter=Q(full_speed=True)))
    extra, fast_until = int(boosts["extra"]), boosts["fast_until"]
    period_used, day_used = int(used["period"]), int(used["day"])
    period_left = max(period_limit + extra - period_used, 0) if period_limit else None
    day_left = max(daily_limit + extra - day_used, 0) if daily_limit else None
    throttles = package.after_allowance == AfterAllowance.THROTTLE and bool(package.fup_rate_limit)
    slowed = throttles and fast_until is None and 0 in (period_left, day_left)
    near = slowed or (throttles and fast_until is None and any(
        limit and left is not None and left * 100 <= (limit + extra) * (100 - NEAR_PERCENT)
        for limit, left in ((period_limit, period_left), (daily_limit, day_left))))
    return Standing(period_used=period_used, period_left=period_left, day_used=day_used, day_left=day_left,
                    slowed=slowed, near=near, rate=package.fup_rate_limit if slowed else package.rate_limit,
                    fast_until=fast_until)
