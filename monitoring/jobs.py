"""Background job bookkeeping: failures recorded from Celery, retried or dismissed by an operator,
and what the broker, the workers and beat say about the queues."""
import json
import logging
from dataclasses import dataclass
from datetime import datetime

from celery import current_app as app
from celery.exceptions import NotRegistered
from celery.utils import uuid
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Max, Min
from django.utils import timezone

from audit import trail

from .models import TaskFailure

log = logging.getLogger(__name__)
State = TaskFailure.State
# A retry's message carries the attempt it makes, so its failure counts on even when it fails
# before the retry's row is committed.
ATTEMPT_HEADER = "failure_attempt"


class FailureHandled(Exception):
    """The failure was retried or dismissed already (the API's 409)."""

    def __init__(self, failure: TaskFailure):
        super().__init__(f"failure {failure.pk} was {failure.state} already")
        self.failure = failure


class NotRetryable(Exception):
    """Its arguments were not JSON, so the task cannot be sent again as it was."""


def record_task_failure(sender=None, task_id=None, exception=None, args=None, kwargs=None, einfo=None,
                        **extra) -> None:
    """Celery's task_failure signal: keep what is needed to understand the failure and to send the
    task again with the same arguments."""
    try:
        request = getattr(sender, "request", None)
        delivery = getattr(request, "delivery_info", None) or {}
        name = getattr(sender, "name", str(sender))
        stored_args, stored_kwargs, arguments_repr = _arguments(args, kwargs)
        TaskFailure.objects.create(
            task_name=name[:200],
            task_id=task_id or "",
            queue=(delivery.get("routing_key") or _queue_of(name))[:64],
            args=stored_args, kwargs=stored_kwargs, arguments_repr=arguments_repr[:10000],
            exception_type=type(exception).__name__[:200],
            exception=f"{type(exception).__name__}: {exception}",
            traceback=str(einfo or "")[-20000:],
            attempt=_attempt(request, task_id),
        )
    except Exception:  # the failure record must never mask the task's own failure
        log.exception("could not record the failure of task %s", task_id)


def _arguments(args, kwargs) -> tuple[list, dict, str]:
    args, kwargs = list(args or ()), dict(kwargs or {})
    try:
        return json.loads(json.dumps(args)), json.loads(json.dumps(kwargs)), ""
    except (TypeError, ValueError):
        return [], {}, f"{args!r}, {kwargs!r}"


def _attempt(request, task_id) -> int:
    headers = getattr(request, "headers", None) or {}
    carried = headers.get(ATTEMPT_HEADER) or getattr(request, ATTEMPT_HEADER, None)
    if carried:
        return int(carried)
    before = TaskFailure.objects.filter(new_task_id=task_id).values_list("attempt", flat=True).first() if task_id \
        else None
    return (before or 0) + 1 + (getattr(request, "retries", 0) or 0)


def _queue_of(name: str) -> str:
    try:
        return app.amqp.router.route({}, name)["queue"].name
    except Exception:  # noqa: BLE001 - a name no route knows: the default queue
        return settings.CELERY_TASK_DEFAULT_QUEUE


def eager() -> bool:
    return bool(app.conf.task_always_eager)


# --- acting on a failure -----------------------------------------------------------------------


@dataclass
class Retried:
    failure: TaskFailure
    new_task_id: str
    # In-process (no broker): how the run in place ended; with a broker the task is only queued.
    ran_in_place: bool = False
    succeeded: bool | None = None


def retry(failure_id: int, *, by=None, by_name: str = "") -> Retried:
    """Send the failed task again with its arguments (the tasks are idempotent), once.

    The row is locked while it is marked, so two operators retrying at once send it once; with a
    broker the message is sent inside the transaction (a broker that refuses leaves the failure as it
    was), without one (quick start) the task runs here, in place, after the mark is committed."""
    new_task_id = uuid()
    with transaction.atomic():
        failure = TaskFailure.objects.select_for_update().get(pk=failure_id)
        if failure.state != State.FAILED:
            raise FailureHandled(failure)
        if failure.arguments_repr:
            raise NotRetryable(f"the arguments of failure {failure.pk} were not JSON: {failure.arguments_repr[:200]}")
        task = _registered(failure.task_name) if eager() else None
        _mark(failure, State.RETRIED, by, by_name, new_task_id=new_task_id)
        trail.record("retried", failure, note=f"{failure.task_name} sent again as task {new_task_id}")
        if not eager():
            app.send_task(failure.task_name, args=failure.args, kwargs=failure.kwargs, task_id=new_task_id,
                          headers={ATTEMPT_HEADER: failure.attempt + 1})
    if not eager():
        return Retried(failure, new_task_id)
    result = task.apply(failure.args, failure.kwargs, task_id=new_task_id, throw=False)
    return Retried(failure, new_task_id, ran_in_place=True, succeeded=result.successful())


