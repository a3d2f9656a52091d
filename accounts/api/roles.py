"""API /api/roles: the staff roles, built-in (read-only) and custom, and the permissions a custom
role may be given (``app_label.codename``, as has_perm() spells them, with their area and words)."""
from django.contrib.auth.models import Group
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status

from .. import services
from ..access import api_access, perm
from ..forms import offered_permissions
from ..roles import description_of, is_built_in, roles_with_counts

roles_router = Router(tags=["roles"])
MANAGE_STAFF = api_access(perm("accounts.manage_staff"))


class RoleIn(Schema):
    name: str = Field(min_length=1, max_length=150)
    description: str = Field("", max_length=200)
    permissions: list[str] = Field(max_length=1000, description='e.g. ["billing.view_payment"]: '
                                   "GET /api/roles/permissions lists them; at least one")


class RoleOut(Schema):
    id: int
    name: str
    description: str
    built_in: bool
    members: int = Field(description="active staff holding the role")
    permissions: list[str]


class PermissionOut(Schema):
    name: str
    area: str
    label: str


class Message(Schema):
    detail: str


def _out(role: Group) -> dict:
    return {"id": role.pk, "name": role.name, "description": description_of(role), "built_in": is_built_in(role),
            "members": role.members,
            "permissions": sorted(f"{p.content_type.app_label}.{p.codename}" for p in role.permissions.all())}


def _roles():
    return roles_with_counts().prefetch_related("permissions__content_type")


def _one(role_id: int) -> dict:
    return _out(get_object_or_404(_roles(), pk=role_id))


def _refusal(refused: services.StaffError) -> HttpError:
    if isinstance(refused, services.RoleError) and not isinstance(refused, services.RoleNameTaken):
        return HttpError(422, f"{refused.field}: {refused}" if refused.field else str(refused))
    return HttpError(409, str(refused))


@roles_router.get("", auth=MANAGE_STAFF, response=list[RoleOut], summary="All roles, built-in first")
def list_roles(request):
    return [_out(role) for role in _roles()]


@roles_router.get("/permissions", auth=MANAGE_STAFF, response=list[PermissionOut],
                  summary="The permissions a custom role may hold, by area")
def list_role_permissions(request):
    return [{"name": p.name, "area": p.area, "label": p.label} for p in offered_permissions()]


@roles_router.post("", auth=MANAGE_STAFF, response={201: RoleOut, 409: Message, 422: Message},
                   summary="Create a custom role")
def create_role(request, data: RoleIn):
    try:
        role = services.create_role(name=data.name, description=data.description, permissions=data.permissions)
    except services.StaffError as refused:
        raise _refusal(refused) from None
    return Status(201, _one(role.pk))


@roles_router.get("/{role_id}", auth=MANAGE_STAFF, response=RoleOut, summary="One role")
def get_role(request, role_id: int):
    return _one(role_id)


@roles_router.put("/{role_id}", auth=MANAGE_STAFF, response={200: RoleOut, 409: Message, 422: Message},
                  summary="Change a custom role (built-in roles: 409)")
def update_role(request, role_id: int, data: RoleIn):
    role = get_object_or_404(Group, pk=role_id)
    try:
        services.update_role(request.user, role, name=data.name, description=data.description,
                             permissions=data.permissions)
    except services.StaffError as refused:
        raise _refusal(refused) from None
    return _one(role.pk)


@roles_router.delete("/{role_id}", auth=MANAGE_STAFF, response={204: None, 409: Message},
                     summary="Delete a custom role; its members lose it (built-in roles: 409)")
def delete_role(request, role_id: int):
    try:
        services.delete_role(request.user, get_object_or_404(Group, pk=role_id))
    except services.StaffError as refused:
        raise _refusal(refused) from None
    return Status(204, None)
