"""A package as a MikroTik hotspot user profile on the routers (routers.hotspot_profiles), for operators
who also give out the routers' own local users: the profile carries the package's rate limit, its
devices as shared users and its validity as the session timeout, named after the package and marked
with its RADIUS group ("Daily 5M [pkg-12]")."""
from audit import trail
from routers import hotspot_profiles
from routers.models import Router

from .models import Package, PackageKind, ServiceType


class ProfileError(ValueError):
    """A package that cannot be a hotspot user profile."""


def wanted(package: Package) -> hotspot_profiles.Wanted:
    if package.service_type != ServiceType.HOTSPOT:
        raise ProfileError(f"{package.name} is a {package.get_service_type_display()} package: only hotspot "
                           "packages are hotspot user profiles")
    if package.kind != PackageKind.PLAN:
        raise ProfileError(f"{package.name} is a boost: it adds to a plan and is no profile of its own")
    return hotspot_profiles.Wanted(key=package.radius_group, label=package.name, rate_limit=package.rate_limit,
                                   shared_users=package.devices, session_timeout=package.validity_minutes * 60)


def package_of(key: str | None) -> int | None:
    """The package id a profile's marker names (``pkg-12`` -> 12), None for the operator's own."""
    prefix = "pkg-"
    return int(key[len(prefix):]) if key and key.startswith(prefix) else None


def push_package(package: Package, routers: list[Router], by=None) -> list[hotspot_profiles.Pushed]:
    """Write ``package`` as a profile on each router (in parallel); one audit entry on the package says
    how each router took it, and each router that changed has its own (routers.hotspot_profiles)."""
    profile = wanted(package)
    results = hotspot_profiles.push_many(routers, profile, by)
    trail.record("pushed_as_profile", package, note="; ".join(
        f"{r.router.name}: {r.outcome}" + (f" ({r.reason})" if r.reason else "") for r in results))
    return results
