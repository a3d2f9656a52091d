"""The sign-in rollup: hotspot.LoginHour and LoginDay from radpostauth, kept current by lib.rollups.
A run recomputes every business day that holds an answer written since the watermark (by authdate,
radpostauth_authdate_idx), so reading a row twice changes nothing. See the models for the figures."""
from collections import defaultdict
from datetime import date, datetime, timedelta, tzinfo

from django.db import connection

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
        if connection.vendor == "postgresql":
            return self._range_in_sql(first, last, routers)
        return sum(self._day(day, routers) for day in rollups.days(first, last))

    def _day(self, day: date, routers: dict[str, int]) -> int:
        if connection.vendor == "postgresql":
            return self._range_in_sql(day, day, routers)
        return self._day_in_python(day, routers)

    def _range_in_sql(self, first: date, last: date, routers: dict[str, int]) -> int:
        """``_day_in_python`` for every day of ``first``..``last`` in the database (PostgreSQL)."""
        addresses = sorted(routers)
        params = {"zone": str(self.zone), "start": rollups.day_start(first, self.zone),
                  "end": rollups.day_start(last + timedelta(days=1), self.zone), "follows": SESSION_FOLLOWS,
                  "addresses": addresses, "routers": [routers[a] for a in addresses], "accept": ACCEPT}
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM hotspot_loginhour WHERE day BETWEEN %s AND %s", [first, last])
            cursor.execute("DELETE FROM hotspot_loginday WHERE day BETWEEN %s AND %s", [first, last])
            cursor.execute("CREATE TEMPORARY TABLE rollup_answers ON COMMIT DROP AS " + ANSWERS_SQL, params)
            cursor.execute(HOURS_SQL)
            written = cursor.rowcount
            cursor.execute(DAYS_SQL)
            cursor.execute("DROP TABLE rollup_answers")
        return written

    def _day_in_python(self, day: date, routers: dict[str, int]) -> int:
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


# Each answer of the range with its business day and hour, and: for an accept, the router of the
# session that followed it (as _router_after); for a reject, its reason (as _reason).
ANSWERS_SQL = """
WITH routers AS (SELECT * FROM unnest(%(addresses)s::inet[], %(routers)s::int[]) AS m(address, router_id))
SELECT a.username, (a.authdate AT TIME ZONE %(zone)s)::date AS day,
       extract(hour FROM a.authdate AT TIME ZONE %(zone)s)::int AS hour, a.reply = %(accept)s AS accepted,
       CASE WHEN a.reply = %(accept)s THEN (
           SELECT m.router_id FROM radacct r LEFT JOIN routers m ON m.address = r.nasipaddress
           WHERE r.username = a.username AND r.acctstarttime >= a.authdate
             AND r.acctstarttime <= a.authdate + %(follows)s
             AND (coalesce(a.callingstationid, '') = '' OR coalesce(r.callingstationid, '') = ''
                  OR r.callingstationid = a.callingstationid)
           ORDER BY r.acctstarttime LIMIT 1) END AS router_id,
       CASE WHEN a.reply = %(accept)s THEN ''
            WHEN c.id IS NULL THEN 'unknown'
            WHEN NOT EXISTS (SELECT 1 FROM hotspot_subscription s WHERE s.customer_id = c.id
                             AND s.starts_at <= a.authdate
                             AND a.authdate < greatest(s.expires_at, coalesce(s.grace_until, s.expires_at)))
                 THEN 'no_package'
            ELSE 'refused' END AS reason
FROM radpostauth a LEFT JOIN hotspot_customer c ON c.username = a.username
WHERE a.authdate >= %(start)s AND a.authdate < %(end)s
"""
HOURS_SQL = """
INSERT INTO hotspot_loginhour (day, hour, router_id, reason, accepted, rejected, users)
SELECT day, hour, router_id, reason, count(*) FILTER (WHERE accepted), count(*) FILTER (WHERE NOT accepted),
       count(DISTINCT username)
FROM rollup_answers GROUP BY day, hour, router_id, reason
"""
DAYS_SQL = """
INSERT INTO hotspot_loginday (day, router_id, users, users_accepted, users_rejected)
SELECT day, NULL, count(DISTINCT username), count(DISTINCT username) FILTER (WHERE accepted),
       count(DISTINCT username) FILTER (WHERE NOT accepted)
FROM rollup_answers GROUP BY day
UNION ALL
SELECT day, router_id, count(DISTINCT username), count(DISTINCT username), 0
FROM rollup_answers WHERE accepted AND router_id IS NOT NULL GROUP BY day, router_id
"""


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
