"""The RouterOS API adapter (routeros-api): one connection per task, a timeout on every socket
operation, TLS when configured, and typed errors: ``RouterUnreachable`` (retryable),
``RouterAuthFailed`` and ``RouterCommandRefused`` (a ``!trap``; the router's message kept as is).
Facts from shared/REFERENCE.md (MikroTik RouterOS API).

    with RouterClient(router.host, router.api_port, username, password, timeout=5) as client:
        client.identity(); client.hotspot_active(); client.kick_hotspot(user="254712345678")

Not thread-safe (neither is routeros-api): one thread at a time per client. Reads that recur (the
poll, live traffic) borrow a kept connection from routers.connections instead of logging in each time.
"""
import re
import socket
import ssl
from collections.abc import Iterable

from routeros_api import RouterOsApiPool
from routeros_api.exceptions import RouterOsApiCommunicationError, RouterOsApiError

PLAIN_PORT, TLS_PORT = 8728, 8729
NO_SUCH_ITEM = "no such item"


class RouterError(Exception):
    """``reason``: a short word for logs and pages; ``retryable``: whether trying later may succeed."""

    reason = "error"
    retryable = False

    def __init__(self, message: str, *, host: str = "", command: str = ""):
        super().__init__(f"{host}: {command + ': ' if command else ''}{message}" if host else message)
        self.message, self.host, self.command = message, host, command


class RouterUnreachable(RouterError):
    """Connection refused, reset or closed; connect or a read timed out; TLS handshake failed.
    ``timed_out``: the router stayed silent (a reset or close came back at once, so a kept
    connection that fails that way is worth one fresh try; a silent one is not)."""

    reason = "unreachable"
    retryable = True
    timed_out = False


class RouterAuthFailed(RouterError):
    reason = "auth_failed"


class RouterCommandRefused(RouterError):
    """The router answered ``!trap``: ``message`` is its own words (e.g. "no such item")."""

    reason = "refused"


class _Present(bytes):
    """An empty value that is still sent: routeros-api writes ``=name`` for a falsy value, while the
    documented word is ``=name=`` (clearing a comment, ``once``)."""

    def __bool__(self):
        return True


