"""Demo routers and access points for the quick start (served by ``run_routeros_simulator``)."""
from django.utils import timezone

from .models import AccessPoint, Router

DEMO_ROUTERS = [
    ("Kilimani Hotspot", "Kilimani, Nairobi", "online"),
    ("Rongai Main", "Ongata Rongai", "online"),
    ("Kitengela Tower", "Kitengela", "online"),
    ("Ruaka Estate", "Ruaka", "offline"),
]
FIRST_PORT = 18728
# (router index, name, MAC, address, router port, location); the simulator attaches these.
DEMO_ACCESS_POINTS = [
    (0, "Kilimani cafe AP", "4C:5E:0C:10:00:01", "192.168.88.11", "ether3", "Ground floor, by the counter"),
    (0, "Kilimani rooftop AP", "4C:5E:0C:10:00:02", "192.168.88.12", "ether4", "Rooftop mast"),
    (1, "Rongai stage AP", "4C:5E:0C:11:00:01", "192.168.88.11", "ether3", "Matatu stage kiosk"),
    (2, "Kitengela tower sector A", "4C:5E:0C:12:00:01", "192.168.88.11", "ether3", "Tower, facing town"),
    (3, "Ruaka gate AP", "4C:5E:0C:13:00:01", "192.168.88.11", "ether3", "Estate gate"),
]


def seed_routers() -> int:
    now = timezone.now()
    created = 0
    routers = []
    for index, (name, site, status) in enumerate(DEMO_ROUTERS):
        router, was_created = Router.objects.get_or_create(
            name=name,
            defaults={"site": site, "host": "127.0.0.1", "api_port": FIRST_PORT + index, "status": status,
                      "last_seen_at": now if status == "online" else now - timezone.timedelta(hours=6)},
        )
        routers.append(router)
        created += was_created
    for index, name, mac, address, port, location in DEMO_ACCESS_POINTS:
        AccessPoint.objects.get_or_create(mac_address=mac, defaults={
            "router": routers[index], "name": name, "ip_address": address, "interface": port, "location": location})
    return created
