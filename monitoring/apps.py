from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        from celery.signals import task_failure

        from .jobs import record_task_failure

        task_failure.connect(record_task_failure, dispatch_uid="monitoring.record_task_failure")

        # The open tickets beside Tickets in the sidebar (accounts draws the sidebar, and imports no app above it).
        from django.contrib.auth.signals import user_logged_in

        from accounts.context_processors import BADGES

        from .tickets import badge

        BADGES["ticket-list"] = ("monitoring/tickets_badge.html", badge.shown)
        user_logged_in.connect(badge.count_at_sign_in, dispatch_uid="monitoring.tickets.badge")

        # A ticket's activity entries for those who may see that ticket, not every ticket's.
        from audit import trail

        from .tickets import access as ticket_access

        trail.OBJECT_RULES["monitoring.ticket"] = ticket_access.audit_ids