class RouterClient:
    def __init__(self, host: str, port: int | None = None, username: str = "admin", password: str = "", *,
                 use_tls: bool = False, tls_verify: bool = True, tls_ca: str | None = None, timeout: float = 5.0):
        """``tls_ca``: a PEM certificate (or path to one) to trust for this router, e.g. its own
        self-signed certificate; ``tls_verify=False`` accepts any (encrypted, not authenticated)."""
        self.host, self.username, self.password = host, username, password
        self.port = port or (TLS_PORT if use_tls else PLAIN_PORT)
        self.use_tls, self.tls_verify, self.tls_ca, self.timeout = use_tls, tls_verify, tls_ca, timeout
        self._pool: RouterOsApiPool | None = None
        self._api = None

    # --- the connection -------------------------------------------------------------------------

    def __enter__(self) -> "RouterClient":
        self.connect()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def connect(self) -> None:
        self.close()
        try:
            context = self._ssl_context()
        except (ssl.SSLError, OSError, ValueError) as error:  # a certificate that cannot be loaded
            raise RouterUnreachable(f"TLS: the trusted certificate cannot be loaded ({error})", host=self.host,
                                    command="connect") from error
        pool = RouterOsApiPool(self.host, self.username, self.password, port=self.port, plaintext_login=True,
                               use_ssl=self.use_tls, ssl_context=context)
        # The pool hands its socket_timeout to socket.create_connection, so it bounds the connect, the
        # TLS handshake and every later send and recv (routeros-api's default is 15 s).
        pool.socket_timeout = self.timeout
        self._pool = pool
        try:
            self._api = pool.get_api()  # plain-text login; routeros-api answers an MD5 challenge (< 6.43) too
        except RouterOsApiCommunicationError as error:
            self.close()
            raise RouterAuthFailed(_text(error.original_message), host=self.host, command="/login") from error
        except (RouterOsApiError, OSError) as error:  # OSError: TLS errors and timeouts raised before the login
            self.close()
            raise RouterUnreachable(_describe(error), host=self.host, command="connect") from error
        # routeros-api sends each word in its own write; with Nagle on, every command after the first
        # word waits for the router's delayed ACK (~40 ms a command). The login has paid that once.
        try:
            pool.socket.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except (AttributeError, OSError):
            pass

    def set_timeout(self, seconds: float) -> None:
        """A kept connection serves callers with different limits (the poll's, live traffic's)."""
        self.timeout = seconds
        if self._pool is not None:
            self._pool.set_timeout(seconds)

    @property
    def connected(self) -> bool:
        """False once the connection is closed or was lost mid-command."""
        return self._api is not None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.disconnect()
        self._pool = self._api = None

    def _ssl_context(self) -> ssl.SSLContext | None:
        if not self.use_tls:
            return None
        context = ssl.create_default_context()
        if self.tls_ca:
            if "-----BEGIN" in self.tls_ca:
                # The router's own certificate, pinned: only it is trusted, whatever name it carries
                # (a MikroTik's self-signed certificate seldom names the address we dial).
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                context.check_hostname = False
                context.verify_mode = ssl.CERT_REQUIRED
                context.load_verify_locations(cadata=self.tls_ca)
            else:
                context.load_verify_locations(cafile=self.tls_ca)
        if not self.tls_verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    # --- any menu ------------------------------------------------------------------------------------

    def print(self, menu: str, /, *, proplist: Iterable[str] | None = None, **query) -> list[dict]:
        """Rows of ``menu`` matching every ``name=value`` (underscores read as dashes, ``id`` as ``.id``).
        Keys come back as RouterOS names, ``.id`` as ``id``; values are strings."""
        arguments = {"proplist": ",".join(proplist)} if proplist else {}
        return self._run(menu, "print", arguments, query)[0]

    def add(self, menu: str, /, **props) -> str:
        """The new item's id (``*1A``)."""
        return self._run(menu, "add", props)[1].get("ret", "")

    def set(self, menu: str, id: str | None, /, **props) -> None:
        """``id`` None for menus with one item (``/system/identity``, ``/radius/incoming``)."""
        self._run(menu, "set", props if id is None else {"id": id, **props})

    def remove(self, menu: str, id: str, /) -> None:
        self._run(menu, "remove", {"id": id})

    def call(self, menu: str, command: str, /, **args) -> list[dict]:
        return self._run(menu, command, args)[0]

    # --- what the product asks of a router ---------------------------------------------------------

    def identity(self) -> str:
        return self.print("/system/identity")[0]["name"]

    def resource(self) -> dict:
        row = self.print("/system/resource")[0]
        return {
            "uptime_seconds": parse_duration(row.get("uptime", "")), "version": row.get("version", ""),
            "board_name": row.get("board-name", ""), "architecture_name": row.get("architecture-name", ""),
            "cpu_load": _int(row.get("cpu-load")), "cpu_count": _int(row.get("cpu-count")),
            "free_memory": _int(row.get("free-memory")), "total_memory": _int(row.get("total-memory")),
            "free_hdd_space": _int(row.get("free-hdd-space")), "total_hdd_space": _int(row.get("total-hdd-space")),
        }

    def routerboard(self) -> dict:
        """CHR and x86 installs have no ``/system/routerboard`` and refuse it ("no such command prefix")."""
        row = self.print("/system/routerboard")[0]
        return {"routerboard": row.get("routerboard") == "true", "model": row.get("model", ""),
                "serial_number": row.get("serial-number", ""), "firmware": row.get("current-firmware", "")}

    def interfaces(self) -> list[dict]:
        rows = self.print("/interface", proplist=(".id", "name", "type", "running", "disabled", "rx-byte", "tx-byte",
                                                  "mac-address", "comment"))
        return [{"id": row.get("id", ""), "name": row.get("name", ""), "type": row.get("type", ""),
                 "running": row.get("running") == "true", "disabled": row.get("disabled") == "true",
                 "rx_bytes": _int(row.get("rx-byte")), "tx_bytes": _int(row.get("tx-byte")),
                 "mac_address": row.get("mac-address", ""), "comment": row.get("comment", "")} for row in rows]

    def traffic(self, interfaces: Iterable[str]) -> dict[str, dict]:
        """Current rates per interface name: {"ether1": {"rx_bps": …, "tx_bps": …}}."""
        names = list(interfaces)
        if not names:
            return {}
        rows = self.call("/interface", "monitor-traffic", interface=",".join(names), once="")
        return {row["name"]: {"rx_bps": _int(row.get("rx-bits-per-second")),
                              "tx_bps": _int(row.get("tx-bits-per-second"))} for row in rows if "name" in row}

    def hotspot_active(self) -> list[dict]:
        return [{"id": row.get("id", ""), "user": row.get("user", ""), "address": row.get("address", ""),
                 "mac_address": row.get("mac-address", ""), "server": row.get("server", ""),
                 "login_by": row.get("login-by", ""), "uptime_seconds": parse_duration(row.get("uptime", "")),
                 "bytes_in": _int(row.get("bytes-in")), "bytes_out": _int(row.get("bytes-out")),
                 "radius": row.get("radius") == "true"} for row in self.print("/ip/hotspot/active")]

    def kick_hotspot(self, *, id: str | None = None, user: str | None = None) -> int:
        """End hotspot sessions by id or by user name; how many ended. Sessions already gone count as
        ended elsewhere, so kicking twice is harmless."""
        return self._kick("/ip/hotspot/active", id, {"user": user} if user is not None else None)

    def ppp_active(self) -> list[dict]:
        return [{"id": row.get("id", ""), "name": row.get("name", ""), "service": row.get("service", ""),
                 "caller_id": row.get("caller-id", ""), "address": row.get("address", ""),
                 "uptime_seconds": parse_duration(row.get("uptime", ""))} for row in self.print("/ppp/active")]

    def kick_ppp(self, *, id: str | None = None, name: str | None = None) -> int:
        return self._kick("/ppp/active", id, {"name": name} if name is not None else None)

    def backup(self, name: str, password: str | None = None) -> str:
        """Save ``<name>.backup`` on the router's flash; returns the file name."""
        self.call("/system/backup", "save", name=name, **({"password": password} if password else {}))
        return name if name.endswith(".backup") else f"{name}.backup"

    def restore(self, name: str, password: str = "") -> None:
        """Load a backup; the router reboots, so the connection ends here (a dropped one is success)."""
        filename = name if name.endswith(".backup") else f"{name}.backup"
        self._fire_and_drop("/system/backup", "load", {"name": filename, "password": password})

    def reboot(self) -> None:
        """The router drops the connection as it goes down; that is the success. (A connection that
        broke for another reason looks the same: to be sure, check the uptime once it is back.)"""
        self._fire_and_drop("/system", "reboot", {})

    def logs(self, limit: int = 100) -> list[dict]:
        """The newest ``limit`` lines of the router's memory log, oldest first."""
        rows = self.print("/log")
        return [{"id": row.get("id", ""), "time": row.get("time", ""), "topics": row.get("topics", ""),
                 "message": row.get("message", "")} for row in rows[-limit:]] if limit > 0 else []

    # --- plumbing ----------------------------------------------------------------------------------

    def _kick(self, menu: str, id: str | None, query: dict | None) -> int:
        if (id is None) == (query is None):
            raise ValueError("give either id or the user's name")
        ids = [id] if id is not None else [row["id"] for row in self.print(menu, proplist=(".id",), **query)]
        kicked = 0
        for item_id in ids:
            try:
                self.remove(menu, item_id)
                kicked += 1
            except RouterCommandRefused as error:
                if NO_SUCH_ITEM not in error.message:
                    raise
        return kicked

    def _fire_and_drop(self, menu: str, command: str, args: dict) -> None:
        try:
            self._run(menu, command, args)
        except RouterUnreachable:
            pass
        self.close()

    def _run(self, menu: str, command: str, arguments: dict, query: dict | None = None) -> tuple[list[dict], dict]:
        if self._api is None:
            raise RouterUnreachable("not connected (a connection lasts one task; open a new client)",
                                    host=self.host, command=_command(menu, command))
        resource = self._api.get_binary_resource(menu)
        try:
            response = resource.call(command, _encode(arguments, query=False), _encode(query or {}, query=True))
        except RouterOsApiCommunicationError as error:
            raise RouterCommandRefused(_text(error.original_message), host=self.host,
                                       command=_command(menu, command)) from error
        except (RouterOsApiError, OSError) as error:
            # Timed out, reset, closed or !fatal mid-command: the stream is out of step, so it is closed.
            self.close()
            failure = RouterUnreachable(_describe(error), host=self.host, command=_command(menu, command))
            failure.timed_out = _timed_out(error)
            raise failure from error
        return [_decode(row) for row in response], _decode(response.done_message)


