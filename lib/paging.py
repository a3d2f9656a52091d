"""Offset pages for the JSON API: one range check and one answer shape for every list.

``count`` is exact unless the list passes ``estimate_past``: then a set of up to that many rows is
still counted exactly, and a longer one gets PostgreSQL's estimate with ``count_estimated`` true
(lib.row_counts). Page such a list until a page comes back shorter than ``limit``, not to ``count``.
"""
from ninja import Field
from ninja.errors import HttpError

from . import row_counts

MAX_PAGE = 200
# PostgreSQL's OFFSET is a bigint: 2^63 and beyond was a 500 ("bigint out of range"). No list
# comes near a billion rows, so that is the bound, and the answer names it.
MAX_OFFSET = 1_000_000_000
EXACT_UP_TO = row_counts.EXACT_UP_TO



def count_estimated():
    """The field a page schema whose list passes estimate_past declares, saying how to read ``count``."""
    return Field(False, description=f"true when count is PostgreSQL's estimate: a list of more than {EXACT_UP_TO:,} "
                                    "rows is not counted exactly; page until a page comes back shorter than limit")


def page(rows, limit: int, offset: int, most: int = MAX_PAGE, estimate_past: int | None = None) -> dict:
    """``{"count", "count_estimated", "results"}`` for ``rows[offset:offset + limit]``; a limit outside
    1..``most`` or an offset outside 0..MAX_OFFSET is a 422 that says what is allowed."""
    if not 1 <= limit <= most or offset < 0:
        raise HttpError(422, f"limit must be 1..{most} and offset at least 0")
    if offset > MAX_OFFSET:
        raise HttpError(422, f"offset must be at most {MAX_OFFSET}")
    found = row_counts.count_rows(rows, estimate_past) if estimate_past is not None else row_counts.RowCount(
        rows.count(), exact=True)
    return {"count": found.value, "count_estimated": not found.exact, "results": list(rows[offset:offset + limit])}
