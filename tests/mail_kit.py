"""A real SMTP server for the tests that send e-mail (aiosmtpd on 127.0.0.1, asking for a user and
password), and the settings that point the project's mail backend at it."""
import socket

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

SMTP_PASSWORD = "smtp-Pa55-never-shown-Zq7"


class Mailbox:
    """A real SMTP server on 127.0.0.1 (aiosmtpd) that asks for a user and password and keeps what it gets."""

    def __init__(self, user="mailer", password=SMTP_PASSWORD):
        self.user, self.password = user.encode(), password.encode()
        self.messages, self.logins = [], []
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, authenticator=self.authenticate,
                                     auth_require_tls=False, auth_required=True)

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        self.logins.append(auth_data.login)
        # handled=False: aiosmtpd answers a failure with 535 itself.
        return AuthResult(success=(auth_data.login, auth_data.password) == (self.user, self.password), handled=False)

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content.decode()))
        return "250 OK"


@pytest.fixture
def mailbox(settings):
    # pytest-django swaps in the locmem outbox; these tests speak SMTP through the project's backend.
    settings.EMAIL_BACKEND = "siteconfig.mail.EmailBackend"
    box = Mailbox()
    box.controller.start()
    yield box
    box.controller.stop()


def smtp_settings(mailbox, **changes) -> dict:
    """The E-mail section's values that reach ``mailbox``."""
    return {"host": "127.0.0.1", "port": str(mailbox.port), "user": "mailer", "password": SMTP_PASSWORD,
            "from_address": "noc@kilimani.example", **changes}
