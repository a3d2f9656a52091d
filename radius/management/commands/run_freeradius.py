"""Render the FreeRADIUS configuration for DATABASE_URL into a private directory and run it."""
import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from radius import freeradius


class Command(BaseCommand):
    help = ("Run Debian's FreeRADIUS 3.2 against this database (clients from the nas table). "
            "Foreground by default; --daemon forks and returns.")

    def add_arguments(self, parser):
        parser.add_argument("--auth-port", type=int, default=1812)
        parser.add_argument("--acct-port", type=int, default=1813)
        parser.add_argument("--status-port", type=int, default=settings.RADIUS_STATUS_PORT,
                            help="UDP port answering RFC 5997 Status-Server for the alerts' probe (0: none)")
        parser.add_argument("--listen", default="127.0.0.1", help='address to listen on ("*" for all)')
        parser.add_argument("--dir", type=Path, default=None, help="where to render (default: VAR_DIR/freeradius)")
        parser.add_argument("--daemon", action="store_true", help="fork into the background")
        parser.add_argument("--debug", action="store_true", help="freeradius -X: log every packet")
        parser.add_argument("--reject-delay", type=int, default=1, help="seconds before an Access-Reject")
        parser.add_argument("--threads", type=int, default=freeradius.default_threads(),
                            help="worker threads and database connections (a fixed pool; default: 2 per core)")
        parser.add_argument("--check", action="store_true", help="render and check the configuration only")
        parser.add_argument("--nas-poll", type=float, default=30, metavar="SECONDS",
                            help="restart FreeRADIUS when the nas table changes, checking this often "
                                 "(foreground only; 0: never)")

    def handle(self, *args, **options):
        confdir = (options["dir"] or freeradius.default_confdir()).resolve()
        try:
            freeradius.render(freeradius.Options(
                confdir=confdir, auth_port=options["auth_port"], acct_port=options["acct_port"],
                status_port=options["status_port"],
                address=options["listen"], reject_delay=options["reject_delay"], threads=options["threads"],
                max_threads=options["threads"], db_pool=options["threads"], db_pool_max=options["threads"],
                async_commit=settings.RADIUS_DB_ASYNC_COMMIT))
            if options["check"]:
                freeradius.check(confdir)
                self.stdout.write(f"Configuration in {confdir} is valid.")
                return
        except freeradius.FreeradiusError as error:
            raise CommandError(str(error)) from None
        argv = freeradius.command(confdir, foreground=not options["daemon"], debug=options["debug"])
        self.stdout.write(f"Starting {' '.join(argv)}")
        self.stdout.flush()
        if options["daemon"] or not options["nas_poll"]:
            os.execvp(argv[0], argv)
        code = freeradius.supervise(argv, options["nas_poll"], say=lambda text: (self.stdout.write(text),
                                                                                    self.stdout.flush()))
        raise SystemExit(code)
