"""API /api/logs/payments: every body M-Pesa posted to us, as received, with what became of it."""
from typing import Annotated

from django.db.models import Q
from ninja import Field, FilterLookup, FilterSchema, Query, Router, Schema

from accounts.access import api_access, perm
from lib.api_types import Moment
from lib.paging import EXACT_UP_TO, count_estimated, page

from ..models import MpesaCallback
from .payments import CallbackOut

callback_log_router = Router(tags=["logs"])


class LoggedCallbackOut(CallbackOut):
    checkout_request_id: str
    mpesa_receipt: str
    payment_id: int | None
    body: str


class CallbackPage(Schema):
    count: int
    count_estimated: bool = count_estimated()
    results: list[LoggedCallbackOut]


class CallbackFilter(FilterSchema):
    kind: MpesaCallback.Kind | None = None
    outcome: MpesaCallback.Outcome | None = None
    checkout_request_id: str | None = None
    mpesa_receipt: str | None = Field(None, description="the M-Pesa receipt the body carries (any case)")
    since: Annotated[Moment | None, FilterLookup("received_at__gte")] = None
    until: Annotated[Moment | None, FilterLookup("received_at__lt")] = None

    def filter_mpesa_receipt(self, receipt: str | None) -> Q:
        return Q(mpesa_receipt=receipt.upper()) if receipt else Q()


@callback_log_router.get("/payments", auth=api_access(perm("billing.view_mpesacallback")),
                         response=CallbackPage, summary="Every body M-Pesa posted, newest first")
def callback_log(request, filters: Query[CallbackFilter], limit: int = 50, offset: int = 0):
    return page(filters.filter(MpesaCallback.objects.order_by("-received_at", "-pk")), limit, offset,
                estimate_past=EXACT_UP_TO)
