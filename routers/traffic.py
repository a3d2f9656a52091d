"""A router's traffic: the last hour from poll samples, and right now from the router itself.

History: polling stores byte counters since boot (RouterSample); a rate is the difference of two
consecutive samples over their interval. A reboot resets the counters, so a negative difference is
a gap, not a rate. Now: ``/interface/monitor-traffic once`` on the router's physical ports, cached
for a moment so a room of technicians watching one router costs it one query.
"""
import time
from datetime import timedelta

from django.utils import timezone

# Kept in process memory while Redis is down: the live traffic panel need not fail with it.
from lib.shared_cache import cache

from .models import Router, RouterSample
from .polling import PHYSICAL_TYPES
from .routeros import RouterClient, RouterCommandRefused
from .services import client_for

HISTORY_MINUTES = 60
LIVE_CACHE_SECONDS = 4  # a little under the page's 5 s: one login per router per refresh
LIVE_TIMEOUT_SECONDS = 4.0
COUNTER_GAP_SECONDS = 1.0  # between the two counter reads when a peer refuses monitor-traffic


def history(router: Router, minutes: int = HISTORY_MINUTES) -> list[dict]:
    """[{"at", "rx_bps", "tx_bps"}] oldest first, one point per pair of consecutive samples."""
    since = timezone.now() - timedelta(minutes=minutes)
    samples = list(RouterSample.objects.filter(router=router, taken_at__gte=since).order_by("taken_at")
                   .values_list("taken_at", "rx_bytes", "tx_bytes", "uptime_seconds"))
    points = []
    for (t0, rx0, tx0, _), (t1, rx1, tx1, up1) in zip(samples, samples[1:], strict=False):
        seconds = (t1 - t0).total_seconds()
        # Counters restart with the router: a boot in between (uptime shorter than the gap) or a
        # smaller count makes the difference meaningless, so that interval is a gap.
        if seconds <= 0 or up1 < seconds or rx1 < rx0 or tx1 < tx0:
            continue
        points.append({"at": t1, "rx_bps": round((rx1 - rx0) * 8 / seconds),
                       "tx_bps": round((tx1 - tx0) * 8 / seconds)})
    return points


def polyline(values: list[float], width: int, height: int, peak: float) -> str:
    """SVG polyline points for ``values`` spread over ``width``, scaled so ``peak`` touches the top."""
    if not values:
        return ""
    step = width / max(len(values) - 1, 1)
    top = peak or 1
    return " ".join(f"{i * step:.1f},{height - min(value, top) / top * height:.1f}" for i, value in enumerate(values))


def chart(points: list[dict], width: int = 600, height: int = 160) -> dict:
    """What the template draws: the two lines, the peak they are scaled to, the time span."""
    rx = [point["rx_bps"] for point in points]
    tx = [point["tx_bps"] for point in points]
    peak = max(rx + tx, default=0)
    return {"width": width, "height": height, "peak_bps": peak, "count": len(points),
            "rx": polyline(rx, width, height, peak), "tx": polyline(tx, width, height, peak),
            "first": points[0]["at"] if points else None, "last": points[-1]["at"] if points else None}


def now(router: Router) -> dict:
    """Current rates of the router's physical ports, summed and per port:
    {"at", "rx_bps", "tx_bps", "interfaces": [{"name", "running", "rx_bps", "tx_bps"}]}.
    Raises RouterError when the router cannot be asked."""
    key = f"routers:traffic:{router.pk}"
    found = cache.get(key)
    if found is not None:
        return found
    with client_for(router, timeout=LIVE_TIMEOUT_SECONDS) as client:
        ports = [row for row in client.interfaces() if row["type"] in PHYSICAL_TYPES and not row["disabled"]]
        found_rates = rates(client, ports)
    interfaces = [{"name": row["name"], "running": row["running"],
                   "rx_bps": found_rates.get(row["name"], {}).get("rx_bps", 0),
                   "tx_bps": found_rates.get(row["name"], {}).get("tx_bps", 0)} for row in ports]
    found = {"at": timezone.now().isoformat(), "interfaces": interfaces,
             "rx_bps": sum(row["rx_bps"] for row in interfaces), "tx_bps": sum(row["tx_bps"] for row in interfaces)}
    cache.set(key, found, LIVE_CACHE_SECONDS)
    return found


def rates(client: RouterClient, ports: list[dict]) -> dict[str, dict]:
    """Bits per second of the running ports: /interface/monitor-traffic once, or, from a peer that
    refuses it, the difference of two counter reads a second apart."""
    running = [row["name"] for row in ports if row["running"] and not row["disabled"]]
    if not running:
        return {}
    try:
        return client.traffic(running)
    except RouterCommandRefused:
        pass
    before, started = {row["name"]: row for row in ports}, time.monotonic()
    time.sleep(COUNTER_GAP_SECONDS)
    after, seconds = {row["name"]: row for row in client.interfaces()}, time.monotonic() - started
    return {name: {"rx_bps": max(0, int((after[name]["rx_bytes"] - before[name]["rx_bytes"]) * 8 / seconds)),
                   "tx_bps": max(0, int((after[name]["tx_bytes"] - before[name]["tx_bytes"]) * 8 / seconds))}
            for name in running if name in after}
