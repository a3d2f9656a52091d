"""Sessions already online whose user crossed a fair-use allowance, slowed to the package's fair-use
rate by CoA-Request (RFC 5176), with the routers' API as the fallback (coa.register_rate_fallback).

FreeRADIUS decides at sign-in (policy.d/hotspot); this is the same decision for sessions that signed
in before crossing: the same SQL function (radius_data_allowance, migration 0005) over the same
group check items, so the job and the next sign-in never disagree. It reads open sessions only.

Safe to run twice and concurrently: each session is claimed by inserting its SessionSlowdown row
(unique per session, ON CONFLICT DO NOTHING) in a transaction that commits before any request
leaves, so a second run finds it taken. A session whose CoA and fallback both failed gives its claim
back, and the next run tries again.

The bound from crossing to the CoA-Request: a throttle package's sessions send interim updates every
hotspot.fair_use.INTERIM_SECONDS (30 s) and the beat runs this every 30 s (settings, "slow-down-
crossed-sessions"): at most 60 s, plus the router's answer (or its CoA timeout, then the API).
"""
import logging

from django.db import connection, transaction

from audit import trail

from . import coa
from .models import CoaAttempt, DataBoost, RadAcct, SessionSlowdown

log = logging.getLogger(__name__)
BATCH = 500
REQUESTED_BY = "fair use"
SLOWED_DOWN = "slowed_down"  # the audit entry on each session, with what the router (or its API) did

# Users with an open session whose group slows down, over their allowance, and their open sessions
# not yet slowed: claimed in the same statement.
CLAIM = """
WITH online AS (SELECT DISTINCT username FROM radacct WHERE acctstoptime IS NULL),
policy AS (
    SELECT o.username,
           max(gc.value) FILTER (WHERE gc.attribute = 'Hotspot-Fup-Rate') AS rate,
           max(gc.value) FILTER (WHERE gc.attribute = 'Hotspot-Data-Limit') AS period_limit,
           max(gc.value) FILTER (WHERE gc.attribute = 'Hotspot-Daily-Limit') AS daily_limit,
           max(gc.value) FILTER (WHERE gc.attribute = 'Hotspot-Day-Zone') AS zone
    FROM online o JOIN radusergroup g ON g.username = o.username
    JOIN radgroupcheck gc ON gc.groupname = g.groupname
    WHERE gc.attribute IN ('Hotspot-Fup-Rate', 'Hotspot-Data-Limit', 'Hotspot-Daily-Limit', 'Hotspot-Day-Zone')
    GROUP BY o.username
    HAVING bool_or(gc.attribute = 'Hotspot-Fup-Rate')
),
over AS (
    SELECT p.username, p.rate FROM policy p
    WHERE split_part(radius_data_allowance(
        p.username,
        COALESCE((SELECT c.value FROM radcheck c WHERE c.username = p.username
                  AND c.attribute = 'Hotspot-Quota-Since' LIMIT 1), '0')::bigint,
        COALESCE(p.period_limit, '0')::bigint, COALESCE(p.daily_limit, '0')::bigint,
        COALESCE(p.zone, 'UTC')), ' ', 1) = '0'
),
crossed AS (
    SELECT a.radacctid, a.username, o.rate FROM over o
    JOIN radacct a ON a.username = o.username AND a.acctstoptime IS NULL
    WHERE NOT EXISTS (SELECT 1 FROM radius_sessionslowdown s WHERE s.session_id = a.radacctid)
    ORDER BY a.radacctid LIMIT %(limit)s
)
INSERT INTO radius_sessionslowdown (session_id, username, rate, created_at)
SELECT radacctid, username, rate, now() FROM crossed
ON CONFLICT (session_id) DO NOTHING
RETURNING session_id, rate
"""
# Claims of sessions that have ended: they no longer matter (a new session is judged afresh). And
# claims a run took but never finished (the worker died before the CoA left): tried again.
FORGET_ENDED = """
DELETE FROM radius_sessionslowdown s
WHERE NOT EXISTS (SELECT 1 FROM radacct a WHERE a.radacctid = s.session_id AND a.acctstoptime IS NULL)
   OR (s.attempt_id IS NULL AND s.created_at < now() - interval '5 minutes')
"""


def slow_down_crossed(limit: int = BATCH) -> list[CoaAttempt]:
    """Slow every open session whose user is over a fair-use allowance (one batch); returns the
    CoA attempts sent, each saved with its outcome."""
    if connection.vendor != "postgresql":
        return []  # the quick start's SQLite has no FreeRADIUS behind it
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(FORGET_ENDED)
            cursor.execute(CLAIM, {"limit": limit})
            claimed = dict(cursor.fetchall())
    if not claimed:
        return []
    sessions = RadAcct.objects.in_bulk(list(claimed))
    attempts = coa.change_authorization_many(
        [(sessions[pk], {"Mikrotik-Rate-Limit": claimed[pk]}) for pk in sorted(sessions)], requested_by=REQUESTED_BY)
    with transaction.atomic():
        for attempt in attempts:
            SessionSlowdown.objects.filter(session_id=attempt.session_id).update(attempt=attempt)
        failed = [a.session_id for a in attempts if not a.applied]
        # Neither the router nor its API took it: the next run tries again.
        SessionSlowdown.objects.filter(session_id__in=failed).delete()
        trail.record_many([{"action": SLOWED_DOWN, "object_type": RadAcct._meta.label_lower,
                            "object_id": attempt.session_id, "label": attempt.username,
                            "note": f"to {attempt.attributes['Mikrotik-Rate-Limit']}: {attempt.outcome}"
                                    + (f": {attempt.detail}" if attempt.detail else "")}
                           for attempt in attempts if attempt.applied])
    log.info("fair use: %d sessions slowed down, %d to try again", len(attempts) - len(failed), len(failed))
    return attempts


SPED_UP = "sped_up"  # the audit entry on each session a boost brought back to full speed


def add_boost(username: str, since, *, extra_bytes: int = 0, full_speed: bool = False, until) -> None:
    """Count a boost in ``username``'s allowance that started at ``since`` (the Hotspot-Quota-Since
    it was bought for) until ``until``: the next sign-in and the next run of the job see it."""
    DataBoost.objects.create(username=username, since=int(since.timestamp()), extra_bytes=extra_bytes,
                             full_speed=full_speed, until=until)


def restore_full_rate(username: str, rate: str, requested_by: str = "boost") -> list[CoaAttempt]:
    """After a boost commits: ``username``'s open sessions back to the package's ``rate`` by
    CoA-Request (the same RouterOS fallback as a slowdown), each recorded as a CoaAttempt. Their
    slowdown claims go first, so a boost that does not cover the usage is slowed again by the job's
    next run rather than left at full speed."""
    with transaction.atomic():
        SessionSlowdown.objects.filter(username=username).delete()
    sessions = list(RadAcct.objects.open().filter(username=username).order_by("pk"))
    if not sessions:
        return []
    attempts = coa.change_authorization_many([(s, {"Mikrotik-Rate-Limit": rate}) for s in sessions],
                                             requested_by=requested_by)
    trail.record_many([{"action": SPED_UP, "object_type": RadAcct._meta.label_lower, "object_id": a.session_id,
                        "label": a.username, "note": f"to {rate}: {a.outcome}" + (f": {a.detail}" if a.detail else "")}
                       for a in attempts])
    return attempts
