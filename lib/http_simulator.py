"""The HTTP server under our simulators of other companies' APIs (Daraja, Telegram's Bot API): a
threaded server on ``host``:``port`` (0: any free port, read back once started) handing each GET
and POST to the simulator's ``_handle(request, method)``; a context manager, and quiet (the
simulators print what matters themselves)."""
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class HttpSimulator:
    host: str
    port: int

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        raise NotImplementedError

    def start(self):
        simulator = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                simulator._handle(self, "GET")

            def do_POST(self):
                simulator._handle(self, "POST")

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
