"""/api/health/routers: how many routers are in each status, and each one's status."""
from django.db.models import Count
from ninja import Router

from accounts.access import api_access

from ..models import Router as MikroTik
from .routers import VIEW

router_health_router = Router(tags=["health"])


@router_health_router.get("/routers", auth=api_access(VIEW), summary="Routers by status, and each one's status")
def routers_health(request):
    counts = dict.fromkeys(MikroTik.Status.values, 0)
    counts.update(MikroTik.objects.order_by().values("status").annotate(n=Count("id")).values_list("status", "n"))
    routers = MikroTik.objects.order_by("name", "pk").values("id", "name", "status", "last_seen_at", "last_error")
    return {"total": sum(counts.values()), "counts": counts, "routers": list(routers)}
