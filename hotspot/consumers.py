"""Websocket for the customer's account pages: the events of the signed-in customer's account."""
from channels.db import database_sync_to_async

from lib import live

from . import account


def _still_signed_in(session) -> bool:
    """Whether the browser's session, as stored now, still belongs to its customer: the copy the
    socket loaded at connect time does not see a sign-out from another tab."""
    if session is None or not session.session_key:
        return False
    return account.customer_in(session.__class__(session.session_key)) is not None


class CustomerAccountConsumer(live.LiveConsumer):
    """/ws/portal/account/: joins ``customer.<id>`` of the customer signed in by this browser's
    session (hotspot.account), so only they hear about their payments, sessions and tickets."""

    async def groups_for(self):
        customer = await database_sync_to_async(account.customer_in)(self.scope.get("session"))
        return [live.customer_group(customer.pk)] if customer is not None else None

    async def live_event(self, message):
        # Signed out since connecting (here, by a password change elsewhere, or the account closed
        # at the shop): hear no more. 4403 tells the page to stop reconnecting; its next poll finds
        # the sign-in page and goes there.
        if not await database_sync_to_async(_still_signed_in)(self.scope.get("session")):
            await self.close(code=4403)
            return
        await super().live_event(message)
