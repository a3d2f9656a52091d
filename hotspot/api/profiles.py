"""API /api/hotspot/profiles: the MikroTik hotspot user profiles on the routers, and a package pushed
as one (hotspot.profiles). A router that fails answers 502 {"detail", "reason"} on a read; on a push
each router's outcome is in the answer (created | updated | unchanged | failed, with its reason)."""
from typing import Literal

from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status
from pydantic import field_validator

from accounts.access import api_access, perm
from routers import hotspot_profiles
from routers.api.schemas import FAILED, Message, router_failed
from routers.models import Router as MikroTik
from routers.routeros import RouterError

from .. import profiles
from ..models import Package

profiles_router = Router(tags=["hotspot profiles"])
VIEW, CHANGE = perm("routers.view_router"), perm("routers.change_router")


class ProfileOut(Schema):
    id: str
    name: str
    rate_limit: str
    shared_users: int | None
    session_timeout: int | None = Field(description="seconds; null: none")
    default: bool
    package: int | None = Field(description="the package this profile is ours for (its name ends in "
                                "[pkg-<id>]); null: one of the operator's own")

    @staticmethod
    def resolve_package(row: dict) -> int | None:
        return profiles.package_of(row["key"])


class RouterProfiles(Schema):
    router: int
    profiles: list[ProfileOut]


class RouterQuery(Schema):
    router: int = Field(ge=1, le=2_147_483_647, description="the router's id")


class PushIn(Schema):
    package: int = Field(ge=1, le=2_147_483_647, description="a hotspot plan's id")
    routers: list[int] | Literal["all"] | None = Field(
        None, description='routers\' ids (1 to 1000); "all", null or omitted: every router')

    @field_validator("routers")
    @classmethod
    def some_routers(cls, value):
        if isinstance(value, list) and not 1 <= len(value) <= 1000:
            raise ValueError("name 1 to 1000 routers, or \"all\"")
        return value


class PushResult(Schema):
    router: int
    router_name: str
    outcome: str = Field(description="created | updated | unchanged | failed")
    reason: str = Field(description="a failure's: unreachable | auth_failed | refused | secret_unreadable")
    detail: str


class PushOut(Schema):
    package: int
    profile: str
    results: list[PushResult]


@profiles_router.get("/profiles", auth=api_access(VIEW), response={200: RouterProfiles, **FAILED},
                     summary="A router's hotspot user profiles, read from it now")
def list_profiles(request, query: Query[RouterQuery]):
    router = MikroTik.objects.filter(pk=query.router).first()
    if router is None:
        raise HttpError(404, f"No router with id {query.router}")
    try:
        return {"router": router.pk, "profiles": hotspot_profiles.read(router)}
    except RouterError as error:
        return router_failed(error)


@profiles_router.post("/profiles", auth=api_access(CHANGE), response={200: PushOut, 422: Message},
                      summary="Push a hotspot package as a tagged user profile to some routers or all")
def push_profile(request, data: PushIn):
    package = Package.objects.filter(pk=data.package).first()
    if package is None:
        raise HttpError(422, f"No package with id {data.package}")
    if data.routers is None or data.routers == "all":
        routers = list(MikroTik.objects.order_by("name"))
    else:
        found = {router.pk: router for router in MikroTik.objects.filter(pk__in=data.routers)}
        missing = sorted(set(data.routers) - found.keys())
        if missing:
            raise HttpError(422, f"No router with id {', '.join(map(str, missing))}")
        routers = [found[pk] for pk in dict.fromkeys(data.routers)]
    try:
        results = profiles.push_package(package, routers, request.user)
    except profiles.ProfileError as refused:
        raise HttpError(422, str(refused)) from None
    return Status(200, {"package": package.pk, "profile": profiles.wanted(package).name, "results": [
        {"router": r.router.pk, "router_name": r.router.name, "outcome": r.outcome, "reason": r.reason,
         "detail": r.detail} for r in results]})
