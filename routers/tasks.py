"""Router jobs (thin wrappers; each also a management command)."""
from celery import shared_task

from . import provisioning


@shared_task(name="routers.tasks.provision_router")
def provision_router(job_id: int) -> dict:
    job = provisioning.run_job(job_id)
    return {"job": job.pk, "status": job.status, "error": job.error}
