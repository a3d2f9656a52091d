"""Load demo data: staff for each role, packages, customers, routers and six months of payments."""
import secrets

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import User
from accounts.roles import ADMIN, FINANCE, SUPPORT, TECHNICIAN, sync_roles
from audit.actors import Actor, acting_as
from billing.demo import seed_payments
from hotspot.demo import seed_catalogue, seed_customers_and_history
from hotspot.models import Customer, Subscription
from monitoring import sampling
from monitoring.demo_branding import seed_branding
from radius.demo import seed_radius
from routers.demo import seed_routers

DEMO_STAFF = [("admin", ADMIN, "Amani", "Odhiambo"), ("finance", FINANCE, "Faith", "Wanjiku"),
              ("support", SUPPORT, "Samuel", "Kiprono"), ("tech", TECHNICIAN, "Tabitha", "Mwende")]


class Command(BaseCommand):
    help = "Load demo data for the quick start (safe to run again: existing data is kept)."

    def handle(self, *args, **options):
        sync_roles()
        password = self._demo_password()
        with transaction.atomic():
            staff = {}
            for username, role, first, last in DEMO_STAFF:
                user, created = User.objects.get_or_create(
                    username=username, defaults={"first_name": first, "last_name": last,
                                                 "email": f"{username}@demo.example"})
                if created:
                    user.set_password(password)
                    user.save()
                    user.groups.set([Group.objects.get(name=role)])
                staff[role] = user
            # The catalogue and the routers are what an admin sets up: /activity/ says so. The history
            # below stands for years of customers and M-Pesa, written in bulk, not through the services.
            with acting_as(Actor.staff(staff[ADMIN])):
                packages = seed_catalogue()
                routers = seed_routers()
                seed_branding()  # name, phone, colour and logo in the settings, as an operator would
            subscriptions = seed_customers_and_history()
            payments = seed_payments(subscriptions) if subscriptions else 0
            sessions = self._radius()
            # The dashboard's users-online chart, as the sampler would have drawn it from those sessions.
            sampling.backfill()
        self.stdout.write(
            f"Demo data: {len(packages)} packages, {routers} new routers, "
            f"{len(subscriptions)} new subscriptions, {payments} new payments, {sessions} new RADIUS sessions."
        )
        self.stdout.write(self.style.SUCCESS(
            "Sign in at /login/ as admin (Admin), finance, support or tech "
            f"with password: {password}"
        ))

    def _radius(self) -> int:
        active = list(Subscription.objects.filter(status="active").values_list("customer__username", flat=True)
                      .distinct()[:40])
        others = list(Customer.objects.exclude(username__in=active).values_list("username", flat=True)[:30])
        passwords = dict(Customer.objects.filter(username__in=active + others).values_list("username", "password"))
        from routers.models import Router

        # Loopback addresses: a Disconnect from the demo goes to `manage.py run_nas_simulator`, never
        # to a real network.
        nas = [(f"127.0.1.{index + 1}", router.name) for index, router in enumerate(Router.objects.order_by("id"))]
        return seed_radius(nas, online=active[:25], offline=others, passwords=passwords)

    def _demo_password(self) -> str:
        # One random password per install, kept beside the database so every run prints it.
        path = settings.VAR_DIR / "demo-password.txt"
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        password = "demo-" + secrets.token_urlsafe(9)
        path.write_text(password + "\n")
        path.chmod(0o600)
        return password
