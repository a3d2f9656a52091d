"""One API connection: reading sentences, ``/login`` (plain and the old MD5 challenge), running each
command as its own task, and the replies (``!re`` / ``!done`` / ``!trap`` / ``!empty``, ``.tag``)."""
import asyncio
import hashlib
import os
import ssl
import time
from dataclasses import dataclass

from .clock import clock
from .table import Trap
from .wire import ProtocolError, attribute_words, encode_sentence, parse_sentence, read_sentence, tag_of


class Connection:
    """A client's socket: who logged in, the login challenge, the commands still running."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer
        self.user: str | None = None
        self.challenge: bytes | None = None
        self.tasks: dict[asyncio.Task, str | None] = {}
        self.peer = (writer.get_extra_info("peername") or ("?",))[0]

    def send(self, sentences: list[list[str]], tag: str | None) -> None:
        if self.writer.is_closing():
            return
        suffix = [f".tag={tag}"] if tag is not None else []
        self.writer.write(b"".join(encode_sentence(words + suffix) for words in sentences))

    def abort(self) -> None:
        self.writer.transport.abort()


@dataclass(eq=False)
class Stream:
    """A command that keeps answering every ``interval`` seconds until cancelled (monitor without once)."""

    rows: object
    interval: float = 1.0


class Disconnect(Exception):
    """Close the connection after sending ``sentences`` (quit), and reboot if asked."""

    def __init__(self, sentences=(), reboot=False):
        super().__init__()
        self.sentences, self.reboot = list(sentences), reboot


def version_tuple(text: str) -> tuple:
    numbers = text.split()[0].split(".")
    return tuple(int("".join(ch for ch in part if ch.isdigit()) or 0) for part in numbers)


class Session:
    """Part of RouterOSSimulator: the protocol over each connection, as the router answers it."""

    async def _serve(self, reader, writer) -> None:
        conn = Connection(reader, writer)
        self._connections.add(conn)
        try:
            while True:
                words = await read_sentence(reader)
                if not words or self.dead == "silent":
                    continue
                if conn.user is None:
                    await self._login(conn, words)
                    continue
                task = asyncio.ensure_future(self._command(conn, words))
                conn.tasks[task] = tag_of(words)
                task.add_done_callback(lambda done: conn.tasks.pop(done, None))
        except ProtocolError as error:
            conn.send([["!fatal", str(error)]], None)
        except (asyncio.IncompleteReadError, ConnectionError, OSError, ssl.SSLError):
            pass
        finally:
            self._connections.discard(conn)
            for task in list(conn.tasks):
                task.cancel()
            if conn.user is not None:
                with self.lock:
                    self._log("system,info,account", f"user {conn.user} logged out from {conn.peer} via api")
            writer.close()

    async def _login(self, conn: Connection, words: list[str]) -> None:
        command, attrs, _, tag = parse_sentence(words)
        await self._delay()
        if command != "/login":
            conn.send([["!trap", "=message=not logged in"], ["!done"]], tag)
            return
        name, password, response = attrs.get("name"), attrs.get("password"), attrs.get("response")
        if response is None and (name is None or version_tuple(self.version) < (6, 43)):
            # The MD5 challenge: what routers before 6.43 answer to any /login without a response,
            # and what later ones still answer to a bare /login.
            conn.challenge = os.urandom(16)
            conn.send([["!done", f"=ret={conn.challenge.hex()}"]], tag)
            return
        with self.lock:
            user = next((item for item in self.tables["/user"].items.values() if item["name"] == name), None)
            ok = user is not None and user["disabled"] == "false"
            if ok and password is not None:
                ok = password == user["password"]
            elif ok and response is not None:
                digest = hashlib.md5(b"\x00" + user["password"].encode() + (conn.challenge or b"")).hexdigest()
                # The MD5 challenge went away in 6.45: later routers still offer it but refuse the answer.
                ok = version_tuple(self.version) < (6, 45) and conn.challenge is not None and response == "00" + digest
            else:
                ok = False
            group = next((g for g in self.tables["/user/group"].items.values() if user and g["name"] == user["group"]),
                         None)
            if not ok:
                self._log("system,error,critical", f"login failure for user {name} from {conn.peer} via api")
                conn.send([["!trap", "=message=invalid user name or password (6)"], ["!done"]], tag)
                return
            if group is None or "api" not in group["policy"].split(","):
                conn.send([["!trap", "=message=not enough permissions (9)"], ["!done"]], tag)
                return
            conn.user = name
            user["last-logged-in"] = clock(time.time())
            self.logins += 1
            self._log("system,info,account", f"user {name} logged in from {conn.peer} via api")
        conn.send([["!done"]], tag)

    async def _command(self, conn: Connection, words: list[str]) -> None:
        command, attrs, queries, tag = parse_sentence(words)
        self.commands.append(command)
        try:
            await self._delay()
            if command in self.hang:
                await asyncio.Event().wait()
            if command in self.drop:
                conn.abort()
                return
            if command in self.refuse:
                raise Trap(self.refuse[command])
            with self.lock:
                result = self._dispatch(conn, command, attrs, queries)
            if isinstance(result, Stream):
                while True:
                    with self.lock:
                        rows = result.rows()
                    conn.send([["!re", *attribute_words(row)] for row in rows], tag)
                    await asyncio.sleep(result.interval)
            rows, done = result
            sentences = [["!re", *attribute_words(row)] for row in rows]
            if not rows and command.endswith("/print") and version_tuple(self.version) >= (7, 18):
                sentences.append(["!empty"])
            conn.send(sentences + [["!done", *attribute_words(done)]], tag)
        except Trap as trap:
            category = [f"=category={trap.category}"] if trap.category is not None else []
            conn.send([["!trap", *category, f"=message={trap.message}"], ["!done"]], tag)
        except Disconnect as disconnect:
            conn.send(disconnect.sentences, tag)
            try:
                await conn.writer.drain()
            except (ConnectionError, OSError):
                pass
            conn.abort()
            if disconnect.reboot:
                asyncio.ensure_future(self._restart())  # its own task: this one is cancelled with the connection
        except asyncio.CancelledError:
            if not conn.writer.is_closing():
                conn.send([["!trap", "=category=2", "=message=interrupted"], ["!done"]], tag)
        except Exception as error:  # a simulator bug: say so rather than leave the client waiting
            conn.send([["!trap", f"=message=failure: simulator error: {error!r}"], ["!done"]], tag)
            raise

    async def _delay(self) -> None:
        if self.latency_ms:
            await asyncio.sleep(self.latency_ms / 1000)
