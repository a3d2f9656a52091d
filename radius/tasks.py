"""RADIUS jobs (thin wrappers; each also a management command of the same name)."""
from celery import shared_task

from . import fair_use, partitions, sessions


@shared_task(name="radius.tasks.close_radius_sessions")
def close_radius_sessions() -> dict:
    return sessions.close_sessions()


# Beat sent this job as "radius.tasks.close_sessions" until the rename: a message queued before a
# deploy (the radius queue while workers restart) still runs instead of being dropped as an
# unregistered task. Nothing sends this name any more; remove it one release after the rename.
close_sessions = shared_task(name="radius.tasks.close_sessions")(close_radius_sessions.run)


@shared_task(name="radius.tasks.slow_down_crossed_sessions")
def slow_down_crossed_sessions() -> int:
    return sum(1 for attempt in fair_use.slow_down_crossed() if attempt.applied)


@shared_task(name="radius.tasks.prepare_radacct_partitions")
def prepare_radacct_partitions() -> list[str]:
    return partitions.prepare()
