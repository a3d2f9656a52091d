"""API for portal pages (ours, or ones hosted on the router): buy a package with M-Pesa, follow
the payment, renew, or spend the wallet. Public and rate-limited."""
from datetime import datetime

from django.http import JsonResponse
from ninja import Field, Router, Schema
from ninja.responses import Status

from accounts.access import PUBLIC, api_access
from lib.api_errors import Problem
from lib.network import address_or_none, client_ip

from .. import purchase

purchase_router = Router(tags=["purchase"])


class InitiateIn(Schema):
    package_id: int
    phone: str = Field(max_length=20)
    mac: str = Field("", max_length=17)
    ip: str = Field("", max_length=45)


class RenewIn(Schema):
    phone: str = Field(max_length=20)
    package_id: int | None = None
    mac: str = Field("", max_length=17)
    ip: str = Field("", max_length=45)


class WalletIn(Schema):
    package_id: int
    phone: str = Field(max_length=20)
    password: str = Field(max_length=64)


class Started(Schema):
    payment_id: int
    checkout_request_id: str
    status: str
    status_token: str = Field(description="Present it to the status call (X-Status-Token header or status_token "
                                          "query) to receive the credentials once the payment completes")


class PaymentState(Schema):
    payment_id: int
    checkout_request_id: str | None
    status: str
    amount: str
    username: str | None = None
    password: str | None = None
    expires_at: datetime | None = None
    reason: str | None = None


class Refusal(Schema):
    detail: str
    reason: str


# A 422 is either the purchase's own refusal or the API's answer to input that fails validation.
REFUSALS = {**{code: Refusal for code in (401, 404, 409, 429, 503)}, 422: Refusal | Problem}


def _answered(step, present):
    """Run a purchase step and present its payment; a refusal becomes its JSON answer."""
    try:
        payment = step()
    except purchase.PurchaseRefused as refused:
        if refused.retry_after:  # a Status carries no header: the same body, answered directly
            answer = JsonResponse({"detail": refused.detail, "reason": refused.reason}, status=refused.status)
            answer["Retry-After"] = str(refused.retry_after)
            return answer
        return Status(refused.status, {"detail": refused.detail, "reason": refused.reason})
    return present(payment)


def _started(payment):
    return {"payment_id": payment.pk, "checkout_request_id": payment.checkout_request_id, "status": payment.status,
            "status_token": purchase.token_for(payment)}


@purchase_router.post("/mpesa/initiate", auth=api_access(PUBLIC), response={200: Started, **REFUSALS},
                      summary="Buy a package: an M-Pesa prompt goes to the phone")
def initiate(request, data: InitiateIn):
    return _answered(lambda: purchase.initiate(package_id=data.package_id, phone=data.phone, mac=data.mac,
                                               ip=address_or_none(data.ip), client_ip=client_ip(request)), _started)


@purchase_router.post("/package", auth=api_access(PUBLIC), response={200: PaymentState, **REFUSALS},
                      exclude_none=True, summary="Buy a package from the wallet balance (phone + account password)")
def buy_with_wallet(request, data: WalletIn):
    return _answered(lambda: purchase.from_wallet(package_id=data.package_id, phone=data.phone,
                                                  password=data.password, client_ip=client_ip(request)),
                     purchase.state)


@purchase_router.post("/renew", auth=api_access(PUBLIC), response={200: Started, **REFUSALS},
                      summary="Renew the phone's last package (or the one named) with an M-Pesa prompt")
def renew(request, data: RenewIn):
    return _answered(lambda: purchase.renew(phone=data.phone, package_id=data.package_id, mac=data.mac,
                                            ip=address_or_none(data.ip), client_ip=client_ip(request)), _started)


@purchase_router.get("/mpesa/status", auth=api_access(PUBLIC), response={200: PaymentState, **REFUSALS},
                     exclude_none=True, summary="Where a payment stands; once completed, the credentials to use")
def status(request, checkout_request_id: str = "", status_token: str = ""):
    """A CheckoutRequestID alone gives the status; the credentials go only to the client holding
    the status_token its initiate answer carried (header or query)."""
    token = request.headers.get("X-Status-Token", "") or status_token
    return _answered(lambda: purchase.by_checkout_id(checkout_request_id, client_ip(request)),
                     lambda payment: purchase.state(payment, credentials=purchase.started_here(payment, token)))
