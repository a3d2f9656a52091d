"""Router jobs (thin wrappers, each named as the management command that does the same; the live-data
fetch is `check_router_status --live-data`)."""
from celery import shared_task

from . import drift, live_data, nightly_backups, polling, traffic_history
from .provisioning import provision_router

__all__ = ["backup_routers", "check_router_status", "check_routers", "cleanup_router_samples",
           "fetch_router_live_data", "provision_router", "refresh_traffic_hours", "sync_router_data"]


@shared_task(name="routers.tasks.check_router_status")
def check_router_status() -> dict:
    return polling.poll_when_due()


# Beat sent this job as "routers.tasks.check_routers" until it took its command's name: a message
# queued before a deploy still runs instead of being dropped as an unregistered task. Nothing sends
# this name any more; remove it one release after the rename.
check_routers = shared_task(name="routers.tasks.check_routers")(check_router_status.run)


@shared_task(name="routers.tasks.fetch_router_live_data")
def fetch_router_live_data() -> dict:
    return live_data.fetch_all()


@shared_task(name="routers.tasks.cleanup_router_samples")
def cleanup_router_samples() -> dict:
    return polling.cleanup_samples()


@shared_task(name="routers.tasks.refresh_traffic_hours")
def refresh_traffic_hours() -> dict:
    return traffic_history.refresh_hours()


@shared_task(name="routers.tasks.sync_router_data")
def sync_router_data() -> dict:
    """Report drift only (repairing writes to routers: a person decides, with --repair or the page)."""
    summary = drift.sync_all()
    return {**{key: value for key, value in summary.items() if key != "routers"},
            "drifted_routers": [entry["name"] for entry in summary["routers"] if entry["items"]]}


@shared_task(name="routers.tasks.backup_routers")
def backup_routers() -> dict:
    return nightly_backups.backup_all()
