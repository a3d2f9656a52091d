"""Demo routers and access points for the quick start (served by ``run_routeros_simulator``).

Each demo router is created as an admin adds one (routers.services.create_router), with a RADIUS
secret, so its NAS row is written by the one path that writes them and Provision works. Each has
its own loopback address, because FreeRADIUS knows a client by its source address alone: the
simulator serves each router there, and a Disconnect from the demo goes to
``manage.py run_nas_simulator`` at that address, never to a real network."""
from django.utils import timezone

from . import actions
from .models import AccessPoint, Router, RouterBackup
from .routeros import RouterClient, RouterError
from .services import create_router

DEMO_ROUTERS = [
    ("Kilimani Hotspot", "Kilimani, Nairobi", "online"),
    ("Rongai Main", "Ongata Rongai", "online"),
    ("Kitengela Tower", "Kitengela", "online"),
    ("Ruaka Estate", "Ruaka", "offline"),
    ("Kitengela (new)", "Kitengela", "online"),
]
# Routers just out of their box (the simulator's factory default: ether1 the WAN with a DHCP client,
# ether2-5 free, no hotspot): the operator adds a hotspot or PPPoE service on the router's page and
# provisions it. No customer has been on them yet.
FACTORY_DEFAULT_ROUTERS = {"Kitengela (new)"}
FIRST_PORT = 18728
# Shared by the demo's routers and their NAS rows (run_nas_simulator --secret takes it).
DEMO_RADIUS_SECRET = "demo-radius-secret"
# (router index, name, MAC, address, router port, location); the simulator attaches these.
DEMO_ACCESS_POINTS = [
    (0, "Kilimani cafe AP", "4C:5E:0C:10:00:01", "192.168.88.11", "ether3", "Ground floor, by the counter"),
    (0, "Kilimani rooftop AP", "4C:5E:0C:10:00:02", "192.168.88.12", "ether4", "Rooftop mast"),
    (1, "Rongai stage AP", "4C:5E:0C:11:00:01", "192.168.88.11", "ether3", "Matatu stage kiosk"),
    (2, "Kitengela tower sector A", "4C:5E:0C:12:00:01", "192.168.88.11", "ether3", "Tower, facing town"),
    (3, "Ruaka gate AP", "4C:5E:0C:13:00:01", "192.168.88.11", "ether3", "Estate gate"),
]


def demo_address(index: int) -> str:
    """The demo router's API and RADIUS (NAS) address: 127.0.1.1, 127.0.1.2, ..."""
    return f"127.0.1.{index + 1}"


def seed_routers() -> int:
    now = timezone.now()
    created = 0
    routers = []
    for index, (name, site, status) in enumerate(DEMO_ROUTERS):
        router = Router.objects.filter(name=name).first()
        if router is None:
            router = create_router(name=name, site=site, host=demo_address(index), api_port=FIRST_PORT + index,
                                   radius_secret=DEMO_RADIUS_SECRET)
            # What the status poll (check_router_status) would have found by now.
            Router.objects.filter(pk=router.pk).update(
                status=status, last_seen_at=now if status == "online" else now - timezone.timedelta(hours=6))
            created += 1
        routers.append(router)
    for index, name, mac, address, port, location in DEMO_ACCESS_POINTS:
        AccessPoint.objects.get_or_create(mac_address=mac, defaults={
            "router": routers[index], "name": name, "ip_address": address, "interface": port, "location": location})
    return created


def nas_addresses() -> list[str]:
    """The NAS addresses of the demo routers that are online and serve customers (sessions come from these)."""
    return [demo_address(index) for index, (name, _, status) in enumerate(DEMO_ROUTERS)
            if status == "online" and name not in FACTORY_DEFAULT_ROUTERS]


def demo_simulator(index: int, **options):
    """The simulator playing the demo router at ``index``: at its address and port, factory-default
    when the demo says so (not started)."""
    from .routeros_simulator import RouterOSSimulator

    name = DEMO_ROUTERS[index][0]
    return RouterOSSimulator(identity=name, host=demo_address(index), port=FIRST_PORT + index,
                             factory_default=name in FACTORY_DEFAULT_ROUTERS, **options)


def seed_router_backups() -> tuple[int, list[str]]:
    """One configuration backup per online demo router that has none, saved through
    routers.actions.backup as the nightly job saves it. On the demo's simulators: those of
    ``run_routeros_simulator`` when it is serving already, else one started here for the moment (the
    quick start seeds before it starts them; ``run_routeros_simulator`` saves the recorded backups
    again when it starts, as a router's flash outlives a restart). Returns (made, failures)."""
    made, failed = 0, []
    for index, (name, _, status) in enumerate(DEMO_ROUTERS):
        router = Router.objects.filter(name=name, host=demo_address(index), api_port=FIRST_PORT + index).first()
        if router is None or status != "online" or router.backups.exists():
            continue
        simulator = demo_simulator(index)
        try:
            simulator.start()
        except OSError:  # the port is taken: the demo's simulators are running, back up there
            simulator = None
        try:
            actions.backup(router, None)
            made += 1
        except RouterError as error:
            failed.append(f"{name} ({error.reason}): {error.message}")
        finally:
            if simulator is not None:
                simulator.stop()
    return made, failed


def open_sessions(index: int) -> list[dict]:
    """The customers RADIUS has online on the demo router at ``index`` (its open accounting sessions):
    {"user", "pppoe", "address", "mac", "uptime"}, for its simulator's active lists, so Online now
    shows the demo's own customers."""
    from radius.models import RadAcct

    now = timezone.now()
    rows = RadAcct.objects.filter(nas_ip_address=demo_address(index), acct_stop_time__isnull=True).order_by(
        "acct_start_time").values_list("username", "nas_port_type", "framed_ip_address", "calling_station_id",
                                       "acct_start_time")
    return [{"user": username, "pppoe": port_type == "Virtual", "address": address,
             "mac": (mac or "").replace("-", ":").upper(), "uptime": max(0.0, (now - start).total_seconds())}
            for username, port_type, address, mac, start in rows]


def resave_router_backups(simulators: dict[str, object], username: str = "admin", password: str = "") -> int:
    """On the demo's simulators just started (by identity), save again the backups the database
    records for their routers, so Restore finds its file as on a real router's flash. Returns how many."""
    saved = 0
    for router_name, name in RouterBackup.objects.filter(router__name__in=list(simulators)).values_list(
            "router__name", "name"):
        simulator = simulators[router_name]
        if simulator.dead:
            continue
        try:
            with RouterClient(simulator.host, simulator.port, username, password) as client:
                client.backup(name)
            saved += 1
        except RouterError:
            continue  # an odd name or a slow start: that one backup is missing, as after a lost flash
    return saved
