"""Where M-Pesa posts: plain views over the raw body (it is stored byte for byte before anything
parses it), answering Daraja once what it says is committed. A wrong token is a 404, and its body
is kept too (truncated, rate-limited per address and in all, deleted after
MPESA_BAD_TOKEN_RETENTION_DAYS): someone probing the endpoint is worth knowing about."""
import hmac
import json
import logging

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.access import PUBLIC, access
from lib.input_guard import keeps_raw_body
from lib.network import client_ip

from .. import callback_spool, callbacks
from ..models import MpesaCallback

log = logging.getLogger(__name__)


def _json(body: dict, status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(body), status=status, content_type="application/json")


def _endpoint(respond, kind: str | None = None):
    """A callback URL: a wrong token is kept and answered 404 (429 past the limits); otherwise
    ``respond(body, ip, kind)`` stores and processes the body and gives (answer, status)."""

    @keeps_raw_body
    @access(PUBLIC)
    @csrf_exempt
    @require_POST
    def view(request, token: str):
        ip, body_kind = client_ip(request), kind or callbacks.kind_of(request.body)
        if not hmac.compare_digest(token.encode(), settings.MPESA_CALLBACK_TOKEN.encode()):
            kept = callbacks.keep_bad_token(body_kind, request.body, ip, token)
            return _json({"detail": "Not found"}, 404) if kept else _json({"detail": "Too many requests"}, 429)
        try:
            return _json(*respond(request.body, ip, body_kind))
        except DatabaseError:  # not even stored (tried twice): kept on disk, and M-Pesa told to resend
            log.error("M-Pesa body to %s not stored: answered %s", request.path, callbacks.RETRY_STATUS, exc_info=True)
            if body_kind in MpesaCallback.MONEY_KINDS:
                callback_spool.keep(body_kind, request.body, ip)
            return _json(callbacks.RETRY, callbacks.RETRY_STATUS)

    return view


def _money(handle):
    return lambda raw, ip, kind: callbacks.answer(handle(raw, ip))


# The documented endpoint: STK callbacks and C2B confirmations alike (told apart once, by the view).
mpesa_callback = _endpoint(lambda raw, ip, kind: callbacks.answer(callbacks.handle_any(raw, ip, kind)))
# The CallBackURL we give Daraja (Safaricom refuses URLs containing "mpesa").
stk_callback = _endpoint(_money(callbacks.handle_stk), MpesaCallback.Kind.STK)
c2b_confirmation = _endpoint(_money(callbacks.handle_c2b_confirmation), MpesaCallback.Kind.C2B_CONFIRMATION)
c2b_validation = _endpoint(lambda raw, ip, kind: (callbacks.handle_c2b_validation(raw, ip)[1], 200),
                           MpesaCallback.Kind.C2B_VALIDATION)
