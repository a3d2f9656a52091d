"""What the alert rules measure directly: whether FreeRADIUS answers an RFC 5997 Status-Server, and
how much disk is free where the backups live."""
import shutil
from pathlib import Path

from django.conf import settings
from pyrad import packet
from pyrad.client import Client, Timeout

from radius.dictionaries import radius_dictionary


def radius_answers(timeout: float = 2.0) -> bool:
    """True when FreeRADIUS answers a Status-Server on its status listener (run_freeradius
    --status-port, RADIUS_STATUS_ADDRESS:RADIUS_STATUS_PORT, secret RADIUS_STATUS_SECRET) within
    ``timeout`` seconds. One try: a server that needs a second one is late enough to count."""
    client = Client(server=settings.RADIUS_STATUS_ADDRESS, authport=settings.RADIUS_STATUS_PORT,
                    secret=settings.RADIUS_STATUS_SECRET.encode(), dict=radius_dictionary())
    client.timeout, client.retries = timeout, 1
    # RFC 5997: a Status-Server carries a Message-Authenticator (pyrad adds it) and nothing is needed
    # beyond it; FreeRADIUS answers Access-Accept.
    request = client.CreateAuthPacket(code=packet.StatusServer)
    try:
        reply = client.SendPacket(request)
    except (Timeout, OSError):
        # No answer, a refused port (ICMP), an unknown host: all mean "not answering".
        return False
    finally:
        client._CloseSocket()  # pyrad keeps its socket open for the next packet; we send none
    return reply.code == packet.AccessAccept


def disk_free_percent(path) -> float:
    """Free space, in percent of the file system holding ``path`` (or its nearest existing parent:
    the backup folder may not exist before the first backup)."""
    place = Path(path).absolute()
    while not place.exists() and place != place.parent:
        place = place.parent
    usage = shutil.disk_usage(place)
    return round(100.0 * usage.free / usage.total, 2) if usage.total else 0.0
