"""/staff/: where an Admin lists staff, adds them, changes their roles and deactivates them."""
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from lib.listing import list_page

from .. import services, two_factor
from ..access import access, perm
from ..forms import StaffFilter, StaffForm
from ..models import User

MANAGE_STAFF = perm("accounts.manage_staff")


@access(MANAGE_STAFF)
def staff_list(request):
    filters = StaffFilter(request.GET)
    staff = filters.apply(two_factor.with_enrolment(User.objects.prefetch_related("groups")).order_by(
        "-is_active", "username"))
    return list_page(request, staff, "accounts/staff_list.html", filters=filters, show=filters.value("show", "active"))


@access(MANAGE_STAFF)
def staff_add(request):
    form = StaffForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = services.create_staff(
            username=data["username"], password=data["password1"], roles=list(data["roles"]),
            first_name=data["first_name"], last_name=data["last_name"], email=data["email"],
        )
        messages.success(request, f"Added {user.username}.")
        return redirect("staff-list")
    return render(request, "accounts/staff_form.html", {"form": form, "adding": True})


@access(MANAGE_STAFF)
def staff_edit(request, pk):
    member = get_object_or_404(User, pk=pk)
    form = StaffForm(request.POST or None, instance=member)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_staff(
                request.user, member, roles=list(data["roles"]), first_name=data["first_name"],
                last_name=data["last_name"], email=data["email"], password=data["password1"],
            )
        except services.StaffError as refused:
            form.add_error(None, str(refused))
        else:
            if data["password1"] and member.pk == request.user.pk:
                update_session_auth_hash(request, member)  # stay signed in after changing your own
            messages.success(request, f"Saved {member.username}.")
            return redirect("staff-list")
    return render(request, "accounts/staff_form.html", {"form": form, "member": member, "adding": False,
                                                         "two_factor_on": two_factor.is_enrolled(member)})


@access(MANAGE_STAFF)
@require_POST
def staff_set_active(request, pk):
    member = get_object_or_404(User, pk=pk)
    active = request.POST.get("active") == "1"
    try:
        services.set_staff_active(request.user, member, active)
    except services.StaffError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"{member.username} is now {'active' if active else 'deactivated'}.")
    return redirect("staff-list")