def parse_duration(text: str) -> int:
    """RouterOS durations in seconds: ``1w2d3h4m5s``, ``1d02:03:04``, ``00:05:00``, ``500ms``."""
    if not text:
        return 0
    match = re.fullmatch(r"(?:(\d+)w)?(?:(\d+)d)?(?:(\d+):(\d+):(\d+)(?:\.\d+)?)?", text)
    if match:
        weeks, days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
        return ((weeks * 7 + days) * 24 + hours) * 3600 + minutes * 60 + seconds
    total = 0
    for number, unit in re.findall(r"(\d+)(ms|w|d|h|m|s)", text):
        total += int(number) * {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0}[unit]
    return total


def _encode(values: dict, *, query: bool) -> dict:
    """Python values to the bytes routeros-api sends. Booleans: yes/no when written, true/false when
    matched (what print shows)."""
    encoded = {}
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = ("true" if value else "false") if query else ("yes" if value else "no")
        raw = str(value).encode()
        encoded[key] = raw if raw or query else _Present()
    return encoded


def _decode(row: dict) -> dict:
    return {key: value.decode("utf-8", "replace") if isinstance(value, bytes) else value for key, value in row.items()}


def _text(message) -> str:
    return message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)


def _cause(error: BaseException) -> BaseException:
    while isinstance(error, RouterOsApiError) and error.args and isinstance(error.args[0], BaseException):
        error = error.args[0]
    return error


def _timed_out(error: BaseException | None) -> bool:
    """Whether the router stayed silent. routeros-api turns a read that timed out into
    RouterOsApiConnectionError('timed out'), the timeout only its context."""
    while error is not None:
        if isinstance(error, (socket.timeout, TimeoutError)):
            return True
        if not isinstance(error, RouterOsApiError):
            return False
        error = _cause(error) if _cause(error) is not error else (error.__cause__ or error.__context__)
    return False


def _describe(error: BaseException) -> str:
    """The root cause in a few words: "timed out", "[Errno 111] Connection refused", "connection closed"."""
    cause = _cause(error)
    if isinstance(cause, (socket.timeout, TimeoutError)):
        return "timed out"
    if isinstance(cause, ssl.SSLError):
        return f"TLS: {cause.reason or cause}"
    text = str(cause)
    return text or {"RouterOsApiConnectionClosedError": "connection closed by the router",
                    "RouterOsApiFatalCommunicationError": "the router ended the session (!fatal)"}.get(
        type(cause).__name__, type(cause).__name__)


def _command(menu: str, command: str) -> str:
    return f"{menu.rstrip('/')}/{command}"


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
