"""gunicorn's settings for the web tier (read from the working directory: `gunicorn config.wsgi`).

A process per core (WEB_WORKERS), each with 4 threads (WEB_THREADS): a request waiting for
PostgreSQL or Daraja (an STK push is sent inside the portal's request, up to MPESA_TIMEOUT_SECONDS)
holds a thread but not the CPU, so the others go on. At 100 paid callbacks/s on 2 cores, 2, 3 or 4
threads cost the same web CPU, about 7 ms per callback (bench/callbacks.py); past saturation more
threads cost more. Each process keeps one connection pool (DATABASE_POOL_MAX). Idle connections are kept 75 s, longer
than the proxy keeps its own (deploy/Caddyfile: 30 s), so a POST never lands on a closing connection.
"""
import os

bind = os.environ.get("WEB_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "4"))
timeout = 60
keepalive = 75
# The control socket would go to $HOME, which the image's user cannot write: nothing uses it.
control_socket_disable = True


def post_worker_init(worker):
    # What start-up allocated (Django, the apps, the models) lives as long as the process:
    # kept out of the collector, a full collection no longer walks it in the middle of a request.
    import gc

    gc.freeze()
