"""Demo RADIUS sessions and auth log for the quick start, as FreeRADIUS would have written them.

The caller says who was online and when (only customers whose access is running) and which
sessions are over (inside the subscriptions they were paid by); access itself is written by the
subscriptions' own path, and NAS rows by the routers' (routers.services)."""
import random
from datetime import datetime, timedelta

from django.utils import timezone

from .models import RadAcct, RadPostAuth


def seed_sessions(nas_addresses: list[str], online: list[tuple[str, datetime]],
                  past: list[tuple[str, datetime, datetime]], seed: int = 5, pppoe_users=frozenset()) -> int:
    """Open sessions for ``online`` (username, start) and closed ones for ``past`` (username,
    start, stop), with their auth-log rows; ``pppoe_users`` come through the routers' PPPoE server
    (as RouterOS reports it: a virtual port, the service's name, an address from the PPPoE pool),
    the rest through the hotspot. Skipped when sessions exist already; returns how many."""
    if RadAcct.objects.exists():
        return 0
    rng = random.Random(seed)
    now = timezone.now()
    sessions, log = [], []
    rows = [(username, start, None) for username, start in online] + list(past)
    for index, (username, start, stop) in enumerate(rows):
        last_update = stop or max(start, now - timedelta(minutes=rng.randint(0, 4)))
        seconds = int((last_update - start).total_seconds())
        mac = "-".join(f"{rng.randint(0, 255):02X}" for _ in range(6))
        pppoe = username in pppoe_users
        service = "pppoe-service" if pppoe else "hotspot1"
        sessions.append(RadAcct(
            acct_session_id=f"{0x81000000 + index:08x}", acct_unique_id=f"demo-{index}", username=username,
            nas_ip_address=rng.choice(nas_addresses), nas_port_type="Virtual" if pppoe else "Wireless-802.11",
            framed_ip_address=f"{'10.10' if pppoe else '10.5'}.{index // 250}.{index % 250 + 2}",
            calling_station_id=mac, called_station_id=service, acct_start_time=start,
            acct_update_time=last_update, acct_stop_time=stop, acct_session_time=seconds,
            acct_input_octets=rng.randint(2, 90) * 2**20, acct_output_octets=rng.randint(20, 900) * 2**20,
            acct_terminate_cause=rng.choice(["User-Request", "Idle-Timeout", "Session-Timeout"]) if stop else None,
        ))
        log.append(RadPostAuth(username=username, reply="Access-Accept", calling_station_id=mac,
                               called_station_id=service, auth_date=start))
        if rng.random() < 0.15:  # a mistyped password first
            log.append(RadPostAuth(username=username, reply="Access-Reject", calling_station_id=mac,
                                   called_station_id=service, auth_date=start - timedelta(seconds=30)))
    RadAcct.objects.bulk_create(sessions)
    # In time order, as FreeRADIUS writes them: the auth log lists by id (its only index) as newest first.
    RadPostAuth.objects.bulk_create(sorted(log, key=lambda entry: entry.auth_date))
    return len(sessions)
