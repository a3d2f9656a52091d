"""API /api/queue: what is waiting in each queue, which workers answer, when beat last ran each
schedule; the failed jobs, and sending one again."""
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerDown
from ninja import Field, FilterSchema, Query, Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status

from accounts.access import api_access, perm
from lib.paging import page

from .. import jobs
from ..models import TaskFailure

queue_router = Router(tags=["queue"])
VIEW = api_access(perm("monitoring.view_taskfailure"))
CHANGE = api_access(perm("monitoring.change_taskfailure"))


class Message(Schema):
    detail: str


class QueueOut(Schema):
    name: str
    waiting: int | None = Field(..., description="messages waiting; null when the broker could not say")
    consumers: int | None


class BeatOut(Schema):
    name: str
    task: str
    enabled: bool
    last_run_at: datetime | None


class StatsOut(Schema):
    eager: bool = Field(..., description="no broker: tasks run in-process where they are called, nothing queues")
    broker_error: str = Field("", description="why the broker could not be read, when it could not")
    queues: list[QueueOut]
    workers: list[str] = Field(..., description="the workers that answered a ping within a second, as of "
                                                "workers_checked_at (one ping's answer serves 30 s)")
    workers_checked_at: datetime | None = Field(None, description="when that ping was sent; null when none was "
                                                "(eager, or the broker could not be read)")
    beat: list[BeatOut]
    failed_24h: int
    failed_open: int = Field(..., description="failures neither retried nor dismissed")


class FailureOut(Schema):
    id: int
    task_name: str
    task_id: str
    queue: str
    args: list[Any]
    kwargs: dict[str, Any]
    arguments_repr: str = Field(..., description="the arguments' repr when they were not JSON (not retryable)")
    exception: str
    traceback: str
    attempt: int
    failed_at: datetime
    state: str
    handled_at: datetime | None
    handled_by: str = Field(..., alias="handled_by_name")
    new_task_id: str


class FailurePage(Schema):
    count: int
    results: list[FailureOut]


class FailureFilter(FilterSchema):
    task: str | None = Field(None, max_length=200, description="words in the task's name")
    state: TaskFailure.State | None = None

    def filter_task(self, task: str | None) -> Q:
        return Q(task_name__icontains=task.strip()) if task and task.strip() else Q()


class RetryOut(Schema):
    id: int
    task_name: str
    new_task_id: str
    ran_in_place: bool = Field(..., description="no broker: the task ran here, in place")
    succeeded: bool | None = Field(..., description="how the run in place ended; null when queued")


@queue_router.get("/stats", auth=VIEW, response=StatsOut, summary="Queues, workers, beat and failures")
def queue_stats(request):
    stats = {"eager": jobs.eager(), "broker_error": "", "queues": [], "workers": [], "workers_checked_at": None,
             "beat": jobs.beat_runs(),
             "failed_24h": TaskFailure.objects.filter(failed_at__gte=timezone.now() - timedelta(hours=24)).count(),
             "failed_open": TaskFailure.objects.filter(state=TaskFailure.State.FAILED).count()}
    if stats["eager"]:
        return stats
    try:
        stats["queues"] = [{"name": d.name, "waiting": d.messages, "consumers": d.consumers}
                           for d in jobs.queue_depths()]
        stats["workers"], stats["workers_checked_at"] = jobs.workers_seen(timeout=1.0)
    except Exception as error:  # noqa: BLE001 - a broker that is down is the answer, not a 500
        stats["broker_error"] = str(error)[:500]
    return stats


@queue_router.get("/failed", auth=VIEW, response=FailurePage, summary="Failed jobs, newest first", by_alias=False)
def failed_jobs(request, filters: Query[FailureFilter], limit: int = 50, offset: int = 0):
    return page(filters.filter(TaskFailure.objects.all()), limit, offset)


@queue_router.post("/retry/{failure_id}", auth=CHANGE,
                   response={202: RetryOut, 404: Message, 409: Message, 503: Message},
                   summary="Send a failed job again with its arguments (or run it in place without a broker)")
def retry_failed_job(request, failure_id: int):
    try:
        retried = jobs.retry(failure_id, by=request.user)
    except TaskFailure.DoesNotExist:
        raise HttpError(404, f"No failed job with id {failure_id}") from None
    except (jobs.FailureHandled, jobs.NotRetryable) as refused:
        raise HttpError(409, str(refused)) from None
    except BrokerDown as error:
        raise HttpError(503, f"The broker is unreachable, nothing was sent: {error}") from None
    return Status(202, {"id": retried.failure.pk, "task_name": retried.failure.task_name,
                        "new_task_id": retried.new_task_id, "ran_in_place": retried.ran_in_place,
                        "succeeded": retried.succeeded})
