"""Offset pages for the JSON API: one range check and one answer shape for every list."""
from ninja.errors import HttpError

MAX_PAGE = 200
# PostgreSQL's OFFSET is a bigint: 2^63 and beyond was a 500 ("bigint out of range"). No list
# comes near a billion rows, so that is the bound, and the answer names it.
MAX_OFFSET = 1_000_000_000


def page(rows, limit: int, offset: int, most: int = MAX_PAGE) -> dict:
    """``{"count", "results"}`` for ``rows[offset:offset + limit]``; a limit outside 1..``most`` or an
    offset outside 0..MAX_OFFSET is a 422 that says what is allowed."""
    if not 1 <= limit <= most or offset < 0:
        raise HttpError(422, f"limit must be 1..{most} and offset at least 0")
    if offset > MAX_OFFSET:
        raise HttpError(422, f"offset must be at most {MAX_OFFSET}")
    return {"count": rows.count(), "results": list(rows[offset:offset + limit])}
