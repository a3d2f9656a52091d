"""What runs behind each router, fetched every few minutes: its hotspot and PPPoE servers (with
how many are logged in to each) and the state of its access points.

Like polling, every online router is asked at once over its own connection (``polling.fan_out``);
the database is written in one transaction afterwards, and a ``router.live-data`` event tells the
admin pages to refresh. Access points: online when the router's ARP cache or its bridge has seen
the AP's MAC address; clients are the other MAC addresses the bridge learned on the AP's port. A
router that cannot be asked leaves its access points "unknown": we do not know, and say so.
"""
import time
from collections import Counter, defaultdict

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
    # /ppp/active does not say which PPPoE server a session came in on: when every running server
    # has the same service-name (one service, perhaps on several ports) the count is that
    # service's, given to its first server; otherwise it is not attributed.
    enabled_names = {row.get("service-name", "") for row in pppoe if row.get("disabled") != "true"}
    counted = False
    for row in pppoe:
        count = 0
        if len(enabled_names) == 1 and row.get("disabled") != "true" and not counted:
            count, counted = ppp_online, True
        services.append({"kind": RouterService.Kind.PPPOE, "name": row.get("service-name", ""),
                         "interface": row.get("interface", ""), "profile": row.get("default-profile", ""),
                         "address_pool": "", "disabled": row.get("disabled") == "true", "active_users": count})
    return {"services": services, "arp": sorted(arp), "learned": learned}


def _one_per_name(services: list[dict], managed: set[tuple[str, str]]) -> list[dict]:
    """Rows are unique per (kind, name), but RouterOS lets two PPPoE servers share a service-name:
    those of a managed service (one server per port) become its one row, their ports joined
    ("ether4,ether5"), running if any runs; the operator's are told apart by their interface."""
    merged: dict[tuple[str, str], dict] = {}
    for found in services:
        key = (found["kind"], found["name"])
        if key not in merged:
            merged[key] = dict(found)
        elif key in managed:
            into = merged[key]
            into["interface"] = f"{into['interface']},{found['interface']}"[:64]
            into["disabled"] = into["disabled"] and found["disabled"]
            into["active_users"] += found["active_users"]
        else:
            renamed = {**found, "name": f"{found['name']} ({found['interface']})"}
            merged[(renamed["kind"], renamed["name"])] = renamed
    return list(merged.values())


def fetch_all(timeout: float | None = None, workers: int | None = None) -> dict:
    """Ask every online router, then record; returns a summary."""
    started = time.perf_counter()
    results = polling.fan_out(lambda target, limit: polling.ask(target, limit, _read),
                              polling.targets(Router.objects.filter(status=Router.Status.ONLINE)), timeout, workers)
    return record(results, started)


def refresh_router(router: Router, timeout: float | None = None) -> dict:
    """Ask one router now (after a provisioning run, so its page shows what the run made) and
    record what it shows; the other routers' rows and access points are left as they are."""
    started = time.perf_counter()
    results = polling.fan_out(lambda target, limit: polling.ask(target, limit, _read),
                              polling.targets(Router.objects.filter(pk=router.pk)), timeout, 1)
    return record(results, started, only=[router.pk])


def record(results: list[polling.PollResult], started: float | None = None, only: list[int] | None = None) -> dict:
    """Write what the routers showed. ``only``: the routers asked, when not every online one (the
    access points of the others keep their state)."""
    now = timezone.now()
    answered = {result.router_id: result.sample for result in results if result.ok}
    silent = [result.router_id for result in results if not result.ok]
    with transaction.atomic():
        existing = {(s.router_id, s.kind, s.name): s for s in RouterService.objects.filter(router_id__in=answered)}
        keep, fresh, changed = set(), [], []
        ours = defaultdict(set)
        for (router_id, kind, name), service in existing.items():
            if service.managed:
                ours[router_id].add((kind, name))
        for router_id, learned in answered.items():
            for found in _one_per_name(learned["services"], ours[router_id]):
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
        points = AccessPoint.objects.select_for_update()
        points = list(points.filter(router_id__in=only) if only is not None else points)
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
