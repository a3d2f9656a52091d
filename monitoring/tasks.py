"""Monitoring jobs (thin wrappers; each also a management command of the same name)."""
from dataclasses import asdict

from celery import shared_task

from . import inbound_sms, rotation, sampling


@shared_task(name="monitoring.tasks.rotate_logs")
def rotate_logs() -> dict:
    return asdict(rotation.rotate())


@shared_task(name="monitoring.tasks.sample_users_online")
def sample_users_online() -> dict:
    return asdict(sampling.sample_users_online())


# The nightly backup and "Back up now" (monitoring.backups.request_backup queues it with the row's id).
from .backups import backup_database  # noqa: E402,F401 - defined beside the service that queues it


@shared_task(name="monitoring.tasks.evaluate_alerts")
def evaluate_alerts() -> dict:
    """Beat's minute: the alert rules, incidents and their messages (monitoring.alerts.incidents)."""
    from .alerts import incidents

    return asdict(incidents.evaluate())


@shared_task(name="monitoring.tasks.send_business_summary")
def send_business_summary() -> dict:
    """Hourly: yesterday's business summary to the staff who chose it, once, from 07:00 business time."""
    from . import business_summary

    sent = business_summary.send_summary()
    return {"day": str(sent.day), "queued": sent.queued, "skipped": sent.skipped, "sent": sent.delivered.sent}


@shared_task(name="monitoring.tasks.purge_forged_sms")
def purge_forged_sms() -> dict:
    """Nightly: posts to the inbound SMS webhook with a wrong token, past their retention."""
    return {"deleted": inbound_sms.purge_forged()}


# A large export (monitoring.exports.start queues it with the row's id).
from .exports import run_export  # noqa: E402,F401 - defined beside the service that queues it


@shared_task(name="monitoring.tasks.remove_old_exports")
def remove_old_exports() -> dict:
    """Hourly: export files and rows past EXPORT_KEEP_HOURS (also `manage.py remove_old_exports`)."""
    from . import exports

    return exports.remove_old()
