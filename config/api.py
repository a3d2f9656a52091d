"""The JSON API under /api/: one django-ninja instance, each app contributing a router."""
from django.http import JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from accounts.access import PUBLIC, STAFF, ApiAccess, MissingRule, Rule, access
from accounts.api.auth import router as auth_router
from accounts.api.roles import roles_router
from billing.api.callback_log import callback_log_router
from billing.api.payments import payments_router
from billing.api.purchase import purchase_router
from hotspot.api.packages import packages_router
from hotspot.api.portal import portal_router
from hotspot.api.pppoe import pppoe_router
from hotspot.api.profiles import profiles_router
from hotspot.api.users import hotspot_router, users_router
from hotspot.api.vouchers import vouchers_router
from lib.api_errors import declare_common_answers
from monitoring.api.activity import activity_router
from monitoring.api.health import router as health_router
from monitoring.api.queue import queue_router
from monitoring.api.reports import reports_router
from monitoring.api.settings import settings_router
from monitoring.api.settings_messages import settings_messages_router
from monitoring.api.settings_mpesa import settings_mpesa_router
from monitoring.api.system_log import system_log_router
from monitoring.api.tickets import tickets_router
from radius.api.sessions import logs_router, sessions_router
from routers.api import router_health_router, routers_router, vpn_router

# The OpenAPI document is for API clients, so it takes what every operation takes: a bearer token
# or a staff session. AccessMiddleware only knows sessions, so it lets the request through and the
# API's own ApiAccess(STAFF) decides, with the API's 401/403 answers.
STAFF_BY_API_ACCESS = Rule(login=False, label="any active staff member, by bearer token or session")


def _docs(view):
    if view.func.__name__ == "openapi_view":  # Swagger UI: a browser page, signed in by session
        return access(STAFF, html=True)(view)
    staff = ApiAccess(STAFF)

    def openapi_json(request, *args, **kwargs):
        try:
            user = staff(request)
        except HttpError as refused:
            return JsonResponse({"detail": str(refused)}, status=refused.status_code)
        if user is None:
            return unauthenticated(request, None)
        return view(request, *args, **kwargs)

    return access(STAFF_BY_API_ACCESS)(openapi_json)


class HotspotAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs):
        return declare_common_answers(super().get_openapi_schema(**kwargs))

    def get_openapi_operation_id(self, operation) -> str:
        # The function's name alone (list_payments), not ninja's module path + name: a generated
        # client keeps its method names when a module moves. tests/test_api_schema.py keeps them unique.
        return operation.view_func.__name__


api = HotspotAPI(
    title="Hotspot ISP API",
    version="1",
    description="Staff endpoints take `Authorization: Bearer <token>` from `POST /api/login`.",
    urls_namespace="api",
    auth=[MissingRule()],
    docs_decorator=_docs,
)


@api.exception_handler(AuthenticationError)
def unauthenticated(request, exc):
    return JsonResponse(
        {"detail": "Authentication required: send 'Authorization: Bearer <token>' (POST /api/login)"},
        status=401, headers={"WWW-Authenticate": "Bearer"},
    )


@api.exception_handler(ValidationError)
def invalid(request, exc):
    return JsonResponse({"detail": "Invalid request", "errors": exc.errors}, status=422)


@api.exception_handler(HttpError)
def http_error(request, exc):
    return JsonResponse({"detail": str(exc)}, status=exc.status_code)


api.add_router("/", auth_router)
api.add_router("/roles", roles_router)
api.add_router("/health", health_router)
api.add_router("/health", router_health_router)
api.add_router("/hotspot", sessions_router)
api.add_router("/logs", logs_router)
api.add_router("/packages", packages_router)
api.add_router("/users", users_router)
api.add_router("/users", pppoe_router)
api.add_router("/hotspot", hotspot_router)
api.add_router("/hotspot", vouchers_router)
api.add_router("/hotspot", profiles_router)
api.add_router("/portal", portal_router)
api.add_router("/payments", payments_router)
api.add_router("/logs", callback_log_router)
api.add_router("/logs", activity_router)
api.add_router("/logs", system_log_router)
api.add_router("/queue", queue_router)
api.add_router("/settings", settings_router)
api.add_router("/settings", settings_mpesa_router)
api.add_router("/settings", settings_messages_router)
api.add_router("/purchase", purchase_router)
api.add_router("/routers", routers_router)
api.add_router("/", vpn_router)
api.add_router("/tickets", tickets_router)
api.add_router("/reports", reports_router)


def urls():
    """api.urls with ninja's own root view (it only answers 404, naming the docs) marked public."""
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        if pattern.name == "api-root":
            access(PUBLIC)(pattern.callback)
    return patterns, app_name, namespace
