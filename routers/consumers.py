"""Websocket for a provisioning run's progress page: the run's own live group."""
from channels.db import database_sync_to_async

from lib import live

from .models import ProvisioningJob


class ProvisioningConsumer(live.LiveConsumer):
    """/ws/routers/provisioning/<job>/: staff who may see routers hear that run's steps as they end."""

    async def groups_for(self):
        user = self.scope.get("user")
        job_id = self.scope["url_route"]["kwargs"]["job_id"]
        allowed = await database_sync_to_async(_may_watch)(user, job_id)
        return [live.provisioning_group(job_id)] if allowed else None


def _may_watch(user, job_id: int) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return user.has_perm("routers.view_router") and ProvisioningJob.objects.filter(pk=job_id).exists()
