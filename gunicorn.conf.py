"""gunicorn's settings for the web tier (read from the working directory: `gunicorn config.wsgi`).

A process per core (WEB_WORKERS), each with two threads (WEB_THREADS), so one keeps working while
the other waits for PostgreSQL; more threads only fight over the interpreter lock: at 100 paid
callbacks/s, 4 threads cost 9.4 ms of web CPU per callback where 2 cost 8.2 (bench/callbacks.py).
Each process keeps one connection pool (DATABASE_POOL_MAX). Idle connections are kept 75 s, longer
than the proxy keeps its own (deploy/Caddyfile: 30 s), so a POST never lands on a closing connection.
"""
import os

bind = os.environ.get("WEB_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "2"))
timeout = 60
keepalive = 75
# The control socket would go to $HOME, which the image's user cannot write: nothing uses it.
control_socket_disable = True


def post_worker_init(worker):
    # What start-up allocated (Django, the URLconf, the models) lives as long as the process:
    # kept out of the collector, a full collection no longer walks it in the middle of a request.
    import gc

    gc.freeze()
