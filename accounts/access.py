"""Access rules: the one mechanism that decides who may reach each admin page and API endpoint.

Every URL carries a ``Rule``: Django views through ``@access(rule)`` (enforced by
``AccessMiddleware``), API operations through ``auth=api_access(rule)``. A URL without a rule is
refused at request time and reported by ``manage.py check`` (accounts.E001).
"""
from dataclasses import dataclass
from typing import Any, Callable

from django.contrib.auth.models import AnonymousUser
from django.middleware.csrf import CsrfViewMiddleware
from ninja.errors import HttpError
from ninja.security import HttpBearer

SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}


@dataclass(frozen=True)
class Rule:
    login: bool = True
    perms: tuple[str, ...] = ()
    label: str = ""

    def allows(self, user: Any) -> bool:
        if not self.login:
            return True
        if not (user and user.is_authenticated and user.is_active):
            return False
        return user.has_perms(self.perms)

    def __str__(self) -> str:
        return self.label or ("public" if not self.login else "staff: " + ", ".join(self.perms or ("any",)))


PUBLIC = Rule(login=False, label="public")
STAFF = Rule(label="any active staff member")


def perm(*perms: str) -> Rule:
    return Rule(perms=tuple(perms))


@dataclass(frozen=True)
class AnyPermRule(Rule):
    """Any one of ``perms``: a page whose view shows each holder its own part (all settings, or
    only the money ones)."""

    def allows(self, user: Any) -> bool:
        if not (user and user.is_authenticated and user.is_active):
            return False
        return any(user.has_perm(p) for p in self.perms)

    def __str__(self) -> str:
        return self.label or "staff: one of " + ", ".join(self.perms)


def any_perm(*perms: str) -> Rule:
    return AnyPermRule(perms=tuple(perms))


def access(rule: Rule, *, html: bool = False) -> Callable:
    """Attach ``rule`` to a Django view. ``html`` marks an /api/ page meant for browsers."""

    def mark(view: Callable) -> Callable:
        view.access_rule = rule
        view.access_html = html
        return view

    return mark


# --- the API side ---------------------------------------------------------------------------------


def _csrf_failure(request) -> str | None:
    def ok(_request):
        return None

    check = CsrfViewMiddleware(ok)
    check.process_request(request)
    response = check.process_view(request, None, (), {})
    return None if response is None else "CSRF token missing or incorrect"


class ApiAccess(HttpBearer):
    """Authenticates a bearer token (or the browser session) and applies a Rule."""

    def __init__(self, rule: Rule):
        super().__init__()
        self.rule = rule

    def __call__(self, request):
        from .services import user_for_token

        header = request.headers.get("Authorization", "")
        if header[:7].lower() == "bearer ":
            user = user_for_token(header[7:].strip())
        else:
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated and request.method not in SAFE_METHODS:
                # A session cookie rides along on cross-site requests; a bearer header can't.
                failure = _csrf_failure(request)
                if failure:
                    raise HttpError(403, failure)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        request.user = user
        if not self.rule.allows(user):
            raise HttpError(403, f"Your role does not allow this ({self.rule})")
        return user

    def authenticate(self, request, token):  # required by HttpBearer; __call__ does the work
        raise NotImplementedError


class PublicAccess:
    """Explicitly public: anyone, authenticated or not."""

    rule = PUBLIC

    def __call__(self, request):
        return getattr(request, "user", None) or AnonymousUser()


class MissingRule:
    """The API's default: an operation that declares no rule is refused (fail closed)."""

    rule = None

    def __call__(self, request):
        raise HttpError(403, "This endpoint declares no access rule")


def api_access(rule: Rule) -> list:
    return [PublicAccess()] if rule == PUBLIC else [ApiAccess(rule)]


def rule_of_view(view: Callable) -> Rule | None:
    return getattr(view, "access_rule", None)


def is_api_operation_view(view: Callable) -> bool:
    """django-ninja's per-path dispatcher; its operations carry their own rules."""
    return ".PathView.get_view." in f"{view.__module__}.{getattr(view, '__qualname__', '')}"
