"""Africa's Talking's side of an incoming SMS: posts each message a customer sends to our inbound
webhook as Africa's Talking does (an application/x-www-form-urlencoded POST of from, to, text, date,
id and, on premium shortcodes, linkId, over httpx), and posts one again as its retries do.
Used by the tests (tests/test_inbound_sms.py) against a live server."""
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from hotspot.phone import InvalidPhone, normalise_phone

SHORTCODE = "22384"  # a shortcode in Africa's Talking's examples; ours is whatever the account has


@dataclass
class InboundSmsSimulator:
    webhook_url: str  # {public base}/api/sms/inbound/{token}
    shortcode: str = SHORTCODE
    timeout: float = 10.0
    posted: list = field(default_factory=list)  # (form, response) of every post, in order

    def message(self, sender: str, text: str, *, link_id: str | None = None,
                received: datetime | None = None) -> dict[str, str]:
        """The form of a new message from ``sender`` (any Kenyan form: sent as +254…), with a fresh id."""
        form = {"from": international(sender), "to": self.shortcode, "text": text,
                "date": (received or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                "id": str(uuid.uuid4())}
        if link_id is not None:
            form["linkId"] = link_id
        return form

    def send(self, sender: str, text: str, **options) -> httpx.Response:
        """A customer's SMS, posted once."""
        return self.post(self.message(sender, text, **options))

    def post(self, form: dict[str, str] | bytes, content_type: str = "application/x-www-form-urlencoded",
             url: str | None = None) -> httpx.Response:
        """Post ``form`` as Africa's Talking does (a message, or a retry of one), or any ``bytes`` as
        ``content_type``: what a test needs to send that Africa's Talking would not."""
        if isinstance(form, bytes):
            response = httpx.post(url or self.webhook_url, content=form, headers={"Content-Type": content_type},
                                  timeout=self.timeout)
        else:
            response = httpx.post(url or self.webhook_url, data=form, timeout=self.timeout)
        self.posted.append((form, response))
        return response


def international(phone: str) -> str:
    """+254… for a Kenyan number in any form people write it; anything else as it is."""
    try:
        return "+" + normalise_phone(phone)
    except InvalidPhone:
        return phone
