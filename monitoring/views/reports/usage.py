"""/reports/usage/: data used per day, package, router and the top customers (Admin, Finance, Technician)."""
from accounts.access import access

from ...reports.usage import REPORT, VIEWERS
from .page import report_page


@access(VIEWERS)
def usage(request):
    return report_page(request, REPORT)
