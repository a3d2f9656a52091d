"""Large exports made by a worker: a list page's CSV past EXPORT_SYNC_MAX_ROWS rows.

A year of payments streamed in the request held a web thread and a database connection for
70-100 s (issue 23). Past the limit the synchronous download sends the staff member to "prepare
the file": a row here (monitoring.ExportJob), a Celery task that writes the same lines the
synchronous download would (each kind names the app's own row query and CSV writer) into
EXPORT_DIR, readable by the owner only, counting its progress as it goes; the page follows it and
then offers the file to whoever asked, their permission for the kind checked again at download.
Files and rows go after EXPORT_KEEP_HOURS (remove_old, hourly).

Safe to run twice and concurrently: the task claims its row with a conditional UPDATE (queued ->
running), so a redelivered task finds nothing to do; each job writes its own file under a
temporary name and renames it into place once complete, so a reader never sees half a file.
"""
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from celery import shared_task
from django.conf import settings
from django.http import QueryDict
from django.utils import timezone

from audit import trail
from billing import exports as billing_exports

from .models import ExportJob

log = logging.getLogger(__name__)
FILE_MODE, DIR_MODE = 0o600, 0o700
# Progress is written every this many rows: a year of payments is 1,000,000 rows, 500 updates.
PROGRESS_EVERY = 2000
# A row still running this long after it was made belongs to a worker that died.
ABANDONED_AFTER = timedelta(hours=2)


@dataclass(frozen=True)
class Kind:
    label: str
    permission: str  # to ask for it and to download it
    rows: Callable  # the list page's GET parameters -> the rows, in the synchronous export's order
    lines: Callable[..., Iterator[str]]  # rows -> CSV lines, header first
    back: str  # the list page's URL name


KINDS = {
    "payments": Kind("Payments", "billing.view_payment", billing_exports.payment_rows, billing_exports.payments_csv,
                     "payment-list"),
}


class ExportRefused(Exception):
    pass


def kind_for(user, name: str) -> Kind:
    """The export ``name`` if ``user`` may have it; ExportRefused otherwise (an unknown name alike)."""
    kind = KINDS.get(name)
    if kind is None or not user.has_perm(kind.permission):
        raise ExportRefused("You may not export that.")
    return kind


def params_of(query: QueryDict) -> dict:
    return {key: query.getlist(key) for key in query if key != "csrfmiddlewaretoken"}


def query_of(job: ExportJob) -> QueryDict:
    query = QueryDict(mutable=True)
    for key, values in job.params.items():
        query.setlist(key, [str(value) for value in values])
    return query


def start(user, name: str, query: QueryDict) -> ExportJob:
    """Queue the export ``name`` of the rows ``query`` picks, for ``user``; an identical one of theirs
    still queued or running is returned instead (a second click does not make a second file)."""
    kind_for(user, name)
    params = params_of(query)
    same = ExportJob.objects.filter(requested_by=user, kind=name, params=params,
                                    status__in=[ExportJob.Status.QUEUED, ExportJob.Status.RUNNING],
                                    created_at__gte=timezone.now() - ABANDONED_AFTER).first()
    if same is not None:
        return same
    job = ExportJob.objects.create(requested_by=user, kind=name, params=params)
    # Who took a copy of the business's records, and of which: the filters as the list page had them.
    trail.record("export requested", job, note=f"{KINDS[name].label}: {query.urlencode() or 'everything'}")
    try:
        run_export.delay(job.pk)
    except Exception as error:  # noqa: BLE001 - the broker's error, any of them: the row must not wait forever
        log.error("could not queue export %s: %s", job.pk, error)
        _fail(job.pk, f"not started: the task queue could not be reached: {error}")
        job.refresh_from_db()
    return job


def path_of(job: ExportJob) -> Path:
    return Path(settings.EXPORT_DIR) / f"export-{job.pk}.csv"


def run(job_id: int) -> str:
    """Write the job's file, if it is still queued; what became of it."""
    now = timezone.now()
    if not ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.QUEUED).update(status=ExportJob.Status.RUNNING):
        return "not queued"
    job = ExportJob.objects.select_related("requested_by").get(pk=job_id)
    directory = Path(settings.EXPORT_DIR)
    partial = directory / f".export-{job.pk}.partial"
    try:
        kind = kind_for(job.requested_by, job.kind)  # a permission taken away meanwhile stops it
        rows = kind.rows(query_of(job))
        ExportJob.objects.filter(pk=job.pk).update(rows_total=rows.count())
        directory.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        directory.chmod(DIR_MODE)
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        os.fchmod(fd, FILE_MODE)
        done = -1  # the header is the first line
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            for line in kind.lines(rows):
                out.write(line)
                done += 1
                if done and done % PROGRESS_EVERY == 0:
                    ExportJob.objects.filter(pk=job.pk).update(rows_done=done)
        final = path_of(job)
        os.replace(partial, final)
        stamp = timezone.localtime(now).strftime("%Y%m%d-%H%M")
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.DONE, rows_done=done, size_bytes=final.stat().st_size,
            file_name=f"{job.kind}-{stamp}.csv", finished_at=timezone.now())
        return "done"
    except Exception as error:
        partial.unlink(missing_ok=True)
        _fail(job.pk, str(error)[:300] or type(error).__name__)
        if isinstance(error, ExportRefused):
            return "refused"
        raise


def _fail(job_id: int, why: str) -> None:
    ExportJob.objects.filter(pk=job_id).exclude(status=ExportJob.Status.DONE).update(
        status=ExportJob.Status.FAILED, error=why[:300], finished_at=timezone.now())


def file_for(user, job: ExportJob) -> Path | None:
    """The finished file of ``job`` for ``user``: only the one who asked, still allowed the kind."""
    if job.requested_by_id != user.pk or job.status != ExportJob.Status.DONE:
        return None
    try:
        kind_for(user, job.kind)
    except ExportRefused:
        return None
    path = path_of(job)
    return path if path.is_file() else None


def remove_old(now=None) -> dict:
    """Files and rows older than EXPORT_KEEP_HOURS, and jobs a dead worker left running."""
    now = now or timezone.now()
    abandoned = ExportJob.objects.filter(status=ExportJob.Status.RUNNING, created_at__lt=now - ABANDONED_AFTER).update(
        status=ExportJob.Status.FAILED, error="abandoned: the worker stopped", finished_at=now)
    removed = 0
    for job in ExportJob.objects.filter(created_at__lt=now - timedelta(hours=settings.EXPORT_KEEP_HOURS)):
        path_of(job).unlink(missing_ok=True)
        (Path(settings.EXPORT_DIR) / f".export-{job.pk}.partial").unlink(missing_ok=True)
        job.delete()
        removed += 1
    return {"removed": removed, "abandoned": abandoned}


@shared_task(name="monitoring.tasks.run_export")
def run_export(job_id: int) -> str:
    return run(job_id)
