"""/login/ and /logout/: staff sign in and out of the web pages."""
from django.contrib import messages
from django.contrib.auth import login, logout
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from .. import services
from ..access import PUBLIC, access
from ..forms import LoginForm


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
