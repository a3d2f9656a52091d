"""/account/two-factor/: a staff member sets up, keeps or turns off their own two-factor sign-in;
/staff/<id>/two-factor/reset/: an Admin removes someone's (a lost phone)."""
from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from .. import two_factor
from ..access import STAFF, access, perm
from ..models import User


def open_before_enrolment(view):
    """An Admin obliged to enrol may still reach this view (see TwoFactorEnrolmentMiddleware)."""
    view.open_before_enrolment = True
    return view


class ConfirmForm(forms.Form):
    code = forms.CharField(label="Code from the app", max_length=12, widget=forms.TextInput(
        attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}))


class IdentityForm(forms.Form):
    password_or_code = forms.CharField(label="Your password or a current code", strip=False, max_length=200,
                                       widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


def _page(request, status=200, **context):
    user = request.user
    enrolled = two_factor.is_enrolled(user)
    device = None if enrolled else two_factor.unconfirmed(user)
    context = {
        "enrolled": enrolled, "required": two_factor.required_for(user), "device": device,
        "secret": two_factor.secret_text(device) if device else "", "qr": two_factor.qr_svg(device) if device else "",
        "codes_left": two_factor.recovery_codes_left(user) if enrolled else 0,
        "confirm_form": ConfirmForm(), "codes_form": IdentityForm(), "disable_form": IdentityForm(), **context,
    }
    return render(request, "accounts/two_factor.html", context, status=status)


def _codes(request, codes, first_time):
    response = render(request, "accounts/recovery_codes.html", {"codes": codes, "first_time": first_time})
    response["Cache-Control"] = "no-store"  # shown once: not kept by the browser's cache either
    return response


@access(STAFF)
@open_before_enrolment
@never_cache
def two_factor_page(request):
    return _page(request)


@access(STAFF)
@open_before_enrolment
@require_POST
def two_factor_start(request):
    two_factor.start_enrolment(request.user)
    return redirect("two-factor")


@access(STAFF)
@open_before_enrolment
@require_POST
@never_cache
def two_factor_confirm(request):
    form = ConfirmForm(request.POST)
    if form.is_valid():
        try:
            codes = two_factor.confirm_enrolment(request.user, form.cleaned_data["code"])
        except two_factor.TwoFactorError as refused:
            form.add_error("code", str(refused))
        else:
            otp_login(request, two_factor.confirmed_device(request.user))
            return _codes(request, codes, first_time=True)
    return _page(request, confirm_form=form)


def _confirmed(request, form) -> bool:
    """The form holds the user's password or a current code (a wrong one is a form error and counted)."""
    if not form.is_valid():
        return False
    error = two_factor.confirm_identity(request, request.user, form.cleaned_data["password_or_code"])
    if error:
        form.add_error("password_or_code", error)
    return not error


@access(STAFF)
@require_POST
@never_cache
def two_factor_recovery_codes(request):
    form = IdentityForm(request.POST)
    if _confirmed(request, form):
        try:
            return _codes(request, two_factor.regenerate_recovery_codes(request.user), first_time=False)
        except two_factor.TwoFactorError as refused:
            form.add_error("password_or_code", str(refused))
    return _page(request, codes_form=form)


@access(STAFF)
@require_POST
def two_factor_disable(request):
    form = IdentityForm(request.POST)
    if _confirmed(request, form):
        try:
            two_factor.disable(request.user)
        except two_factor.TwoFactorError as refused:
            form.add_error("password_or_code", str(refused))
        else:
            messages.success(request, "Two-factor sign-in is off: you sign in with your password alone.")
            return redirect("two-factor")
    return _page(request, disable_form=form)


@access(perm("accounts.manage_staff"))
@require_POST
def staff_two_factor_reset(request, pk):
    member = get_object_or_404(User, pk=pk)
    try:
        two_factor.reset(request.user, member)
    except two_factor.TwoFactorError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"Two-factor sign-in of {member.username} is reset: they sign in with their "
                                  "password and may set it up again.")
    return redirect("staff-edit", pk=member.pk)
