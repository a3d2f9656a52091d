"""manage.py prepare_radacct_partitions: the beat task radius.tasks.prepare_radacct_partitions, by hand."""
from django.core.management.base import BaseCommand

from radius import partitions


class Command(BaseCommand):
    help = "Make radacct's partitions for this month and the next ones where missing (PostgreSQL)."

    def handle(self, *args, **options):
        if not partitions.partitioned():
            self.stdout.write("radacct is not partitioned here (SQLite): nothing to do.")
            return
        made = partitions.prepare()
        self.stdout.write(f"Made {', '.join(made)}." if made else "Every partition needed is there.")
