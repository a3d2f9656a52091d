"""Websocket endpoints for staff pages."""
from channels.db import database_sync_to_async

from lib import live


class AdminConsumer(live.LiveConsumer):
    """/ws/admin/: any active staff member joins the ``admin`` group."""

    async def groups_for(self):
        user = self.scope.get("user")
        if user is None or not await database_sync_to_async(_is_active_staff)(user):
            return None
        return [live.ADMIN]


def _is_active_staff(user) -> bool:
    return bool(user.is_authenticated and user.is_active)
