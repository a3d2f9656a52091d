"""Telegram for the alert tests: the Bot API simulator on a free port, the project pointed at it and
its bot token saved on Settings → Alerts, as an Admin would."""
import pytest

from monitoring.telegram_simulator import TelegramSimulator
from siteconfig import store

BOT_TOKEN = "7012345678:AAH-simulated-alerts-bot-Zq9x"
# Chats that have opened the bot (Telegram refuses any other): two staff members and the NOC group.
ADMIN_CHAT = "401234567"
TECH_CHAT = "402345678"
NOC_GROUP = "-1001234567890"

@pytest.fixture
def telegram(request, settings):
    """The simulator (``.messages``: [{chat_id, text}], ``.token``, ``.known_chats``, ``.refuse_next``)."""
    request.getfixturevalue("transactional_db" if "transactional_db" in request.fixturenames else "db")
    # Port 0: the OS picks a free one as the server binds (no window for another process to take it).
    simulator = TelegramSimulator(port=0, token=BOT_TOKEN, known_chats={ADMIN_CHAT, TECH_CHAT, NOC_GROUP})
    simulator.start()
    settings.TELEGRAM_API_URL = simulator.base_url
    settings.TELEGRAM_TIMEOUT_SECONDS = 2
    store.save("alerts", {"telegram_token": BOT_TOKEN})
    yield simulator
    simulator.stop()
