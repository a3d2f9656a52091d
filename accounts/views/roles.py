"""/staff/roles/: the roles an Admin gives staff: the four built-in ones (read-only) and custom ones
made from the permission list, edited and deleted here."""
from django.contrib import messages
from django.contrib.auth.models import Group
from django.shortcuts import get_object_or_404, redirect, render

from lib.listing import list_page

from .. import services
from ..access import access, perm
from ..forms import RoleForm
from ..permission_labels import by_area, offered
from ..roles import description_of, is_built_in, roles_with_counts

MANAGE_STAFF = perm("accounts.manage_staff")


def _role(pk) -> Group:
    return get_object_or_404(Group.objects.select_related("role_profile"), pk=pk)


def _members(role: Group):
    return role.user_set.order_by("-is_active", "username")


def _describe(page) -> None:
    for role in page:
        role.description = description_of(role)


@access(MANAGE_STAFF)
def role_list(request):
    return list_page(request, roles_with_counts(), "accounts/role_list.html", on_page=_describe)


@access(MANAGE_STAFF)
def role_add(request):
    form = RoleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            role = services.create_role(name=form.cleaned_data["name"], permissions=form.chosen(),
                                        description=form.cleaned_data["description"])
        except services.RoleError as refused:
            form.add_error(refused.field or None, str(refused))
        else:
            messages.success(request, f"Added the role {role.name}.")
            return redirect("role-list")
    return render(request, "accounts/role_form.html", {"form": form, "adding": True})


@access(MANAGE_STAFF)
def role_edit(request, pk):
    role = _role(pk)
    if is_built_in(role):
        return _built_in(request, role)
    form = RoleForm(request.POST or None, role=role)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_role(request.user, role, name=form.cleaned_data["name"], permissions=form.chosen(),
                                 description=form.cleaned_data["description"])
        except services.RoleError as refused:
            form.add_error(refused.field or None, str(refused))
        except services.StaffError as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, f"Saved the role {role.name}.")
            return redirect("role-list")
    return render(request, "accounts/role_form.html", {"form": form, "role": role, "members": _members(role)})


def _built_in(request, role: Group):
    """A built-in role's page: what it holds, read-only (accounts/roles.py defines it)."""
    held = by_area(offered(role.permissions.select_related("content_type")))
    status = 409 if request.method == "POST" else 200
    return render(request, "accounts/role_built_in.html", {
        "role": role, "description": description_of(role), "areas": held, "members": _members(role),
        "refused": status == 409}, status=status)


@access(MANAGE_STAFF)
def role_delete(request, pk):
    role = _role(pk)
    if request.method == "POST" and not is_built_in(role):
        try:
            members = services.delete_role(request.user, role)
        except services.StaffError as refused:
            messages.error(request, str(refused))
            return redirect("role-edit", pk=role.pk)
        lost = f" {len(members)} staff member{'s' if len(members) != 1 else ''} lost it." if members else ""
        messages.success(request, f"Deleted the role {role.name}.{lost}")
        return redirect("role-list")
    return render(request, "accounts/role_delete.html", {"role": role, "members": _members(role),
                                                         "built_in": is_built_in(role)},
                  status=403 if is_built_in(role) else 200)
