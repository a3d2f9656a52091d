"""gunicorn's settings for the web tier (read from the working directory: `gunicorn config.wsgi`).

Threads, not processes, carry the concurrency: a callback mostly waits for PostgreSQL, and each
process keeps one connection pool (DATABASE_POOL_MAX). Idle connections are kept 75 s, longer than
the proxy keeps its own (deploy/Caddyfile: 30 s), so a POST never lands on a closing connection.
"""
import os

bind = os.environ.get("WEB_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_WORKERS", "2"))
worker_class = "gthread"
threads = 4
timeout = 60
keepalive = 75
# The control socket would go to $HOME, which the image's user cannot write: nothing uses it.
control_socket_disable = True
