"""API: voucher batches for staff, and redeeming a code from a portal page (public, rate-limited)."""
from datetime import datetime

from django.conf import settings
from django.http import HttpResponse
from ninja import Field, Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status

from accounts.access import PUBLIC, api_access, perm
from lib.network import address_or_none, address_subject, client_ip
from lib.paging import page
from lib.throttle import Slowdown

from . import vouchers
from .models import Package, Voucher

vouchers_router = Router(tags=["vouchers"])
portal_router = Router(tags=["portal"])


class VoucherOut(Schema):
    code: str
    status: str
    batch_id: int
    package: str = Field(alias="batch.package.name")
    valid_until: datetime = Field(alias="batch.valid_until")
    redeemed_at: datetime | None


class VoucherPage(Schema):
    count: int
    results: list[VoucherOut]


class GenerateIn(Schema):
    package_id: int
    count: int = Field(ge=1, le=vouchers.MAX_BATCH)
    prefix: str = Field("", max_length=6)
    valid_days: int = Field(90, ge=1, le=3650)
    note: str = Field("", max_length=200)


class BatchOut(Schema):
    id: int
    count: int
    package_id: int
    valid_until: datetime
    codes: list[str]


@vouchers_router.get("/vouchers", auth=api_access(perm("hotspot.view_voucher")), response=VoucherPage,
                     summary="Vouchers", by_alias=False)
def list_vouchers(request, batch_id: int | None = None, status: Voucher.Status | None = None, limit: int = 100,
                  offset: int = 0):
    found = Voucher.objects.select_related("batch__package").order_by("pk")
    if batch_id:
        found = found.filter(batch_id=batch_id)
    if status:
        found = found.filter(status=status)
    return page(found, limit, offset, most=1000)  # a printed batch is read whole


@vouchers_router.post("/vouchers/generate", auth=api_access(perm("hotspot.add_voucher")),
                      response={201: BatchOut}, summary="Generate a batch")
def generate(request, data: GenerateIn):
    package = Package.objects.filter(pk=data.package_id).first()
    if package is None:
        raise HttpError(422, f"No package with id {data.package_id}")
    batch = vouchers.generate_batch(package, data.count, prefix=data.prefix, valid_days=data.valid_days,
                                    note=data.note, created_by=request.user.username)
    return Status(201, {"id": batch.pk, "count": batch.count, "package_id": package.pk,
                        "valid_until": batch.valid_until,
                        "codes": list(batch.vouchers.values_list("code", flat=True))})


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


def guess_slowdown() -> Slowdown:
    """Wrong voucher codes and portal sign-ins, per client address: the one thing about who asks
    that the network reports; the mac and ip fields are the client's own claim (see settings)."""
    return Slowdown("portal-guess", settings.PORTAL_VOUCHER_FAILURES_PER_IP,
                    settings.PORTAL_VOUCHER_WINDOW_MINUTES * 60, settings.PORTAL_VOUCHER_SLOWDOWN_SECONDS)


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
                                       ip=address_or_none(data.ip))
    except vouchers.VoucherError as refused:
        status = 404 if refused.reason == "unknown" else 409
        return Status(status, {"detail": str(refused), "reason": refused.reason})
    guard.forgive(address)
    customer = subscription.customer
    return {"username": customer.username, "password": customer.password, "expires_at": subscription.expires_at,
            "package": subscription.package.name}
