"""Subscription jobs (beat): thin wrappers; each is also a management command of the same name."""
from celery import shared_task

from radius import sessions

from . import subscriptions


@shared_task(name="hotspot.tasks.check_expired_subscriptions")
def check_expired_subscriptions() -> dict:
    sweep = subscriptions.expire_due()
    return {"expired": len(sweep.expired), "grace": len(sweep.to_grace), "started": len(sweep.started)}


@shared_task(name="hotspot.tasks.process_grace_period")
def process_grace_period() -> dict:
    return {"expired": len(subscriptions.process_grace().expired)}


@shared_task(name="hotspot.tasks.disconnect_expired_sessions")
def disconnect_expired_sessions() -> dict:
    return {"disconnect_requests": subscriptions.disconnect_unentitled_sessions()}


@shared_task(name="hotspot.tasks.cleanup_old_sessions")
def cleanup_old_sessions() -> dict:
    return sessions.cleanup_old_records()
