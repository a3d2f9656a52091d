"""/reports/profit/: net revenue minus expenses per month or per site (Admin, Finance)."""
from django.http import QueryDict

from accounts.access import access, perm
from siteconfig import time_zone

from ...reports.profit import REPORT
from .page import report_page


@access(perm("billing.view_revenue", "billing.view_expense"))
def profit(request):
    if not request.GET:  # profit is read by the month: the page opens on the last twelve of them
        today = time_zone.today()
        first = today.replace(day=1, year=today.year - 1 if today.month < 12 else today.year,
                              month=today.month % 12 + 1)
        request.GET = QueryDict(f"from={first:%Y-%m-%d}&to={today:%Y-%m-%d}&group_by=month")
    return report_page(request, REPORT)
