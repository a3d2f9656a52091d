"""Run simulated MikroTik routers (the quick start's routers) until Ctrl-C."""
import time

from django.core.management.base import BaseCommand
from django.db import DatabaseError

from routers.demo import (
    DEMO_ACCESS_POINTS,
    DEMO_ROUTERS,
    FACTORY_DEFAULT_ROUTERS,
    demo_address,
    open_sessions,
    resave_router_backups,
)
from routers.routeros_simulator import RouterOSSimulator


class Command(BaseCommand):
    help = ("Serve simulated MikroTik routers speaking the RouterOS API, one port each: the demo's routers "
            "(offline ones refuse connections), or --count numbered ones.")

    def add_arguments(self, parser):
        parser.add_argument("--host", default="",
                            help="address to serve on; by default the demo routers' own (127.0.1.x), else 127.0.0.1")
        parser.add_argument("--port", type=int, default=18728, help="the first router's port; the next ones follow")
        parser.add_argument("--count", type=int, default=0, help="this many routers instead of the demo's")
        parser.add_argument("--username", default="admin")
        parser.add_argument("--password", default="")
        parser.add_argument("--latency-ms", type=float, default=0.0)
        parser.add_argument("--active-users", type=int, default=3,
                            help="hotspot customers online on each router that RADIUS has none of the demo's on")
        parser.add_argument("--factory-default", action="store_true",
                            help="routers as they leave the factory: ether1 the WAN with a DHCP client, ether2-5 "
                                 "free, no bridge, hotspot or firewall (add services and provision them); no "
                                 "customers online")

    def handle(self, *args, **options):
        if options["count"]:
            routers = [(f"sim-{n}", "online") for n in range(1, options["count"] + 1)]
        else:
            routers = [(name, status) for name, _, status in DEMO_ROUTERS]
        simulators = []
        for index, (identity, status) in enumerate(routers):
            # Each demo router at its own address, as its NAS row and RADIUS secret expect.
            host = options["host"] or ("127.0.0.1" if options["count"] else demo_address(index))
            # The demo's new router (FACTORY_DEFAULT_ROUTERS) is out of its box whatever the flag.
            factory_default = options["factory_default"] or identity in FACTORY_DEFAULT_ROUTERS
            simulator = RouterOSSimulator(
                identity=identity, host=host, port=options["port"] + index, username=options["username"],
                password=options["password"], latency_ms=options["latency_ms"],
                factory_default=factory_default, dead="refused" if status == "offline" else None).start()
            # The demo's access points hang off their ports, with the customers' phones behind them.
            ports = []
            if not options["count"]:
                for _, _, mac, address, port, _ in (ap for ap in DEMO_ACCESS_POINTS if ap[0] == index):
                    simulator.attach_device(mac, port=port, address=address)
                    ports.append(port)
            # Online: the demo's customers RADIUS has online here (hotspot and PPPoE), else numbered ones.
            online = []
            if not options["count"] and not factory_default and not simulator.dead:
                try:
                    online = open_sessions(index)
                except DatabaseError:  # no database yet
                    online = []
            for n, session in enumerate(online):
                if session["pppoe"]:
                    simulator.login_ppp(session["user"], address=session["address"], caller_id=session["mac"],
                                        uptime=session["uptime"])
                    continue
                simulator.login_hotspot(session["user"], address=session["address"], mac_address=session["mac"],
                                        uptime=session["uptime"])
                if ports:
                    simulator.attach_device(session["mac"], port=ports[n % len(ports)])
            for n in range(0 if factory_default or online else options["active_users"]):
                mac = f"02:00:5E:{index:02X}:{n // 256:02X}:{n % 256:02X}"
                simulator.login_hotspot(f"2547{index:02d}{n:06d}", mac_address=mac, uptime=600 * (n + 1))
                if ports:
                    simulator.attach_device(mac, port=ports[n % len(ports)])
            simulators.append(simulator)
            if options["count"] <= 20:
                self.stdout.write(f"{identity}: {simulator.host}:{simulator.port}"
                                  + (" (offline: refuses connections)" if simulator.dead else ""))
        if not options["count"]:
            try:
                resave_router_backups({sim.identity: sim for sim in simulators}, options["username"],
                                      options["password"])
            except DatabaseError:  # no database yet: the routers simply have no backups on their flash
                pass
        self.stdout.write(f"{len(simulators)} RouterOS simulators from port {options['port']} (Ctrl-C to stop)")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            for simulator in simulators:
                simulator.stop()
