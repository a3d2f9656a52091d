from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from celery.signals import task_postrun, task_prerun

        from .actors import job_finished, job_started

        # A job's entries name the job as their actor (expiry, grace, verification…).
        task_prerun.connect(job_started, dispatch_uid="audit.job_started")
        task_postrun.connect(job_finished, dispatch_uid="audit.job_finished")
