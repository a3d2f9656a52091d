"""/reports/sessions/?user=…: one user's days and sessions (Admin, Finance, Technician)."""
from accounts.access import access

from ...reports import sessions as report
from ...reports.usage import VIEWERS
from .page import report_page


@access(VIEWERS)
def sessions(request):
    form = report.REPORT.form(request.GET or None)
    return report_page(request, report.REPORT, {"sessions": report.sessions_of(form), "listed": report.LISTED},
                       template="monitoring/reports/sessions.html")
