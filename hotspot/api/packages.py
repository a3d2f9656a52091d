"""API /api/packages: packages and package groups."""
from decimal import Decimal
from typing import Annotated

from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404
from ninja import Field, FilterLookup, FilterSchema, Query, Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status

from accounts.access import api_access, perm

from .. import services
from ..models import AfterAllowance, Package, PackageGroup, PackageKind, ServiceType

packages_router = Router(tags=["packages"])


class PackageIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    price: Decimal = Field(ge=0, max_digits=10, decimal_places=2, description="KES")
    validity_minutes: int = Field(ge=1, le=10_000_000, description="1 day = 1440, 1 month = 43200 (30 days)")
    service_type: ServiceType = ServiceType.HOTSPOT
    rate_limit: str = Field("", max_length=64, description='MikroTik upload/download, e.g. "2M/5M"')
    data_limit_mb: int | None = Field(None, ge=1, le=2_147_483_647, description="empty: unlimited")
    daily_data_limit_mb: int | None = Field(None, ge=1, le=2_147_483_647,
                                            description="empty: no daily cap; resets at midnight, business time")
    after_allowance: AfterAllowance = Field(AfterAllowance.BLOCK, description="once an allowance is used up: "
                                            "block (rejected until renewed) or throttle (slowed down)")
    fup_rate_limit: str = Field("", max_length=64, description='throttle only: the speed then, e.g. "512k/512k"')
    kind: PackageKind = Field(PackageKind.PLAN, description="plan, or boost: adds data_limit_mb (empty: full "
                              "speed) to the customer's running plan for validity_minutes")
    devices: int = Field(1, ge=1, le=100, description="devices online at once")
    grace_minutes: int = Field(0, ge=0, le=100_000)
    is_active: bool = True
    display_order: int = Field(0, ge=0, le=2_147_483_647)
    group_id: int | None = None


class PackageOut(Schema):
    id: int
    name: str
    price: Decimal
    validity_minutes: int
    service_type: str
    rate_limit: str
    data_limit_mb: int | None
    daily_data_limit_mb: int | None
    after_allowance: str
    fup_rate_limit: str
    kind: str
    devices: int
    grace_minutes: int
    is_active: bool
    display_order: int
    group_id: int | None
    radius_group: str


class GroupIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    description: str = Field("", max_length=255)
    display_order: int = Field(0, ge=0, le=2_147_483_647)


class GroupOut(Schema):
    id: int
    name: str
    description: str
    display_order: int


class PackageFilter(FilterSchema):
    active: Annotated[bool | None, FilterLookup("is_active")] = None


class Message(Schema):
    detail: str


def _apply(package: Package, data: PackageIn) -> Package:
    if data.group_id is not None and not PackageGroup.objects.filter(pk=data.group_id).exists():
        raise HttpError(422, f"No package group with id {data.group_id}")
    for field, value in data.dict().items():
        setattr(package, field, value)
    try:
        return services.save_package(package)
    except services.PackageError as refused:
        raise HttpError(422, str(refused)) from None
    except IntegrityError:
        raise HttpError(409, f'A package named "{data.name}" already exists') from None


@packages_router.get("", auth=api_access(perm("hotspot.view_package")), response=list[PackageOut],
                     summary="All packages")
def list_packages(request, filters: Query[PackageFilter]):
    return list(filters.filter(Package.objects.all()))


@packages_router.post("", auth=api_access(perm("hotspot.add_package")),
                      response={201: PackageOut, 409: Message, 422: Message}, summary="Add a package")
def create_package(request, data: PackageIn):
    return Status(201, _apply(Package(), data))


@packages_router.get("/groups", auth=api_access(perm("hotspot.view_packagegroup")), response=list[GroupOut],
                     summary="Package groups")
def list_groups(request):
    return list(PackageGroup.objects.all())


@packages_router.post("/groups", auth=api_access(perm("hotspot.add_packagegroup")),
                      response={201: GroupOut, 409: Message}, summary="Add a package group")
def create_group(request, data: GroupIn):
    if PackageGroup.objects.filter(name__iexact=data.name).exists():
        raise HttpError(409, f'A group named "{data.name}" already exists')
    try:
        with transaction.atomic():
            return Status(201, services.save_group(PackageGroup(**data.dict())))
    except IntegrityError:  # created by a concurrent request since the check above
        raise HttpError(409, f'A group named "{data.name}" already exists') from None


@packages_router.get("/{package_id}", auth=api_access(perm("hotspot.view_package")), response=PackageOut,
                     summary="One package")
def get_package(request, package_id: int):
    return get_object_or_404(Package, pk=package_id)


@packages_router.put("/{package_id}", auth=api_access(perm("hotspot.change_package")),
                     response={200: PackageOut, 409: Message, 422: Message}, summary="Change a package")
def update_package(request, package_id: int, data: PackageIn):
    return _apply(get_object_or_404(Package, pk=package_id), data)


@packages_router.delete("/{package_id}", auth=api_access(perm("hotspot.delete_package")),
                        response={204: None, 409: Message}, summary="Delete a package never sold")
def delete_package(request, package_id: int):
    try:
        services.delete_package(get_object_or_404(Package, pk=package_id))
    except services.PackageError as refused:
        raise HttpError(409, str(refused)) from None
    return Status(204, None)


@packages_router.post("/{package_id}/activate", auth=api_access(perm("hotspot.change_package")),
                      response=PackageOut, summary="Put on sale")
def activate_package(request, package_id: int):
    return services.set_package_active(get_object_or_404(Package, pk=package_id), True)


@packages_router.post("/{package_id}/deactivate", auth=api_access(perm("hotspot.change_package")),
                      response=PackageOut, summary="Take off sale")
def deactivate_package(request, package_id: int):
    return services.set_package_active(get_object_or_404(Package, pk=package_id), False)
