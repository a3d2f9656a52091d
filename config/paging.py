"""Offset pages for the JSON API: one range check and one answer shape for every list."""
from ninja.errors import HttpError

MAX_PAGE = 200


def page(rows, limit: int, offset: int, most: int = MAX_PAGE) -> dict:
    """``{"count", "results"}`` for ``rows[offset:offset + limit]``; a limit outside 1..``most`` or a
    negative offset is a 422 that says what is allowed."""
    if not 1 <= limit <= most or offset < 0:
        raise HttpError(422, f"limit must be 1..{most} and offset at least 0")
    return {"count": rows.count(), "results": list(rows[offset:offset + limit])}
