"""/login/, /login/code/ and /logout/: staff sign in (with their authenticator code, when they have one) and out."""
import time

from django import forms
from django.contrib import messages
from django.contrib.auth import login, logout
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from .. import services, two_factor
from ..access import PUBLIC, access
from ..forms import LoginForm
from ..models import User

# Between a right password and the code: who, until when, where to go next. Short, so a password
# typed on a shared computer and walked away from is not half a sign-in for long.
PENDING = "two_factor_pending"
PENDING_SECONDS = 5 * 60


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code", max_length=32,
        help_text="The 6-digit code your authenticator app shows now, or one of your recovery codes.",
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "one-time-code", "inputmode": "text",
                                      "spellcheck": "false", "autocapitalize": "off"}))


def _safe_next(request) -> str:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        return ""
    return next_url


def _signed_in(request, user, backend: str, next_url: str):
    login(request, user, backend=backend)
    if two_factor.must_enrol(user):
        messages.warning(request, "Admins must use two-factor sign-in: set up your authenticator app to go on.")
        return redirect("two-factor")
    return redirect(next_url or "dashboard")


@access(PUBLIC)
@never_cache
def login_view(request):
    next_url = _safe_next(request)
    form = LoginForm(request.POST or None)
    result = None
    if request.method == "POST" and form.is_valid():
        result = services.sign_in(request, form.cleaned_data["username"], form.cleaned_data["password"])
        if result.pending:
            request.session[PENDING] = {"user": result.pending.pk, "backend": result.pending.backend,
                                        "until": time.time() + PENDING_SECONDS, "next": next_url}
            return redirect("login-code")
        if result.user:
            return _signed_in(request, result.user, result.user.backend, next_url)
        form.add_error(None, result.error)
    return _answer(request, "accounts/login.html", {"form": form, "next": next_url}, result)


def _pending(request) -> tuple[User | None, dict]:
    pending = request.session.get(PENDING) or {}
    if not pending or pending.get("until", 0) < time.time():
        request.session.pop(PENDING, None)
        return None, {}
    return User.objects.filter(pk=pending["user"], is_active=True).first(), pending


@access(PUBLIC)
@never_cache
def login_code_view(request):
    user, pending = _pending(request)
    if user is None:
        messages.info(request, "Sign in again: the code is asked for within five minutes of the password.")
        return redirect("login")
    form = CodeForm(request.POST or None)
    result = None
    if request.method == "POST" and form.is_valid():
        result = two_factor.verify_code(request, user, form.cleaned_data["code"])
        if result.user:
            del request.session[PENDING]
            return _signed_in(request, result.user, pending["backend"], pending["next"])
        form.add_error("code", result.error)
    return _answer(request, "accounts/login_code.html", {"form": form, "pending_user": user}, result)


def _answer(request, template, context, result):
    locked = result is not None and result.retry_after
    response = render(request, template, context, status=429 if locked else 200)
    if locked:
        response["Retry-After"] = str(result.retry_after)
    return response


@access(PUBLIC)
@require_POST
def logout_view(request):
    logout(request)
    messages.info(request, "You are signed out.")
    return redirect("login")
