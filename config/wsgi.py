"""WSGI entry point: production HTTP (gunicorn); websockets go to config.asgi (daphne)."""
import gc
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from config.entrypoint import setup_django  # noqa: E402

setup_django()

from django.core.handlers.wsgi import WSGIHandler  # noqa: E402

application = WSGIHandler()

# What is loaded by now (Django, the apps, the middleware: some 200,000 objects) lives as long as the
# worker: kept out of the cyclic garbage collector's full passes, which otherwise stall one request in a
# few hundred by 150-200 ms on a small server (bench/tickets.py measured it on /tickets/).
gc.freeze()
