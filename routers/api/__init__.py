"""The routers app's API, one module per URL: routers (/api/routers: the routers, their login test,
provisioning and status), actions (/api/routers/<id>/backup, reboot, kick, logs, drift…), services
(/api/routers/<id>/interfaces, /api/routers/<id>/services…), health (/api/health/routers) and vpn
(/api/routers/<id>/vpn…, /api/vpn/server.conf); schemas holds what they share.
config/api.py mounts the three routers named here."""
from .actions import actions_router
from .health import router_health_router
from .routers import routers_router
from .services import services_router
from .vpn import vpn_router

# These answer under /api/routers too: they ride on the routers' own router.
routers_router.add_router("", actions_router)
routers_router.add_router("", services_router)

__all__ = ["router_health_router", "routers_router", "vpn_router"]
