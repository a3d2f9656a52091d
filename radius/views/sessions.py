"""/radius/sessions/: who is online, the session history, and disconnecting a session (RFC 5176)."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accounts.access import access, perm
from lib.confirm import confirm_page, safe_next
from lib.listing import EXACT_UP_TO, list_page

from .. import coa
from ..forms import SessionSearch
from ..models import CoaAttempt, Nas, RadAcct

TEMPLATE = "radius/sessions.html"


@access(perm("radius.view_radacct"))
def active_sessions(request):
    filters = SessionSearch(request.GET)
    return list_page(request, filters.apply(RadAcct.objects.open().order_by("-acct_start_time")), TEMPLATE,
                     filters=filters, active=True, estimate_past=EXACT_UP_TO,
                     can_disconnect=request.user.has_perm("radius.disconnect_session"), nas_names=_nas_names())


@access(perm("radius.view_radacct"))
def session_history(request):
    filters = SessionSearch(request.GET)
    return list_page(request, filters.apply(RadAcct.objects.order_by("-acct_start_time")), TEMPLATE,
                     filters=filters, active=False, estimate_past=EXACT_UP_TO,
                     can_disconnect=False, nas_names=_nas_names())


def _nas_names() -> dict:
    # A few hundred rows at most: cheaper than joining radacct on text against inet.
    return dict(Nas.objects.values_list("nasname", "shortname"))


@access(perm("radius.disconnect_session"))
@require_http_methods(["GET", "POST"])
def disconnect_session(request, pk):
    """GET asks first (lib.confirm); POST sends the Disconnect."""
    session = get_object_or_404(RadAcct, pk=pk)
    back = safe_next(request, reverse("radius-sessions"))
    if request.method == "GET":
        where = _nas_names().get(session.nas_ip_address, session.nas_ip_address)
        return confirm_page(request, question=f"Disconnect {session.username}?", button="Disconnect", back=back,
                            detail=f"Their session on {where} ends now; they can log in again while their "
                                   "package lasts.", fields={"next": back})
    if not session.is_open:
        messages.info(request, f"{session.username}'s session had already ended.")
    else:
        attempt = coa.disconnect(session, requested_by=request.user.username)
        level = messages.SUCCESS if attempt.ended else messages.ERROR
        text = {
            CoaAttempt.Outcome.ACK: f"The router disconnected {session.username}.",
            CoaAttempt.Outcome.NAK: f"The router refused to disconnect {session.username}: "
                                    f"{attempt.detail or 'no reason given'}.",
            CoaAttempt.Outcome.TIMEOUT: f"The router did not answer ({attempt.detail}).",
            CoaAttempt.Outcome.ERROR: f"Could not ask the router: {attempt.detail}.",
        }[attempt.outcome]
        if attempt.ended and attempt.outcome != CoaAttempt.Outcome.ACK:
            text = f"{session.username}'s session was ended over the router's API ({attempt.detail})."
        messages.add_message(request, level, text)
    return redirect(back)
