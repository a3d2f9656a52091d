"""Where M-Pesa posts: plain views over the raw body (it is stored byte for byte before anything
parses it), answering Daraja's acknowledgement at once. A wrong token is a 404, and its body is
kept too: someone probing the endpoint is worth knowing about."""
import hmac
import json

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.access import PUBLIC, access
from config.network import client_ip

from . import callbacks
from .models import MpesaCallback


def _json(body: dict, status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(body), status=status, content_type="application/json")


def _token_ok(request, token: str, kind: str) -> bool:
    if hmac.compare_digest(token.encode(), settings.MPESA_CALLBACK_TOKEN.encode()):
        return True
    record = callbacks.store(kind, request.body, client_ip(request))
    record.outcome, record.detail = MpesaCallback.Outcome.BAD_TOKEN, f"token {token[:40]!r}"
    record.save(update_fields=["outcome", "detail"])
    return False


def _not_found() -> HttpResponse:
    return _json({"detail": "Not found"}, status=404)


def _endpoint(handle, kind: str | None = None):
    """A callback URL: a wrong token is kept and answered 404; otherwise ``handle(body, ip)``
    stores and processes the body and gives the answer M-Pesa gets."""

    @access(PUBLIC)
    @csrf_exempt
    @require_POST
    def view(request, token: str):
        if not _token_ok(request, token, kind or callbacks.kind_of(request.body)):
            return _not_found()
        _, answer = handle(request.body, client_ip(request))
        return _json(answer)

    return view


def _acknowledged(handle):
    return lambda raw, ip: (handle(raw, ip), callbacks.ACK)


# The documented endpoint: STK callbacks and C2B confirmations alike.
mpesa_callback = _endpoint(callbacks.handle_any)
# The CallBackURL we give Daraja (Safaricom refuses URLs containing "mpesa").
stk_callback = _endpoint(_acknowledged(callbacks.handle_stk), MpesaCallback.Kind.STK)
c2b_confirmation = _endpoint(_acknowledged(callbacks.handle_c2b_confirmation), MpesaCallback.Kind.C2B_CONFIRMATION)
c2b_validation = _endpoint(callbacks.handle_c2b_validation, MpesaCallback.Kind.C2B_VALIDATION)
