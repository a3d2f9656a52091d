"""Enforces each Django view's access rule; a view without one is refused (fail closed). Also keeps
an Admin who must enrol in two-factor sign-in on the enrolment pages."""
import logging

from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from django.shortcuts import redirect, render

from . import two_factor
from .access import is_api_operation_view, rule_of_view

log = logging.getLogger(__name__)


class AccessMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        rule = rule_of_view(view_func)
        if rule is None:
            if is_api_operation_view(view_func):
                return None  # django-ninja applies the operation's ApiAccess rule
            log.error("refused %s: its view declares no access rule", request.path)
            return self._refuse(request, view_func, 403, "This page declares no access rule.")
        if rule.allows(request.user):
            return None
        if not request.user.is_authenticated:
            if self._is_api(request, view_func):
                return JsonResponse({"detail": "Authentication required"}, status=401,
                                    headers={"WWW-Authenticate": "Bearer"})
            return redirect_to_login(request.get_full_path())
        return self._refuse(request, view_func, 403, "Your role does not give you access to this page.")

    def _is_api(self, request, view_func) -> bool:
        return request.path.startswith("/api/") and not getattr(view_func, "access_html", False)

    def _refuse(self, request, view_func, status, message):
        if self._is_api(request, view_func):
            return JsonResponse({"detail": message}, status=status)
        return render(request, "403.html", {"message": message}, status=status)


class TwoFactorEnrolmentMiddleware:
    """While security.require_two_factor_for_admin is on, an Admin without an authenticator reaches
    only the views marked ``open_before_enrolment`` (the two-factor pages) and public ones."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        rule = rule_of_view(view_func)
        if (rule is not None and not rule.login) or getattr(view_func, "open_before_enrolment", False):
            return None
        if not request.user.is_authenticated or not two_factor.must_enrol(request.user):
            return None
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": "Set up two-factor sign-in at /account/two-factor/ first: "
                                           "Admins must use it here."}, status=403)
        return redirect("two-factor")
