"""/reports/revenue/: money received per day, week, month, package, router or method (Admin, Finance)."""
from accounts.access import access, perm

from ...reports.revenue import REPORT
from .page import report_page


@access(perm("billing.view_revenue"))
def revenue(request):
    return report_page(request, REPORT)
