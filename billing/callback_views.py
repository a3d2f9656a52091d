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


@access(PUBLIC)
@csrf_exempt
@require_POST
def mpesa_callback(request, token: str):
    """The documented endpoint: STK callbacks and C2B confirmations alike."""
    kind = MpesaCallback.Kind.C2B_CONFIRMATION if b'"TransID"' in request.body else MpesaCallback.Kind.STK
    if not _token_ok(request, token, kind):
        return _not_found()
    _, answer = callbacks.handle_any(request.body, client_ip(request))
    return _json(answer)


@access(PUBLIC)
@csrf_exempt
@require_POST
def stk_callback(request, token: str):
    """The CallBackURL we give Daraja (Safaricom refuses URLs containing "mpesa")."""
    if not _token_ok(request, token, MpesaCallback.Kind.STK):
        return _not_found()
    callbacks.handle_stk(request.body, client_ip(request))
    return _json(callbacks.ACK)


@access(PUBLIC)
@csrf_exempt
@require_POST
def c2b_confirmation(request, token: str):
    if not _token_ok(request, token, MpesaCallback.Kind.C2B_CONFIRMATION):
        return _not_found()
    callbacks.handle_c2b_confirmation(request.body, client_ip(request))
    return _json(callbacks.ACK)


@access(PUBLIC)
@csrf_exempt
@require_POST
def c2b_validation(request, token: str):
    if not _token_ok(request, token, MpesaCallback.Kind.C2B_VALIDATION):
        return _not_found()
    _, answer = callbacks.handle_c2b_validation(request.body, client_ip(request))
    return _json(answer)
