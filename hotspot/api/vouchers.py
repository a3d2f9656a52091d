"""API /api/hotspot/vouchers: the codes, and generating a batch (staff). Redeeming one is /api/portal."""
from datetime import datetime

from ninja import Field, FilterSchema, Query, Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status

from accounts.access import api_access, perm
from lib.paging import page

from .. import vouchers
from ..models import Package, Voucher

vouchers_router = Router(tags=["vouchers"])


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


class VoucherFilter(FilterSchema):
    batch_id: int | None = None
    status: Voucher.Status | None = None


class GenerateIn(Schema):
    package_id: int
    count: int = Field(ge=1, le=vouchers.MAX_BATCH)
    prefix: str = Field("", max_length=6, pattern=r"^[A-Za-z0-9]*$",
                        description="your own label: up to 6 letters (A-Z) and digits, stored in capitals")
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
def list_vouchers(request, filters: Query[VoucherFilter], limit: int = 100, offset: int = 0):
    found = filters.filter(Voucher.objects.select_related("batch__package").order_by("pk"))
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
