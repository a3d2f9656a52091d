"""Load demo data: staff for each role, packages, routers, customers with six months of payments,
vouchers and RADIUS sessions, made so that every invariant the product promises holds on it."""
import random
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import ADMIN, FINANCE, SUPPORT, TECHNICIAN, sync_roles
from audit.actors import Actor, acting_as
from billing import demo as billing_demo
from billing import invoices, report_rollups
from billing.models import Payment
from hotspot import demo as hotspot_demo
from hotspot.models import Customer, ServiceType, Subscription
from monitoring import backups, sampling
from monitoring.alerts.demo import seed_incidents
from monitoring.demo_branding import seed_branding
from monitoring.models import DatabaseBackup
from monitoring.tickets.demo import seed_tickets
from radius.demo import seed_sessions
from radius.models import RadAcct
from routers.demo import nas_addresses, seed_router_backups, seed_routers

DEMO_STAFF = [("admin", ADMIN, "Amani", "Odhiambo"), ("finance", FINANCE, "Faith", "Wanjiku"),
              ("support", SUPPORT, "Samuel", "Kiprono"), ("tech", TECHNICIAN, "Tabitha", "Mwende")]
ONLINE = 30          # customers with an open session, among those whose access runs
PAST_SESSIONS = 90   # closed sessions in the last week, each inside the subscription that paid for it


