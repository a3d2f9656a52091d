"""API /api/portal: redeeming a voucher code from a portal page, public and slowed per address like
the portal's own form (hotspot.portal.guess_slowdown)."""
from datetime import datetime

from django.http import HttpResponse
from ninja import Field, Router, Schema
from ninja.responses import Status

from accounts.access import PUBLIC, api_access
from lib.network import address_or_none, address_subject, client_ip

from .. import vouchers
from ..portal import guess_slowdown

portal_router = Router(tags=["portal"])


class RedeemIn(Schema):
    code: str = Field(max_length=40)
    mac: str = Field("", max_length=17)
    ip: str = Field("", max_length=45)


class Refusal(Schema):
    detail: str
    reason: str


class RedeemOut(Schema):
    username: str
    password: str
    expires_at: datetime
    package: str


@portal_router.post("/voucher", auth=api_access(PUBLIC),
                    response={200: RedeemOut, 404: Refusal, 409: Refusal, 429: Refusal},
                    summary="Redeem a voucher (portal pages, including ones hosted on the router)")
def redeem(request, data: RedeemIn, response: HttpResponse):
    guard, address = guess_slowdown(), address_subject(client_ip(request))
    wait = guard.take(address)
    if wait:
        response["Retry-After"] = str(wait)
        return Status(429, {"detail": f"Too many wrong codes from this address. Try again in {wait} seconds.",
                            "reason": "too_many"})
    try:
        subscription = vouchers.redeem(data.code, mac=data.mac.upper().replace(":", "-"),
                                       ip=address_or_none(data.ip), client_address=address_or_none(client_ip(request)))
    except vouchers.VoucherError as refused:
        status = 404 if refused.reason == "unknown" else 409
        return Status(status, {"detail": str(refused), "reason": refused.reason})
    guard.forgive(address)
    customer = subscription.customer
    return {"username": customer.username, "password": customer.password, "expires_at": subscription.expires_at,
            "package": subscription.package.name}
