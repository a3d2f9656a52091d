from django.core.management.base import BaseCommand

from hotspot import tasks


class Command(BaseCommand):
    help = "Run the disconnect_expired_sessions job once, now (beat runs it on a schedule)."

    def handle(self, *args, **options):
        result = tasks.disconnect_expired_sessions.run()
        self.stdout.write(", ".join(f"{key}: {value}" for key, value in result.items()))
