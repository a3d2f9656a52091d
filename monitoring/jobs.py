"""Background job bookkeeping: failures recorded from Celery, and queue depths read from the broker."""
import logging
from dataclasses import dataclass

from celery import current_app as app
from django.conf import settings

from .models import TaskFailure

log = logging.getLogger(__name__)


def record_task_failure(sender=None, task_id=None, exception=None, einfo=None, **kwargs) -> None:
    try:
        delivery = getattr(getattr(sender, "request", None), "delivery_info", None) or {}
        TaskFailure.objects.create(
            task_name=getattr(sender, "name", str(sender))[:200],
            task_id=task_id or "",
            queue=(delivery.get("routing_key") or "")[:64],
            exception=f"{type(exception).__name__}: {exception}",
            traceback=str(einfo or "")[-20000:],
        )
    except Exception:  # the failure record must never mask the task's own failure
        log.exception("could not record the failure of task %s", task_id)


@dataclass
class QueueDepth:
    name: str
    messages: int | None
    consumers: int | None
    error: str = ""


def eager() -> bool:
    return bool(app.conf.task_always_eager)


def queue_depths() -> list[QueueDepth]:
    """Messages waiting per configured queue, read passively (a missing queue is empty)."""
    depths = []
    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=3)
        channel = connection.default_channel
        for name in settings.CELERY_QUEUE_NAMES:
            try:
                _, messages, consumers = channel.queue_declare(queue=name, passive=True)
                depths.append(QueueDepth(name, messages, consumers))
            except Exception as error:  # noqa: BLE001 - a passive declare of an unknown queue
                depths.append(QueueDepth(name, 0 if "NOT_FOUND" in str(error) else None, None, str(error)))
    return depths


def recent_failures(limit: int = 10) -> list[TaskFailure]:
    return list(TaskFailure.objects.all()[:limit])
