"""Enforces each Django view's access rule; a view without one is refused (fail closed)."""
import logging

from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from django.shortcuts import render

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
