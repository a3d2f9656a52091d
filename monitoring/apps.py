from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        from celery.signals import task_failure

        from .jobs import record_task_failure

        task_failure.connect(record_task_failure, dispatch_uid="monitoring.record_task_failure")
