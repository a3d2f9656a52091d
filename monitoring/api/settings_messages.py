"""API /api/settings/sms/test and /api/settings/email/test: one message through the saved SMS or
SMTP settings, answering whether it went and, if not, why (Admin)."""
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from ninja import Field, Router, Schema
from ninja.responses import Status

from accounts.access import api_access, perm
from billing import notifications
from hotspot.phone import InvalidPhone, normalise_phone
from lib.api_errors import Problem
from siteconfig import mail

settings_messages_router = Router(tags=["settings"])
CHANGE = api_access(perm("siteconfig.change_value"))


class TestSmsIn(Schema):
    phone: str = Field(..., max_length=20, description="a Kenyan mobile number in any usual form")


class TestEmailIn(Schema):
    to: str = Field(..., max_length=254, description="the address to send the test e-mail to")


class TestOut(Schema):
    sent: bool
    detail: str = Field(..., description="what happened: the provider's or SMTP server's refusal when not sent")


def _invalid(field: str, message: str) -> Status:
    return Status(422, {"detail": message, "errors": [{"loc": ["body", field], "msg": message}]})


@settings_messages_router.post("/sms/test", auth=CHANGE, response={200: TestOut, 422: Problem})
def test_sms(request, body: TestSmsIn):
    """Send a test SMS to `phone` with the saved backend, username, API key and sender."""
    try:
        phone = normalise_phone(body.phone)
    except InvalidPhone as error:
        return _invalid("phone", f"phone: {error}")
    note = notifications.send_test(phone)
    if note.status == note.Status.SENT:
        return {"sent": True, "detail": f"Test SMS sent to {note.to} through {note.backend}."}
    return {"sent": False, "detail": f"Test SMS to {note.to} not sent: {note.error}"}


@settings_messages_router.post("/email/test", auth=CHANGE, response={200: TestOut, 422: Problem})
def test_email(request, body: TestEmailIn):
    """Send a test e-mail to `to` through the saved SMTP server."""
    to = body.to.strip()
    try:
        validate_email(to)
    except ValidationError:
        return _invalid("to", "to: enter a valid e-mail address.")
    try:
        return {"sent": True, "detail": mail.send_test(to)}
    except mail.MailError as error:
        return {"sent": False, "detail": f"Test e-mail not sent: {error}"}
