"""Demo routers for the quick start."""
from django.utils import timezone

from .models import Router

DEMO_ROUTERS = [
    ("Kilimani Hotspot", "Kilimani, Nairobi", "online"),
    ("Rongai Main", "Ongata Rongai", "online"),
    ("Kitengela Tower", "Kitengela", "online"),
    ("Ruaka Estate", "Ruaka", "offline"),
]


def seed_routers() -> int:
    now = timezone.now()
    created = 0
    for index, (name, site, status) in enumerate(DEMO_ROUTERS):
        _, was_created = Router.objects.get_or_create(
            name=name,
            defaults={"site": site, "host": "127.0.0.1", "api_port": 18728 + index, "status": status,
                      "last_seen_at": now if status == "online" else now - timezone.timedelta(hours=6)},
        )
        created += was_created
    return created
