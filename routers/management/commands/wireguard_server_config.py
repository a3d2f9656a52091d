"""Print our WireGuard server's configuration, for the server itself (run as root there):

    manage.py wireguard_server_config > /etc/wireguard/wg0.conf && wg-quick up wg0
    wg syncconf wg0 <(manage.py wireguard_server_config --strip)     # after enrolling more routers
"""
from django.core.management.base import BaseCommand

from routers import wireguard


class Command(BaseCommand):
    help = "Print the wg-quick config of our WireGuard server: our key, address and port, a peer per router."

    def add_arguments(self, parser):
        shape = parser.add_mutually_exclusive_group()
        shape.add_argument("--strip", action="store_true",
                           help="plain wg(8) format without the wg-quick lines, for `wg syncconf`")
        shape.add_argument("--without-private-key", action="store_true",
                           help="read the key from /etc/wireguard/<interface>.key instead (as the web download)")
        shape.add_argument("--private-key", action="store_true", help="print only our private key")

    def handle(self, *args, strip=False, without_private_key=False, private_key=False, **options):
        if private_key:
            self.stdout.write(wireguard.server_private_key())
        elif strip:
            self.stdout.write(wireguard.strip_config(), ending="")
        else:
            self.stdout.write(wireguard.server_config(with_private_key=not without_private_key), ending="")
