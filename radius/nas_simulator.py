"""A NAS that answers RFC 5176 Disconnect and CoA requests, for the tests and the demo.

It speaks real RADIUS over UDP (packets decoded and signed by pyrad), checks the shared secret's
authenticator, and answers as told: ACK by default, NAK with an Error-Cause, or nothing at all
(so the sender times out), per username. Every request it verified is recorded once: a
retransmission (same source, identifier and authenticator, as RFC 5080 section 2.2.2 defines a
duplicate) gets the first answer again without being acted on twice, as a real NAS does.
"""
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from pyrad import packet

from .dictionaries import radius_dictionary

ACK, NAK, SILENT = "ack", "nak", "silent"


@dataclass
class Received:
    code: int
    attributes: dict
    source: tuple

    @property
    def kind(self) -> str:
        return "disconnect" if self.code == packet.DisconnectRequest else "coa"


@dataclass
class NasSimulator:
    secret: bytes
    host: str = "127.0.0.1"
    port: int = 0  # 0: any free port; read .port after start()
    default: str = ACK
    error_cause: int = 503  # Session-Context-Not-Found
    by_username: dict = field(default_factory=dict)
    received: list = field(default_factory=list)
    # Called with (request, how) before an answer goes out: what the router does besides answering
    # (the demo's closes the session's accounting row, as its Accounting-Stop would).
    before_answer: Callable[[Received, str], None] | None = None

    def start(self) -> "NasSimulator":
        self._answered = {}  # (source, identifier, authenticator) -> the reply sent
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind((self.host, self.port))
        self._socket.settimeout(0.2)
        self.port = self._socket.getsockname()[1]
        self._running = True
        self._thread = threading.Thread(target=self._serve, name=f"nas-simulator:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._running = False
        self._thread.join(2)
        self._socket.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def answer(self, username: str, how: str) -> None:
        self.by_username[username] = how

    def _serve(self) -> None:
        dictionary = radius_dictionary()
        while self._running:
            try:
                data, source = self._socket.recvfrom(4096)
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            try:
                request = packet.CoAPacket(packet=data, secret=self.secret, dict=dictionary)
                if request.code not in (packet.DisconnectRequest, packet.CoARequest):
                    continue
                if not request.VerifyCoARequest():
                    continue  # wrong secret: a real NAS stays silent
            except packet.PacketError:
                continue
            duplicate = (source, request.id, request.authenticator)
            if duplicate in self._answered:
                self._socket.sendto(self._answered[duplicate], source)
                continue
            attributes = {name: _plain(request[name]) for name in request.keys()}
            received = Received(request.code, attributes, source)
            self.received.append(received)
            how = self.by_username.get(attributes.get("User-Name"), self.default)
            if self.before_answer is not None:
                self.before_answer(received, how)
            if how == SILENT:
                continue  # as if the request was lost: its retransmission counts as new
            reply = request.CreateReply()
            if request.code == packet.DisconnectRequest:
                reply.code = packet.DisconnectACK if how == ACK else packet.DisconnectNAK
            else:
                reply.code = packet.CoAACK if how == ACK else packet.CoANAK
            if how == NAK:
                reply["Error-Cause"] = self.error_cause
            self._answered[duplicate] = reply.ReplyPacket()
            if len(self._answered) > 4096:  # the demo's runs for days; a retransmission comes within seconds
                del self._answered[next(iter(self._answered))]
            self._socket.sendto(self._answered[duplicate], source)


def _plain(values: list):
    value = values[0] if len(values) == 1 else values
    return value.decode(errors="replace") if isinstance(value, bytes) else value
