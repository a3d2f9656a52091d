"""The web tier a bench measures, started as production runs it: a server command (gunicorn as
gunicorn.conf.py configures it, or daphne) on one listening socket the bench opens and hands down,
so the bench knows the port before the server starts and several processes can share the socket.

Used by bench/portal.py (the captive portal against a minimal view and a static file) and
bench/callbacks.py (M-Pesa callbacks; bench/callback_faults.py through it).
"""
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def start(command: list[str], log: Path, ready_path: str, copies: int = 1,
          seconds: float = 60) -> tuple[list[subprocess.Popen], int]:
    """Run ``copies`` of ``command`` (a program in .venv/bin; "{fd}" in its arguments is the
    listening socket's descriptor) with output to ``log``; return (processes, port) once GET
    ``ready_path`` answers 200. Those processes are killed when none answers within ``seconds``."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    listener.set_inheritable(True)
    port, fd = listener.getsockname()[1], listener.fileno()
    command = [str(ROOT / ".venv" / "bin" / command[0]), *(part.format(fd=fd) for part in command[1:])]
    log.parent.mkdir(exist_ok=True)
    with open(log, "w") as out:
        processes = [subprocess.Popen(command, cwd=ROOT, env=os.environ, stdout=out, stderr=subprocess.STDOUT,
                                      pass_fds=(fd,)) for _ in range(copies)]
    listener.close()  # the servers hold it now
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and all(p.poll() is None for p in processes):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{ready_path}", timeout=1) as answer:
                if answer.status == 200:
                    return processes, port
        except OSError:  # not listening yet, or an error status (urllib's HTTPError is an OSError)
            pass
        time.sleep(0.2)
    for process in processes:
        process.kill()
    raise RuntimeError(f"{command[0]} did not start; see {log}")
