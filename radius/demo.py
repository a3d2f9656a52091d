"""Demo RADIUS state for the quick start: NAS rows, users, live and past sessions, an auth log."""
import random
from datetime import timedelta

from django.utils import timezone

from . import services
from .models import RadAcct, RadPostAuth

DEMO_SECRET = "demo-radius-secret"


def seed_radius(nas_addresses: list[tuple[str, str]], online: list[str], offline: list[str],
                passwords: dict[str, str], seed: int = 5) -> int:
    """NAS devices, RADIUS users for ``online`` + ``offline``, sessions and auth-log rows.

    Skipped when sessions exist already. Returns the number of sessions created.
    """
    if RadAcct.objects.exists():
        return 0
    rng = random.Random(seed)
    now = timezone.now()
    for address, name in nas_addresses:
        services.register_nas(address, DEMO_SECRET, name)
    services.set_group_policy("demo-hotspot", rate_limit="3M/5M", idle_timeout=900, shared_users=1)
    for username in online + offline:
        services.grant_access(username, passwords[username], "demo-hotspot",
                              expires_at=now + timedelta(hours=rng.randint(1, 72)))
    sessions, log = [], []
    for index, username in enumerate(online + offline * 3):
        address = rng.choice(nas_addresses)[0]
        is_open = index < len(online)
        last_update = now - timedelta(minutes=rng.randint(0, 4))
        start = now - timedelta(minutes=rng.randint(5, 300)) if is_open else now - timedelta(
            days=rng.randint(0, 6), minutes=rng.randint(0, 1439))
        seconds = int((now - start).total_seconds()) if is_open else rng.randint(300, 7200)
        mac = "-".join(f"{rng.randint(0, 255):02X}" for _ in range(6))
        sessions.append(RadAcct(
            acct_session_id=f"{0x81000000 + index:08x}", acct_unique_id=f"demo-{index}", username=username,
            nas_ip_address=address, nas_port_type="Wireless-802.11",
            framed_ip_address=f"10.5.{index // 250}.{index % 250 + 2}",
            calling_station_id=mac, called_station_id="hotspot1", acct_start_time=start,
            acct_update_time=last_update if is_open else start + timedelta(seconds=seconds),
            acct_stop_time=None if is_open else start + timedelta(seconds=seconds),
            acct_session_time=seconds, acct_input_octets=rng.randint(2, 90) * 2**20,
            acct_output_octets=rng.randint(20, 900) * 2**20,
            acct_terminate_cause=None if is_open else rng.choice(["User-Request", "Idle-Timeout", "Session-Timeout"]),
        ))
        log.append(RadPostAuth(username=username, reply="Access-Accept", calling_station_id=mac,
                               called_station_id="hotspot1", auth_date=start))
        if rng.random() < 0.15:
            log.append(RadPostAuth(username=username, reply="Access-Reject", calling_station_id=mac,
                                   called_station_id="hotspot1", auth_date=start - timedelta(seconds=30)))
    RadAcct.objects.bulk_create(sessions)
    # In time order, as FreeRADIUS writes them: the auth log lists by id (its only index) as newest first.
    RadPostAuth.objects.bulk_create(sorted(log, key=lambda entry: entry.auth_date))
    return len(sessions)
