"""/reports/customers/: new, active, returning and churned customers and the cohort table (Admin, Finance)."""
from accounts.access import access, perm

from ...reports.customers import REPORT
from .page import report_page


@access(perm("billing.view_revenue"))
def customers(request):
    return report_page(request, REPORT)