class Command(BaseCommand):
    help = "Load demo data for the quick start (safe to run again: existing data is kept)."
    till, history = None, []

    def handle(self, *args, **options):
        sync_roles()
        password = self._demo_password()
        before = Subscription.objects.count(), Payment.objects.count()
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
            # The catalogue and the routers are what an admin sets up: /activity/ says so.
            with acting_as(Actor.staff(staff[ADMIN])):
                packages = hotspot_demo.seed_catalogue()
                routers = seed_routers()
                seed_branding()  # name, phone, colour and logo in the settings, as an operator would
            plans = self._present(staff) if not Customer.objects.exists() else []
        # Each step below once the one before has committed: the receipts woken by the payments
        # above find them sent (their time is past) without reading the thousands of past
        # payments, and the Disconnects the expiry sweep sends find none of the sessions.
        with transaction.atomic():
            if plans:
                billing_demo.seed_history_payments(self.history, self.till)
        with transaction.atomic():
            sessions = self._sessions(random.Random(5))
            # The dashboard's users-online chart, as the sampler would have drawn it from those sessions.
            sampling.backfill()
        # The reports' summary rows, as the 5-minute job keeps them: every day of the demo's history.
        report_rollups.refresh()
        # Alerts: the evaluator's incidents on the routers' states (one resolved, one open).
        seed_incidents()
        # The support desk: tickets opened, answered, noted and resolved through the ticket services.
        tickets = seed_tickets(staff)
        made = self._backups()
        self.stdout.write(
            f"Demo data: {len(packages)} packages, {routers} new routers, "
            f"{Subscription.objects.count() - before[0]} new subscriptions, "
            f"{Payment.objects.count() - before[1]} new payments, {sessions} new RADIUS sessions, "
            f"{made} new backups, {tickets} new tickets."
        )
        self.stdout.write(self.style.SUCCESS(
            "Sign in at /login/ as admin (Admin), finance, support or tech "
            f"with password: {password}"
        ))
        customer = self._account_to_show()
        if customer is not None:
            self.stdout.write(f"A customer's own account: /portal/account/ as {customer.phone} "
                              f"with password: {customer.password}")

    @staticmethod
    def _account_to_show():
        """A paying customer to sign in as on /portal/account/: one on the fair-use plan if any."""
        running = Customer.objects.filter(status=Customer.Status.ACTIVE, subscriptions__status="active").exclude(
            phone="")
        return (running.filter(subscriptions__package__after_allowance="throttle").order_by("pk").first()
                or running.order_by("pk").first())

    def _backups(self) -> int:
        """What the nightly jobs would have made by now, so /backups/ is not empty: one database backup
        (through monitoring.backups, verified) and one configuration backup per online demo router
        (through the routers' own backup, on their simulators). None when there are some already."""
        made = 0
        if not DatabaseBackup.objects.exists():
            with acting_as(Actor.job("monitoring.tasks.backup_database")):
                backup = backups.run()
            if backup.state != DatabaseBackup.State.VERIFIED:
                self.stderr.write(f"The demo's database backup failed: {backup.detail}")
            made += 1
        with acting_as(Actor.job("routers.tasks.backup_routers")):
            routers, failed = seed_router_backups()
        for line in failed:
            self.stderr.write(f"A demo router's backup failed: {line}")
        return made + routers

    def _present(self, staff) -> list:
        """Customers, and what counts now bought through the services (see hotspot.demo and
        billing.demo): purchases, vouchers, expiry and grace, invoices. Returns the customers' plans."""
        rng = random.Random(7)
        plans = hotspot_demo.plan_customers(timezone.now(), rng)
        hotspot_demo.create_customers(plans)
        self.till = billing_demo.Till(random.Random(11))
        self.history = billing_demo.seed_history_subscriptions(plans, self.till)
        bought_since = timezone.now()
        ages = billing_demo.seed_live(plans, self.till, cashier=staff[FINANCE])
        billing_demo.date_back(ages, bought_since)
        hotspot_demo.restore_running(list(ages), timezone.now())
        billing_demo.seed_top_ups(plans, self.till)
        # The business's costs, as Finance records them: the profit report sets them against revenue.
        with acting_as(Actor.staff(staff[FINANCE])):
            billing_demo.seed_expenses(timezone.localdate(), by=staff[FINANCE])
        with acting_as(Actor.staff(staff[ADMIN])):
            hotspot_demo.seed_vouchers(timezone.now(), rng, created_by=staff[ADMIN].username)
        # What beat's jobs would have done by now: expiry and grace, then the coming month's invoices.
        with acting_as(Actor.job("hotspot.tasks.check_expired_subscriptions")):
            hotspot_demo.sweep(timezone.now())
        with acting_as(Actor.job("billing.tasks.issue_invoices")):
            invoices.issue_due(timezone.now())
        return plans

    def _sessions(self, rng: random.Random) -> int:
        """Open sessions for customers whose access runs now (paid, or walled in during grace), closed
        ones inside subscriptions of the last week: never one RADIUS would have refused. None when
        sessions exist already."""
        if RadAcct.objects.exists():
            return 0
        now = timezone.now()
        running = list(Subscription.objects.select_related("customer").filter(
            status__in=(Subscription.Status.ACTIVE, Subscription.Status.GRACE),
            starts_at__lte=now).order_by("pk"))
        online = []
        for sub in rng.sample(running, min(ONLINE, len(running))):
            # In grace the customer reconnected into the walled garden after the paid time ran out.
            since = sub.starts_at if sub.status == Subscription.Status.ACTIVE else sub.expires_at
            online.append((sub.customer.username, max(since, now - timedelta(minutes=rng.randint(5, 300)))))
        over = list(Subscription.objects.select_related("customer").filter(
            status__in=(Subscription.Status.EXPIRED, Subscription.Status.GRACE),
            expires_at__gt=now - timedelta(days=7), expires_at__lte=now).order_by("pk"))
        past = []
        for sub in rng.sample(over, min(PAST_SESSIONS, len(over))):
            start = sub.starts_at + (sub.expires_at - sub.starts_at) * rng.random() * 0.8
            stop = min(sub.expires_at, start + timedelta(minutes=rng.randint(5, 180)))
            past.append((sub.customer.username, start, stop))
        pppoe = set(Customer.objects.filter(service_type=ServiceType.PPPOE).values_list("username", flat=True))
        return seed_sessions(nas_addresses(), online, past, pppoe_users=pppoe)

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
