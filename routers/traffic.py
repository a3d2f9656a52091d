"""A router's traffic: the last hour from poll samples, and right now from the router itself.

History: polling stores byte counters since boot (RouterSample); a rate is the difference of two
consecutive samples over their interval. A reboot resets the counters, so a negative difference is
a gap, not a rate. Now: ``/interface/monitor-traffic once`` on the router's physical ports, cached
for a moment so a room of technicians watching one router costs it one query.
"""
import math
import time
from datetime import timedelta

from django.utils import timezone

# Kept in process memory while Redis is down: the live traffic panel need not fail with it.
from lib.shared_cache import cache

from . import connections
from .models import Router, RouterSample
from .polling import PHYSICAL_TYPES
from .routeros import RouterClient, RouterCommandRefused
from .services import client_for

HISTORY_MINUTES = 60
LIVE_CACHE_SECONDS = 4  # a little under the page's 5 s: one query per router per refresh
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


def nice_ceiling(value: float) -> float:
    """The axis top for ``value``: the next of 1, 2, 5 x 10^n at or above it (an axis reads
    "0 · 5 Mbps · 10 Mbps", not "0 · 3.7 Mbps · 7.4 Mbps")."""
    if value <= 0:
        return 1000.0
    magnitude = 10 ** math.floor(math.log10(value))
    return next(step * magnitude for step in (1, 2, 5, 10) if step * magnitude >= value)


def polyline(points: list[dict], key: str, start, seconds: float, width: int, height: int, top: float) -> str:
    """SVG polyline points, each placed by its time between ``start`` and ``seconds`` later (a gap
    in the checks stays a gap in time), scaled so ``top`` is the top edge."""
    return " ".join(
        f"{max(0.0, (point['at'] - start).total_seconds()) / seconds * width:.1f},"
        f"{height - min(point[key], top) / top * height:.1f}" for point in points)


def chart(points: list[dict], width: int = 600, height: int = 160, minutes: int = HISTORY_MINUTES,
          now=None) -> dict:
    """What the template draws: the two lines over the last ``minutes``, the axis (its top a round
    rate, its time marks every quarter of the span) and the peak."""
    now = now or timezone.now()
    start, seconds = now - timedelta(minutes=minutes), minutes * 60
    peak = max([p["rx_bps"] for p in points] + [p["tx_bps"] for p in points], default=0)
    top = nice_ceiling(peak)
    return {"width": width, "height": height, "peak_bps": peak, "count": len(points), "top_bps": top,
            "middle_bps": top / 2, "ticks": [start + timedelta(minutes=minutes * q / 4) for q in range(5)],
            "rx": polyline(points, "rx_bps", start, seconds, width, height, top),
            "tx": polyline(points, "tx_bps", start, seconds, width, height, top)}


def recent(router: Router, minutes: int = 5) -> list[dict]:
    """The last minutes of the checks, for the live graph to start from instead of an empty box."""
    return [{"at": point["at"].isoformat(), "rx_bps": point["rx_bps"], "tx_bps": point["tx_bps"]}
            for point in history(router, minutes=minutes + 1)]


def now(router: Router) -> dict:
    """Current rates of the router's physical ports, summed and per port:
    {"at", "rx_bps", "tx_bps", "interfaces": [{"name", "running", "rx_bps", "tx_bps"}]}.
    Raises RouterError when the router cannot be asked."""
    key = f"routers:traffic:{router.pk}"
    found = cache.get(key)
    if found is not None:
        return found

    def read(client: RouterClient) -> tuple[list[dict], dict]:
        ports = [row for row in client.interfaces() if row["type"] in PHYSICAL_TYPES and not row["disabled"]]
        return ports, rates(client, ports)

    # On the router's kept connection: a graph open all day is not a login every 5 s in its log.
    ports, found_rates = connections.use(router.pk, client_for(router, timeout=LIVE_TIMEOUT_SECONDS), read)
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
