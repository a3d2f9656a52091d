"""/logs/system/: the application's stored log (warnings and worse, and the jobs' summaries),
newest first, for operators without shell access."""
from django.conf import settings
from django.views.decorators.http import require_safe

from accounts.access import access, perm
from audit.models import LogRecord
from lib.listing import list_page

from ..forms import SystemLogFilter

# Counting a million records exactly on every view costs more than the page (bench/activity_pages.py).
COUNTED_UP_TO = 10_000


@access(perm("audit.view_logrecord"))
@require_safe
def system_log(request):
    filters = SystemLogFilter(request.GET)
    return list_page(request, filters.apply(LogRecord.objects.all()), "monitoring/system_log.html", filters=filters,
                     count_up_to=COUNTED_UP_TO, retention_days=settings.SYSTEM_LOG_RETENTION_DAYS)
