"""What runs behind each router, fetched every few minutes: its hotspot and PPPoE servers (with
how many are logged in to each) and the state of its access points.

Like polling, every online router is asked at once over its own connection (``polling.fan_out``);
the database is written in one transaction afterwards, and a ``router.live-data`` event tells the
admin pages to refresh. Access points: online when the router's ARP cache or its bridge has seen
the AP's MAC address; clients are the other MAC addresses the bridge learned on the AP's port. A
router that cannot be asked leaves its access points "unknown": we do not know, and say so.
"""
import time
from collections import Counter

from django.db import transaction
from django.utils import timezone

from lib import live

from . import polling
from .models import AccessPoint, Router, RouterService
from .routeros import RouterClient

EVENT = "router.live-data"


def _read(client: RouterClient, in_time) -> dict:
    hotspots = client.print("/ip/hotspot")
    in_time()
    per_server = Counter(row.get("server", "") for row in client.print("/ip/hotspot/active", proplist=("server",)))
    in_time()
    pppoe = client.print("/interface/pppoe-server/server")
    in_time()
    ppp_online = sum(1 for row in client.print("/ppp/active", proplist=("service",)) if row.get("service") == "pppoe")
    in_time()
    arp = {row.get("mac-address", "").upper() for row in client.print("/ip/arp")
           if row.get("invalid") != "true" and row.get("complete", "true") == "true"}
    in_time()
    learned = [(row.get("mac-address", "").upper(), row.get("on-interface", ""))
               for row in client.print("/interface/bridge/host") if row.get("local") != "true"]
    services = [{"kind": RouterService.Kind.HOTSPOT, "name": row.get("name", ""), "interface": row.get("interface", ""),
                 "profile": row.get("profile", ""), "address_pool": row.get("address-pool", ""),
                 "disabled": row.get("disabled") == "true", "active_users": per_server.get(row.get("name", ""), 0)}
                for row in hotspots]
    enabled_pppoe = [row for row in pppoe if row.get("disabled") != "true"]
    services += [{"kind": RouterService.Kind.PPPOE, "name": row.get("service-name", ""),
                  "interface": row.get("interface", ""), "profile": row.get("default-profile", ""), "address_pool": "",
                  "disabled": row.get("disabled") == "true",
                  # /ppp/active does not say which PPPoE server a session came in on: with one server
                  # running the count is its own; with several it is not attributed.
                  "active_users": ppp_online if len(enabled_pppoe) == 1 and row in enabled_pppoe else 0}
                 for row in pppoe]
    # Our rows are unique per (kind, name); RouterOS lets two PPPoE servers share a service-name.
    seen = set()
    for service in services:
        if (service["kind"], service["name"]) in seen:
            service["name"] = f"{service['name']} ({service['interface']})"
        seen.add((service["kind"], service["name"]))
    return {"services": services, "arp": sorted(arp), "learned": learned}


def fetch_all(timeout: float | None = None, workers: int | None = None) -> dict:
    """Ask every online router, then record; returns a summary."""
    started = time.perf_counter()
    results = polling.fan_out(lambda target, limit: polling.ask(target, limit, _read),
                              polling.targets(Router.objects.filter(status=Router.Status.ONLINE)), timeout, workers)
    return record(results, started)


def record(results: list[polling.PollResult], started: float | None = None) -> dict:
    now = timezone.now()
    answered = {result.router_id: result.sample for result in results if result.ok}
    silent = [result.router_id for result in results if not result.ok]
    with transaction.atomic():
        existing = {(s.router_id, s.kind, s.name): s for s in RouterService.objects.filter(router_id__in=answered)}
        keep, fresh, changed = set(), [], []
        for router_id, learned in answered.items():
            for found in learned["services"]:
                key = (router_id, found["kind"], found["name"])
                keep.add(key)
                service = existing.get(key)
                if service is None:
                    fresh.append(RouterService(router_id=router_id, seen_at=now, **found))
                    continue
                for field, value in found.items():
                    setattr(service, field, value)
                service.on_router, service.seen_at = True, now
                changed.append(service)
        # A learned service the router no longer shows is gone; a managed one stays (it is what we
        # want the router to run), marked as not on the router until provisioning puts it back.
        gone = [service.pk for key, service in existing.items() if key not in keep and not service.managed]
        for key, service in existing.items():
            if key not in keep and service.managed:
                service.on_router, service.active_users = False, 0
                changed.append(service)
        RouterService.objects.filter(pk__in=gone).delete()
        RouterService.objects.bulk_create(fresh, ignore_conflicts=True)  # a run overlapping this one added it
        RouterService.objects.bulk_update(changed, ["interface", "profile", "address_pool", "disabled",
                                                    "active_users", "on_router", "seen_at"])
        # Every AP: those of routers that did not answer, or are not online, are unknown now.
        points = list(AccessPoint.objects.select_for_update())
        for point in points:
            learned = answered.get(point.router_id)
            if learned is None:
                point.status, point.clients = AccessPoint.Status.UNKNOWN, 0
                continue
            mac = point.mac_address.upper()
            behind = ({found for found, port in learned["learned"] if port == point.interface}
                      if point.interface else set())
            seen = mac in learned["arp"] or any(found == mac for found, _ in learned["learned"])
            point.status = AccessPoint.Status.ONLINE if seen else AccessPoint.Status.OFFLINE
            point.clients = len(behind - {mac})
            if seen:
                point.last_seen_at = now
        AccessPoint.objects.bulk_update(points, ["status", "clients", "last_seen_at"])
        summary = {"taken_at": now.isoformat(), "routers": len(answered), "unanswered": len(silent),
                   "services": len(keep), "access_points": len(points),
                   "access_points_online": sum(p.status == AccessPoint.Status.ONLINE for p in points),
                   "seconds": round(time.perf_counter() - started, 3) if started is not None else 0.0}
        live.publish(live.ADMIN, EVENT, summary)
    return summary
