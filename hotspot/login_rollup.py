"""The sign-in rollup: hotspot.LoginHour and LoginDay from radpostauth, kept current by lib.rollups.
A run recomputes every business day that holds an answer written since the watermark (by authdate,
radpostauth_authdate_idx), so reading a row twice changes nothing. See the models for the figures."""
from collections import defaultdict
from datetime import date, datetime, timedelta, tzinfo

from lib import rollups
from radius.models import RadAcct, RadPostAuth

from .models import LoginDay, LoginHour
from .rollup_sources import Owners, router_by_address

ACCEPT = "Access-Accept"
# An accepted device's session starts this soon after the answer (the router logs it straight in).
SESSION_FOLLOWS = timedelta(seconds=60)


class LoginRollup:
    name = "logins"
    overlap = timedelta(minutes=15)

    def __init__(self, zone: tzinfo):
        self.zone = zone

    def earliest(self) -> date | None:
        first = RadPostAuth.objects.order_by("auth_date").values_list("auth_date", flat=True).first()
        return rollups.day_of(first, self.zone) if first else None

    def refresh(self, window: rollups.Window) -> int:
        # The days of the answers written since the watermark: a handful of distinct dates.
        moments = (RadPostAuth.objects.filter(auth_date__gte=window.since).order_by()
                   .values_list("auth_date", flat=True))
        touched = sorted({rollups.day_of(at, self.zone) for at in moments.iterator(chunk_size=20000)})
        return sum(self._day(day, router_by_address()) for day in touched)

    def rebuild(self, first: date, last: date, until: datetime) -> int:
        routers = router_by_address()
        return sum(self._day(day, routers) for day in rollups.days(first, last))

    def _day(self, day: date, routers: dict[str, int]) -> int:
        start = rollups.day_start(day, self.zone)
        end = rollups.day_start(day + timedelta(days=1), self.zone)
        answers = list(RadPostAuth.objects.filter(auth_date__gte=start, auth_date__lt=end)
                       .values_list("username", "reply", "calling_station_id", "auth_date"))
        owners = Owners({username for username, reply, _, _ in answers if reply != ACCEPT})
        following = self._sessions({username for username, reply, _, _ in answers if reply == ACCEPT}, start, end)
        hours: dict[tuple, list] = defaultdict(lambda: [0, 0, set()])
        network: dict[str, set] = {"all": set(), "accepted": set(), "rejected": set()}
        per_router: dict[int, set] = defaultdict(set)
        for username, reply, mac, at in answers:
            hour = at.astimezone(self.zone).hour
            network["all"].add(username)
            if reply == ACCEPT:
                router = _router_after(following.get(username, ()), mac, at, routers)
                cell = hours[(hour, router, LoginHour.Reason.ACCEPTED)]
                cell[0] += 1
                network["accepted"].add(username)
                if router is not None:
                    per_router[router].add(username)
            else:
                cell = hours[(hour, None, _reason(owners, username, at))]
                cell[1] += 1
                network["rejected"].add(username)
            cell[2].add(username)
        LoginHour.objects.filter(day=day).delete()
        LoginDay.objects.filter(day=day).delete()
        LoginHour.objects.bulk_create([
            LoginHour(day=day, hour=hour, router_id=router, reason=reason, accepted=accepted, rejected=rejected,
                      users=len(users)) for (hour, router, reason), (accepted, rejected, users) in hours.items()])
        if answers:
            LoginDay.objects.bulk_create(
                [LoginDay(day=day, router=None, users=len(network["all"]), users_accepted=len(network["accepted"]),
                          users_rejected=len(network["rejected"]))]
                + [LoginDay(day=day, router_id=router, users=len(users), users_accepted=len(users))
                   for router, users in per_router.items()])
        return len(hours)

    @staticmethod
    def _sessions(usernames: set[str], start: datetime, end: datetime) -> dict[str, list[tuple]]:
        found: dict[str, list[tuple]] = defaultdict(list)
        names = sorted(usernames)
        for first in range(0, len(names), 2000):
            for username, started, mac, address in (
                    RadAcct.objects.filter(username__in=names[first:first + 2000], acct_start_time__gte=start,
                                           acct_start_time__lt=end + SESSION_FOLLOWS)
                    .values_list("username", "acct_start_time", "calling_station_id", "nas_ip_address")):
                found[username].append((started, mac or "", address))
        return found


def _router_after(sessions, mac: str | None, at: datetime, routers: dict[str, int]) -> int | None:
    """The router of the first session this device (this user, the same MAC when both are known)
    started within SESSION_FOLLOWS of ``at``."""
    best = None
    for started, session_mac, address in sessions:
        if at <= started <= at + SESSION_FOLLOWS and (not mac or not session_mac or session_mac == mac):
            if best is None or started < best[0]:
                best = (started, address)
    return routers.get(best[1]) if best else None


def _reason(owners: Owners, username: str, at: datetime) -> str:
    if owners.customer_id(username) is None:
        return LoginHour.Reason.UNKNOWN
    if not owners.had_package_running(username, at):
        return LoginHour.Reason.NO_PACKAGE
    return LoginHour.Reason.REFUSED
