"""/reports/logins/: sign-ins accepted and rejected, per day and hour, and why (Admin, Finance)."""
from accounts.access import access, perm

from ...reports.logins import REPORT
from .page import report_page


@access(perm("billing.view_revenue"))
def logins(request):
    return report_page(request, REPORT)
