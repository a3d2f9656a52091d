"""A Telegram Bot API stand-in speaking the part we use (getMe, sendMessage) with Telegram's own
answers: 401 Unauthorized for another bot token, 400 "Bad Request: chat not found" for a chat the
bot has not met, 404 for another method; each message delivered is kept (``messages``).
Used by the tests (tests/alerts_kit.py) and the quick start (manage.py run_telegram_simulator)."""
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from lib.http_simulator import HttpSimulator

DEFAULT_TOKEN = "123456789:simulator-bot-token"
MAX_TEXT = 4096  # Telegram's limit on a message's text


@dataclass
class Refusal:
    """A scripted answer for the next sendMessage (what Telegram says when it limits a bot, say)."""
    error_code: int
    description: str
    retry_after: int | None = None


@dataclass
class TelegramSimulator(HttpSimulator):
    host: str = "127.0.0.1"
    port: int = 0
    token: str = DEFAULT_TOKEN
    # Chat ids (as text) the bot may write to; None: every chat (the quick start's default).
    known_chats: set | None = field(default_factory=set)
    messages: list = field(default_factory=list)  # {"chat_id": str, "text": str} as delivered
    refused: int = 0  # requests answered with an error
    queued: list = field(default_factory=list)  # Refusals for the next sendMessage calls, in order
    on_message: Callable | None = None  # called with each delivered message (the command prints it)

    def __post_init__(self):
        self._lock = threading.Lock()
        self._next_id = 1

    @property
    def bot_id(self) -> int:
        head = self.token.split(":", 1)[0]
        return int(head) if head.isdigit() else 1

    def refuse_next(self, error_code: int, description: str, retry_after: int | None = None) -> None:
        self.queued.append(Refusal(error_code, description, retry_after))

    # --- the API ------------------------------------------------------------------------------

    def _handle(self, request, method: str) -> None:
        url = urlsplit(request.path)
        status, answer = self._answer(url.path, self._params(request, url.query))
        if not answer["ok"]:
            with self._lock:
                self.refused += 1
        body = json.dumps(answer).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    @staticmethod
    def _params(request, query: str) -> dict:
        # Telegram takes parameters in the query string, as a form or as JSON.
        params = {k: v[0] for k, v in parse_qs(query).items()}
        raw = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        kind = (request.headers.get("Content-Type") or "").split(";")[0].strip()
        if kind == "application/json":
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = None
            if not isinstance(body, dict):
                return {"_bad": "Bad Request: can't parse JSON object"}
            params.update(body)
        elif raw:
            params.update({k: v[0] for k, v in parse_qs(raw.decode(errors="replace")).items()})
        return params

    def _answer(self, path: str, params: dict) -> tuple[int, dict]:
        parts = path.strip("/").split("/")
        if len(parts) != 2 or not parts[0].startswith("bot"):
            return _error(404, "Not Found")
        token, method = parts[0][3:], parts[1]
        if token != self.token:
            return _error(401, "Unauthorized")
        if "_bad" in params:
            return _error(400, params["_bad"])
        if method == "getMe":
            return 200, {"ok": True, "result": {"id": self.bot_id, "is_bot": True, "first_name": "Hotspot alerts",
                                                "username": "hotspot_alerts_bot", "can_join_groups": True,
                                                "can_read_all_group_messages": False,
                                                "supports_inline_queries": False}}
        if method == "sendMessage":
            return self._send_message(params)
        return _error(404, "Not Found")

    def _send_message(self, params: dict) -> tuple[int, dict]:
        chat_id = str(params.get("chat_id", "")).strip()
        text = params.get("text")
        if not chat_id:
            return _error(400, "Bad Request: chat_id is empty")
        if not isinstance(text, str) or not text.strip():
            return _error(400, "Bad Request: message text is empty")
        if len(text) > MAX_TEXT:
            return _error(400, "Bad Request: message is too long")
        with self._lock:
            if self.queued:
                refusal = self.queued.pop(0)
                extra = {"parameters": {"retry_after": refusal.retry_after}} if refusal.retry_after is not None else {}
                return _error(refusal.error_code, refusal.description, **extra)
            if self.known_chats is not None and chat_id not in {str(c) for c in self.known_chats}:
                return _error(400, "Bad Request: chat not found")
            message = {"chat_id": chat_id, "text": text}
            self.messages.append(message)
            message_id, self._next_id = self._next_id, self._next_id + 1
        if self.on_message:
            self.on_message(message)
        kind = "channel" if chat_id.startswith("@") else "group" if chat_id.startswith("-") else "private"
        chat = {"id": int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id, "type": kind}
        return 200, {"ok": True, "result": {
            "message_id": message_id, "date": int(time.time()), "chat": chat, "text": text,
            "from": {"id": self.bot_id, "is_bot": True, "first_name": "Hotspot alerts",
                     "username": "hotspot_alerts_bot"}}}


def _error(code: int, description: str, **extra) -> tuple[int, dict]:
    return code, {"ok": False, "error_code": code, "description": description, **extra}
