"""Accounts jobs (thin wrappers over services; each also a management command)."""
from celery import shared_task

from . import services


@shared_task(name="accounts.tasks.purge_expired_credentials")
def purge_expired_credentials() -> dict:
    return services.purge_expired_credentials()