def _registered(name: str):
    """The task to run in place; the apps' tasks modules are imported first (a web process has not
    needed them until now)."""
    if name not in app.tasks:
        app.loader.import_default_modules()
    try:
        return app.tasks[name]
    except NotRegistered:
        raise NotRetryable(f"no task named {name} is known here (renamed or removed?)") from None


def dismiss(failure_id: int, *, by=None, by_name: str = "") -> TaskFailure:
    with transaction.atomic():
        failure = TaskFailure.objects.select_for_update().get(pk=failure_id)
        if failure.state != State.FAILED:
            raise FailureHandled(failure)
        _mark(failure, State.DISMISSED, by, by_name)
        trail.record("dismissed", failure, note=failure.exception[:200])
    return failure


def _mark(failure: TaskFailure, state: str, by, by_name: str, new_task_id: str = "") -> None:
    failure.state, failure.handled_at, failure.new_task_id = state, timezone.now(), new_task_id
    failure.handled_by = by if by is not None and by.is_authenticated else None
    failure.handled_by_name = (by_name or (by.get_username() if failure.handled_by else "system"))[:150]
    failure.save(update_fields=["state", "handled_at", "handled_by", "handled_by_name", "new_task_id"])


# --- reading -----------------------------------------------------------------------------------


def failure_groups(failures) -> list[dict]:
    """Failures by task and exception type: how many, the first and the latest."""
    return list(failures.order_by().values("task_name", "exception_type")
                .annotate(count=Count("pk"), first=Min("failed_at"), latest=Max("failed_at"))
                .order_by("-latest"))


def recent_failures(limit: int = 10) -> list[TaskFailure]:
    return list(TaskFailure.objects.all()[:limit])


@dataclass
class QueueDepth:
    name: str
    messages: int | None
    consumers: int | None
    error: str = ""


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


def workers_alive(timeout: float = 1.0) -> list[str]:
    """The workers that answer a ping within ``timeout`` seconds, by name."""
    return sorted(name for reply in app.control.ping(timeout=timeout) or [] for name in reply)


# A ping cannot know how many workers will answer, so it always waits its whole timeout (1.1 s of
# GET /api/queue/stats' time on issue 23's bench): one answer serves every reader this long.
WORKERS_FRESH_SECONDS = 30
WORKERS_KEY = "monitoring:workers-alive"


def workers_seen(timeout: float = 1.0) -> tuple[list[str], datetime]:
    """The workers that answered the latest ping and when it was sent, pinging again when that
    answer is older than WORKERS_FRESH_SECONDS."""
    seen = cache.get(WORKERS_KEY)
    if seen is None:
        checked_at = timezone.now()
        seen = (workers_alive(timeout), checked_at)
        cache.set(WORKERS_KEY, seen, WORKERS_FRESH_SECONDS)
    return seen


@dataclass
class BeatRun:
    name: str
    task: str
    last_run_at: datetime | None
    enabled: bool


def beat_runs() -> list[BeatRun]:
    """Each beat schedule's last run, as django_celery_beat's scheduler records it."""
    from django_celery_beat.models import PeriodicTask

    return [BeatRun(t.name, t.task, t.last_run_at, t.enabled)
            for t in PeriodicTask.objects.order_by("name").only("name", "task", "last_run_at", "enabled")]


# --- diagnosis ---------------------------------------------------------------------------------

# (what the text of a failure shows, the hint): the exception type or a module in its traceback.
CAUSES = [
    (("kombu.exceptions.OperationalError", "redis.exceptions.ConnectionError", "redis.exceptions.TimeoutError",
      "Error 111 connecting", "ConnectionError: Error"),
     "broker down: Redis (CELERY_BROKER_URL) refused or did not answer; check it is running, then retry"),
    (("psycopg.OperationalError", "django.db.utils.OperationalError", "psycopg.errors", "InsufficientPrivilege",
      "connection to server at"),
     "database unreachable or refusing: check PostgreSQL (DATABASE_URL), its connections and grants, then retry"),
    (("routers.routeros.RouterError", "RouterError", "routeros", "TimeoutError", "timed out"),
     "router unreachable: check the router is online and its API port and login (/routers/), then retry"),
    (("billing.daraja.DarajaError", "DarajaError", "daraja"),
     "Daraja refused: check the M-Pesa credentials and Daraja's status (/settings/, /logs/payments/), then retry"),
]


def hint(failure: TaskFailure) -> str:
    """A likely cause, when the exception or its traceback shows a known one."""
    text = f"{failure.exception_type}\n{failure.exception}\n{failure.traceback}"
    for marks, advice in CAUSES:
        if any(mark in text for mark in marks):
            return advice
    return ""
