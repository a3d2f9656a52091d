"""The routers app's API: routers (/api/routers and /api/health/routers) and vpn (the tunnels)."""
from .routers import router_health_router, routers_router
from .vpn import vpn_router

__all__ = ["router_health_router", "routers_router", "vpn_router"]
