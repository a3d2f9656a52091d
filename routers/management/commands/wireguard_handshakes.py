"""Record each router's latest WireGuard handshake from our server's own view, e.g. from cron:

    * * * * * wg show wg0 latest-handshakes | manage.py wireguard_handshakes
"""
import sys

from django.core.management.base import BaseCommand

from routers import wireguard


class Command(BaseCommand):
    help = "Read `wg show <interface> latest-handshakes` on stdin; store each router's last handshake."

    def handle(self, *args, **options):
        updated = wireguard.record_handshakes(sys.stdin)
        self.stdout.write(f"{updated} routers' last handshake updated")
