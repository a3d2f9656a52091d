"""The simulators' sockets: one event-loop thread shared by every simulator in the process, the
listening port (with api-ssl's self-signed certificate), going dead, and rebooting."""
import asyncio
import datetime
import ipaddress
import socket
import ssl
import tempfile
import threading
import time

from .clock import clock


class _Hub:
    """One event-loop thread serving every simulator in the process."""

    _instance = None
    _guard = threading.Lock()

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="routeros-simulators", daemon=True)
        self.thread.start()
        _raise_file_limit()

    @classmethod
    def get(cls) -> "_Hub":
        with cls._guard:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def run(self, coroutine, timeout: float = 30):
        if threading.current_thread() is self.thread:
            raise RuntimeError("call the simulator's async methods from inside the loop")
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)


def _raise_file_limit() -> None:
    """Hundreds of simulated routers polled at once need more descriptors than the usual soft limit."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ImportError, ValueError, OSError):
        pass


class Listening:
    """Part of RouterOSSimulator: the port (start and stop, going dead or coming back, reboot)."""

    def start(self):
        if self.tls and self._ssl is None:
            self._ssl = self._make_tls()
        _Hub.get().run(self._listen())
        return self

    def stop(self) -> None:
        _Hub.get().run(self._close())

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def set_dead(self, mode: str | None) -> None:
        """Go dead now ("silent": open connections and new ones get no answer; "refused": the port
        closes and open connections are reset) or come back (None)."""
        if mode not in (None, "silent", "refused"):
            raise ValueError("dead is None, 'silent' or 'refused'")
        _Hub.get().run(self._set_dead(mode))

    def reboot(self) -> None:
        """As if someone pressed reboot: connections drop, the port refuses for reboot_seconds."""
        _Hub.get().run(self._restart())

    async def _listen(self) -> None:
        if self._server is not None or self._holder is not None:
            return
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        if self.dead == "refused" or self._rebooting:
            self._holder = sock  # bound but not listening: connections are refused
            return
        self._server = await asyncio.start_server(self._serve, sock=sock, ssl=self._ssl, backlog=256)

    async def _unlisten(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        if self._holder is not None:
            self._holder.close()
            self._holder = None

    async def _close(self) -> None:
        if self._boot_timer is not None:
            self._boot_timer.cancel()
            self._boot_timer = None
        await self._unlisten()
        for conn in list(self._connections):
            conn.abort()

    async def _set_dead(self, mode: str | None) -> None:
        self.dead = mode
        if mode == "refused":
            for conn in list(self._connections):
                conn.abort()
        if self._server is None and self._holder is None:
            return  # not started
        if (mode == "refused") != (self._holder is not None) and not self._rebooting:
            await self._unlisten()
            await self._listen()

    async def _restart(self) -> None:
        if self._rebooting or (self._server is None and self._holder is None):
            return
        self._rebooting = True
        self.reboots += 1
        for conn in list(self._connections):
            conn.abort()
        await self._unlisten()
        await self._listen()  # bound, not listening, while "booting"
        self._boot_timer = asyncio.get_running_loop().call_later(
            self.reboot_seconds, lambda: asyncio.ensure_future(self._come_up()))

    async def _come_up(self) -> None:
        with self.lock:
            self.booted_at = time.monotonic()
            for table in self.tables.values():
                if table.menu.dynamic:
                    table.items.clear()
            for item in self.tables["/interface"].items.values():
                item["last-link-up-time"] = clock(time.time())
            self._log("system,info", "router rebooted")
        self._rebooting = False
        self._boot_timer = None
        await self._unlisten()
        await self._listen()

    def _make_tls(self) -> ssl.SSLContext:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.identity)])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=365))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                            x509.IPAddress(ipaddress.ip_address(self.host))]), False)
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
                .sign(key, hashes.SHA256()))
        self.certificate_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
        key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.NamedTemporaryFile("w", suffix=".pem") as pem:  # load_cert_chain reads files only
            pem.write(self.certificate_pem + key_pem)
            pem.flush()
            context.load_cert_chain(pem.name)
        return context
