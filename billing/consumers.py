"""Websocket for the portal's waiting page: the events of the account a payment belongs to."""
from channels.db import database_sync_to_async

from lib import live

from . import purchase


class PortalPaymentConsumer(live.LiveConsumer):
    """/ws/portal/payments/<signed token>/: the token is the waiting page's own, so only a device
    holding it hears about that account (payment completed or failed)."""

    async def groups_for(self):
        token = self.scope["url_route"]["kwargs"]["token"]
        payment = await database_sync_to_async(purchase.by_token)(token)
        if payment is None or payment.customer_id is None:
            return None
        return [live.customer_group(payment.customer_id)]

    async def live_event(self, message):
        # The token shows one payment's outcome; the account's other news (tickets, sessions) is
        # for its signed-in owner (hotspot.consumers), not for whoever holds a waiting page's link.
        for event in live.events_in(message):
            if event.get("event", "").startswith("payment."):
                await self.send_json(event)
