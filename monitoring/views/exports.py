"""Large exports (/exports/…): the offer to prepare a file a list page's CSV link leads to past
EXPORT_SYNC_MAX_ROWS rows, the job's progress (polled) and its download, for whoever asked only."""
from django.conf import settings
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_safe

from accounts.access import STAFF, access
from audit import trail

from .. import exports
from ..models import ExportJob


def _refused(request, error):
    return render(request, "403.html", {"message": str(error)}, status=403)


@access(STAFF)  # and the kind's own permission, below
@require_http_methods(["GET", "HEAD", "POST"])
def export_prepare(request, kind: str):
    if kind not in exports.KINDS:
        raise Http404("No such export.")
    try:
        chosen = exports.kind_for(request.user, kind)
    except exports.ExportRefused as error:
        return _refused(request, error)
    if request.method == "POST":
        job = exports.start(request.user, kind, request.GET)
        return redirect("export-job", job.pk)
    return render(request, "monitoring/exports/prepare.html", {
        "kind": chosen, "name": kind, "limit": settings.EXPORT_SYNC_MAX_ROWS, "query": request.GET.urlencode(),
        "keep_hours": settings.EXPORT_KEEP_HOURS})


def _own(request, pk: int) -> ExportJob:
    """Another person's job is not found: its filters and file are theirs."""
    job = get_object_or_404(ExportJob, pk=pk)
    if job.requested_by_id != request.user.pk:
        raise Http404("No such export.")
    return job


@access(STAFF)
@require_safe
def export_job(request, pk: int):
    job = _own(request, pk)
    template = "monitoring/exports/job.html#progress" if request.htmx else "monitoring/exports/job.html"
    return render(request, template, {"job": job, "kind": exports.KINDS.get(job.kind),
                                      "can_download": exports.file_for(request.user, job) is not None})


@access(STAFF)
@require_GET
def export_download(request, pk: int):
    job = _own(request, pk)
    path = exports.file_for(request.user, job)  # the permission is asked again: it may have been taken away
    if path is None:
        raise Http404("This export has no file to download.")
    trail.record("downloaded", job, note=f"{job.file_name}, {job.rows_done} rows, {job.size_bytes} bytes")
    response = FileResponse(path.open("rb"), as_attachment=True, filename=job.file_name,
                            content_type="text/csv; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response
