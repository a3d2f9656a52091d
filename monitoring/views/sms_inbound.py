"""Where Africa's Talking posts the SMS customers send us (/api/sms/inbound/<token>): a plain view
over the raw body, which monitoring.inbound_sms stores whatever it holds, then routes to a ticket.

The answers: 200 attached; 422 unmatched (well formed, from a number with no ticket to take it: a
retry cannot change that, and the 4xx shows it as refused in Africa's Talking's callback log rather
than as our failure, while a retry that does come is the same id, stored once and answered the
same); 400 malformed; 403 a wrong token (429 past the limits on keeping those); 503 when the
database would not store it, the one answer that asks for the post again."""
import logging

from django.db import DatabaseError
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.access import PUBLIC, access
from lib.input_guard import keeps_raw_body
from lib.network import client_ip

from .. import inbound_sms
from ..models import InboundSms

log = logging.getLogger(__name__)
ANSWERS = {InboundSms.Status.ATTACHED: 200, InboundSms.Status.UNMATCHED: 422, InboundSms.Status.REJECTED: 400,
           InboundSms.Status.FORGED: 403}


@keeps_raw_body
@access(PUBLIC)
@csrf_exempt
@require_POST
def sms_inbound(request, token: str):
    ip, size = client_ip(request), _declared_size(request)
    try:
        if not inbound_sms.token_is_right(token):
            if inbound_sms.keep_forged(request.read(inbound_sms.FORGED_RAW_CHARS), ip, token) is None:
                return JsonResponse({"detail": "Too many requests"}, status=429)
            return JsonResponse({"detail": "Forbidden"}, status=403)
        if size > inbound_sms.MAX_POST_BYTES:
            record = inbound_sms.keep_unread(size, ip)
        else:
            record = inbound_sms.receive(request.body, request.content_type or "", ip)
    except DatabaseError:
        log.error("inbound SMS to %s not stored: answered 503", request.path_info.rsplit("/", 1)[0], exc_info=True)
        return JsonResponse({"detail": "Not stored; send it again"}, status=503)
    return JsonResponse({"status": record.status, "detail": record.detail}, status=ANSWERS[record.status])


def _declared_size(request) -> int:
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0
