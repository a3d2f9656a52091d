"""The number beside Tickets in the staff sidebar: the open tickets (waiting for staff) the user may see.

Every staff page draws the sidebar, so the number is kept in the user's session for FRESH_FOR
seconds (the session is read and saved on every request anyway) and counted again only after
that: one indexed COUNT at most every half minute instead of one per page. It is counted at
sign-in, and afresh whenever a page hears "ticket.changed" (the services publish it after every
change) and fetches the badge's own URL, so the pages open show a change within a second and a
page opened later is at most FRESH_FOR seconds behind."""
import time

from ..models import Ticket
from . import access

FRESH_FOR = 30  # seconds
SESSION_KEY = "open_tickets"  # [count, when counted (epoch seconds)]


def open_count(user) -> int:
    return access.visible_to(user).filter(status=Ticket.Status.OPEN).count()


def count_again(request, now: float | None = None, user=None) -> int:
    """Count now and keep the number in the session."""
    counted = open_count(user or request.user)
    request.session[SESSION_KEY] = [counted, now if now is not None else time.time()]
    return counted


def shown(request, now: float | None = None) -> int:
    """The number for a page: the session's while fresh, else counted again."""
    now = now if now is not None else time.time()
    kept = request.session.get(SESSION_KEY)
    if isinstance(kept, list) and len(kept) == 2 and 0 <= now - kept[1] < FRESH_FOR:
        return kept[0]
    return count_again(request, now)


def count_at_sign_in(sender, request, user, **kwargs) -> None:
    """user_logged_in: the first page after signing in finds the number ready."""
    if request is not None and hasattr(request, "session"):
        count_again(request, user=user)
