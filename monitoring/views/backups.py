"""/backups/: database backups (newest first, with size, checksum, verification and off-site state),
Back up now with its progress polled until it ends, Download of an archive (audited), the restore
command to copy (never a restore button: a restore replaces a live database), and each router's
latest configuration backup. The work is monitoring.backups (database) and routers.nightly_backups."""
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST, require_safe

from accounts.access import access, perm
from audit import trail
from lib.listing import PER_PAGE, list_page
from routers.models import Router, RouterBackup
from siteconfig import store

from .. import backups, offsite
from ..models import DatabaseBackup

VIEW = perm("monitoring.view_databasebackup")
ACTIVE = (DatabaseBackup.State.QUEUED, DatabaseBackup.State.RUNNING)
DOWNLOAD = perm("monitoring.download_databasebackup")


@access(VIEW)
@require_safe
def backup_list(request):
    rows = DatabaseBackup.objects.select_related("requested_by")
    every_router = request.GET.get("routers") == "all"
    return list_page(request, rows, "monitoring/backups.html", filtering=False, every_router=every_router,
                     **_routers(every_router), **_context(request))


@access(perm("monitoring.add_databasebackup"))
@require_POST
def backup_now(request):
    backup, created = backups.request_backup(request.user)  # the one under way, if any: one at a time
    if not created:
        messages.info(request, f"Backup #{backup.pk} is already under way: it shows below until it ends.")
    elif backup.state in ACTIVE:
        messages.info(request, f"Backup #{backup.pk} started: it shows below until it is made and verified.")
    elif backup.state == DatabaseBackup.State.VERIFIED:  # run in this process (no broker: the quick start)
        messages.success(request, f"Backup #{backup.pk} is made and verified.")
    else:
        messages.error(request, f"Backup #{backup.pk} failed: {backup.detail}")
    return redirect("backup-list")


@access(VIEW)
@require_safe
def backup_progress(request, pk: int):
    """The running backup's panel, polled every 2 s; once it has ended, also the list (out of band)."""
    backup = get_object_or_404(DatabaseBackup, pk=pk)
    context = {"backup": backup}
    if backup.state not in ACTIVE:
        rows = DatabaseBackup.objects.select_related("requested_by")
        context.update(page=Paginator(rows, PER_PAGE).get_page(1), filtering=False, oob=True, **_newest(),
                       can_download=request.user.has_perm("monitoring.download_databasebackup"))
    return render(request, "monitoring/backups_progress.html", context)


@access(DOWNLOAD)
@require_GET  # not HEAD: each answer is a download the trail records
def backup_download(request, pk: int):
    """The archive as an attachment. Only the row's own file, and only under BACKUP_DIR: a name that
    leads elsewhere (an archive written with --to DIR, or a tampered row) is not served."""
    backup = get_object_or_404(DatabaseBackup, pk=pk)
    path = _archive(backup)
    if path is None:
        return render(request, "monitoring/backups_missing.html", {"backup": backup}, status=404)
    trail.record("downloaded", backup, note=f"{path.name}, {path.stat().st_size} bytes")
    return FileResponse(path.open("rb"), as_attachment=True, filename=path.name,
                        content_type="application/octet-stream")


def _archive(backup: DatabaseBackup) -> Path | None:
    if not backup.file_name:
        return None
    root = Path(settings.BACKUP_DIR).resolve()
    path = backups.path_of(backup).resolve()
    if not path.is_relative_to(root) or path == root or not path.is_file():
        return None
    return path


def _context(request) -> dict:
    running = backups.under_way().first()
    s = store.section("backups")  # holds the S3 secret: only the counts go to the template
    return {"running": running, **_newest(), "offsite_enabled": offsite.enabled(),
            "keep": {"keep_daily": s.keep_daily, "keep_monthly": s.keep_monthly, "router_keep": s.router_keep},
            "can_back_up": request.user.has_perm("monitoring.add_databasebackup"),
            "can_download": request.user.has_perm("monitoring.download_databasebackup")}


def _newest() -> dict:
    """The newest verified archive, for the restore command."""
    newest = DatabaseBackup.objects.filter(state=DatabaseBackup.State.VERIFIED).only(
        "file_name", "engine", "created_at").first()
    return {"newest": newest, "newest_path": backups.path_of(newest) if newest else None}


def _routers(every_router: bool) -> dict:
    """The routers whose latest configuration backup is oldest (none at all first), ROUTERS_SHOWN of
    them unless ``every_router``, each with that backup and how many it keeps; and how many routers
    have a backup from the last FRESH, an older one, or none: at 500 routers the page is about the
    few whose nightly backup failed, not a table of 500 rows."""
    latest = RouterBackup.objects.filter(router=OuterRef("pk")).order_by("-created_at", "-pk")
    newest = Router.objects.annotate(latest_at=Subquery(latest.values("created_at")[:1]))
    counts = newest.aggregate(total=Count("pk"), never=Count("pk", filter=Q(latest_at__isnull=True)),
                              fresh=Count("pk", filter=Q(latest_at__gte=timezone.now() - FRESH)))
    counts["older"] = counts["total"] - counts["fresh"] - counts["never"]
    routers = (newest.order_by(F("latest_at").asc(nulls_first=True), "name")
               .annotate(backup_count=Count("backups"), latest_name=Subquery(latest.values("name")[:1]),
                         latest_size=Subquery(latest.values("size")[:1]))
               .only("name", "status"))
    return {"routers": routers if every_router else routers[:ROUTERS_SHOWN], "router_counts": counts,
            "fresh_days": FRESH.days, "routers_shown": ROUTERS_SHOWN}


ROUTERS_SHOWN = 20
FRESH = timedelta(days=2)  # the nightly backup of last night or the one before
