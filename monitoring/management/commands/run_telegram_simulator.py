"""Run the Telegram Bot API simulator (the quick start's Telegram) until Ctrl-C."""
import os
import time

from django.core.management.base import BaseCommand

from monitoring.telegram_simulator import DEFAULT_TOKEN, TelegramSimulator


class Command(BaseCommand):
    help = "Serve a Telegram Bot API stand-in (getMe, sendMessage) that prints each message it delivers."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8901)
        # The one bot token it answers to, as Telegram knows one bot: another is 401 Unauthorized.
        parser.add_argument("--token", default=os.environ.get("TELEGRAM_SIMULATOR_TOKEN", DEFAULT_TOKEN))
        parser.add_argument("--chat", action="append", default=[], metavar="ID",
                            help="a chat ID the bot may write to (repeat; none given: every chat)")

    def handle(self, *args, **options):
        simulator = TelegramSimulator(host=options["host"], port=options["port"], token=options["token"],
                                      known_chats=set(options["chat"]) or None, on_message=self._print)
        simulator.start()
        chats = ", ".join(sorted(simulator.known_chats)) if simulator.known_chats else "every chat"
        # The token is the simulator's own (not a real bot's): printed so it can be saved in
        # Settings → Alerts.
        self.stdout.write(f"Telegram simulator on {simulator.base_url} for bot token {simulator.token}, "
                          f"delivering to {chats} (Ctrl-C to stop)")
        self.stdout.flush()
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            simulator.stop()

    def _print(self, message: dict) -> None:
        self.stdout.write(f"to chat {message['chat_id']}: {message['text']}")
        self.stdout.flush()
