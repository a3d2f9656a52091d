"""The one way to build a list page: rows, an optional filter form, a template.

A list view is a few declarative lines::

    @access(perm("billing.view_invoice"))
    def invoice_list(request):
        filters = InvoiceFilter(request.GET)
        return list_page(request, filters.apply(Invoice.objects.select_related("customer")),
                         "billing/invoice_list.html", filters=filters)

``list_page`` pages the rows (``PER_PAGE`` unless the list says otherwise), answers an HTMX request
with the template's ``results`` partial only (the search box and the filter form swap ``#results``),
and puts in the context what ``includes/list_tail.html`` needs for the empty state and the
pagination (which keeps every filter of the URL through ``{% querystring %}``).

Every page rendered here has ``filtering`` in its context; tests/test_list_pages.py walks the URL
configuration and finds the list pages by it, so a new list page cannot miss the paging tests.
"""
from collections.abc import Callable

from django import forms
from django.core.paginator import Page, Paginator
from django.shortcuts import render
from django.utils.functional import cached_property

from . import row_counts
from .quick_select import quick_selects

PER_PAGE = 50
# A list over a table of millions passes estimate_past=EXACT_UP_TO: counted exactly that far, and
# paged (by the estimate) up to REACHABLE rows.
EXACT_UP_TO = row_counts.EXACT_UP_TO
REACHABLE = 10_000


class ListFilter(forms.Form):
    """A GET filter bound to ``request.GET`` that never refuses a page: a value that does not parse is
    reported beside its field and left out of the filter. Subclasses narrow the rows in ``apply``."""

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        quick_selects(self)  # a filter of 500 routers, written without a template per option
        self.is_valid()

    def value(self, name: str, default=None):
        return self.cleaned_data.get(name) or default

    def apply(self, rows):
        return rows


class SearchFilter(ListFilter):
    """A list whose one filter is the search box (``?q=``): subclasses say what a search matches."""

    q = forms.CharField(required=False)

    def apply(self, rows):
        q = self.value("q", "")
        return self.search(rows, q) if q else rows

    def search(self, rows, q: str):
        raise NotImplementedError


class CountedUpTo(Paginator):
    """Pages of a list too long to count exactly on every view (an audit trail of millions of rows):
    it counts at most ``most`` + 1 rows, and says "more than ``most``" past that. Later pages stay
    reachable up to the cap; beyond it a person narrows the list with its filters."""

    # Set past the cap by EstimatedPast: the planner's figure for the whole list ("about N").
    estimate: int | None = None

    def __init__(self, object_list, per_page, most: int):
        super().__init__(object_list, per_page)
        self.most = most
        self.capped = False

    @cached_property
    def count(self) -> int:
        counted = row_counts.count_up_to(self.object_list, self.most)
        self.capped = counted > self.most
        return counted


class EstimatedPast(CountedUpTo):
    """CountedUpTo for a table of millions (payments, accounting sessions): past ``most`` rows the
    page says "about N in all" with PostgreSQL's estimate (lib.row_counts) instead of "more than".
    A filtered set of up to ``most`` rows is counted exactly; past it, pages stay reachable as far as
    the estimate says, up to ``reachable`` rows (OFFSET reads every row it skips: older ones are
    reached with the filters). An estimate above the truth can leave the last of those pages empty."""

    def __init__(self, object_list, per_page, most: int, reachable: int = REACHABLE):
        super().__init__(object_list, per_page, most)
        self.reachable = reachable

    @cached_property
    def count(self) -> int:
        found = row_counts.count_rows(self.object_list, self.most)
        self.capped = not found.exact
        if self.capped:
            self.estimate = found.rounded
            return min(found.value, max(self.reachable, self.most + 1))
        return found.value


def list_page(request, rows, template: str, *, filters: ListFilter | None = None, per_page: int = PER_PAGE,
              on_page: Callable[[Page], None] | None = None, count_up_to: int | None = None,
              estimate_past: int | None = None, **context):
    """Render one page of ``rows`` with ``template``; an HTMX request gets its ``results`` partial.

    ``on_page`` sees the page before rendering, for what is looked up for its rows only (per-row
    counts in one grouped query, say); ``count_up_to`` for a list of millions, counted only that far;
    ``estimate_past`` likewise, then "about N" from the planner (EstimatedPast).
    ``filtering`` in the context is true when the URL narrows the
    rows, so the empty state can say "nothing matches" rather than "nothing yet" (a page whose
    parameters choose something else passes its own)."""
    if estimate_past is not None:
        pages = EstimatedPast(rows, per_page, estimate_past)
    elif count_up_to is not None:
        pages = CountedUpTo(rows, per_page, count_up_to)
    else:
        pages = Paginator(rows, per_page)
    page = pages.get_page(request.GET.get("page"))
    if on_page is not None:
        on_page(page)
    context.setdefault("q", request.GET.get("q", "").strip())
    context.setdefault("filtering", any(value.strip() for key, value in request.GET.items() if key != "page"))
    context.update(page=page, filters=filters)
    return render(request, template + ("#results" if request.htmx else ""), context)
