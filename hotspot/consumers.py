"""Websocket for the customer's account pages: the events of the signed-in customer's account."""
from channels.db import database_sync_to_async

from lib import live

from . import account


class CustomerAccountConsumer(live.LiveConsumer):
    """/ws/portal/account/: joins ``customer.<id>`` of the customer signed in by this browser's
    session (hotspot.account), so only they hear about their payments, sessions and tickets."""

    async def groups_for(self):
        customer = await database_sync_to_async(account.customer_in)(self.scope.get("session"))
        return [live.customer_group(customer.pk)] if customer is not None else None
