"""/health/: every part's status, the database, failed background jobs and (Admins) the security report."""
from django.shortcuts import render

from accounts.access import STAFF, access

from .. import health, jobs


@access(STAFF)
def health_page(request):
    parts = health.components()
    context = {
        "parts": parts,
        "overall": health.overall(parts),
        "database": health.database(),
        "failures": jobs.recent_failures(),
        "eager": jobs.eager(),
    }
    if request.user.has_perm("accounts.view_security_report"):
        context["findings"] = health.security_report()
    return render(request, "monitoring/health.html", context)
