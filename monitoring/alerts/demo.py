"""The demo's incidents, made by the real evaluator from router states as the minute poll would have
found them: Rongai Main dropped for 25 minutes three hours ago (resolved), Ruaka Estate has been
offline for hours (open)."""
from datetime import datetime, timedelta

from django.utils import timezone

from audit.actors import Actor, acting_as
from routers.demo import DEMO_ROUTERS
from routers.models import Router

from ..models import AlertKind, Incident
from . import incidents

ROUTERS = [AlertKind.ROUTER_OFFLINE]
FLAPPED = DEMO_ROUTERS[1][0]  # Rongai Main
OUTAGE = timedelta(minutes=25)


def seed_incidents(now: datetime | None = None) -> int:
    """Once: nothing happens when any incident exists. Returns how many were opened."""
    if Incident.objects.exists():
        return 0
    now = now or timezone.now()
    down_at = now - timedelta(hours=3)
    router = Router.objects.filter(name=FLAPPED, status=Router.Status.ONLINE).first()
    opened = 0
    with acting_as(Actor.job("monitoring.tasks.evaluate_alerts")):
        if router is not None:
            as_now = Router.objects.filter(pk=router.pk)
            as_now.update(status=Router.Status.OFFLINE, last_seen_at=down_at - timedelta(minutes=12),
                          last_error="unreachable: timed out")
            opened += incidents.evaluate(down_at, kinds=ROUTERS, deliver=False).opened
            as_now.update(status=Router.Status.ONLINE, last_seen_at=down_at + OUTAGE, last_error="")
            incidents.evaluate(down_at + OUTAGE, kinds=ROUTERS, deliver=False)
            as_now.update(last_seen_at=router.last_seen_at)
        opened += incidents.evaluate(now, kinds=ROUTERS, deliver=False).opened
    return opened
