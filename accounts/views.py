"""Sign in / sign out, and the staff pages where an Admin manages accounts and roles."""
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from . import services
from .access import PUBLIC, access, perm
from .forms import LoginForm, StaffForm
from .models import User

MANAGE_STAFF = perm("accounts.manage_staff")


@access(PUBLIC)
@never_cache
def login_view(request):
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = ""
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        result = services.sign_in(request, form.cleaned_data["username"], form.cleaned_data["password"])
        if result.user:
            login(request, result.user)
            return redirect(next_url or "dashboard")
        form.add_error(None, result.error)
        status = 429 if result.retry_after else 200
    response = render(request, "accounts/login.html", {"form": form, "next": next_url}, status=status)
    if status == 429:
        response["Retry-After"] = str(result.retry_after)
    return response


@access(PUBLIC)
@require_POST
def logout_view(request):
    logout(request)
    messages.info(request, "You are signed out.")
    return redirect("login")


@access(MANAGE_STAFF)
def staff_list(request):
    show = request.GET.get("show", "active")
    staff = User.objects.prefetch_related("groups").order_by("-is_active", "username")
    if show == "active":
        staff = staff.filter(is_active=True)
    elif show == "inactive":
        staff = staff.filter(is_active=False)
    return render(request, "accounts/staff_list.html", {"staff": staff, "show": show})


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
    return render(request, "accounts/staff_form.html", {"form": form, "member": member, "adding": False})


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
