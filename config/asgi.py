"""ASGI entry point: HTTP goes to Django, websockets to the live-event consumers."""
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from config.entrypoint import setup_django  # noqa: E402

setup_django()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402
from django.urls import path  # noqa: E402

from billing.consumers import PortalPaymentConsumer  # noqa: E402
from hotspot.consumers import CustomerAccountConsumer  # noqa: E402
from monitoring.consumers import AdminConsumer  # noqa: E402
from routers.consumers import ProvisioningConsumer  # noqa: E402

django_asgi_app = get_asgi_application()

websocket_urlpatterns = [
    path("ws/admin/", AdminConsumer.as_asgi()),
    path("ws/portal/account/", CustomerAccountConsumer.as_asgi()),
    path("ws/portal/payments/<str:token>/", PortalPaymentConsumer.as_asgi()),
    path("ws/routers/provisioning/<int:job_id>/", ProvisioningConsumer.as_asgi()),
]

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
