"""WSGI entry point: production HTTP (gunicorn); websockets go to config.asgi (daphne)."""
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from config.entrypoint import setup_django  # noqa: E402

setup_django()

from django.core.handlers.wsgi import WSGIHandler  # noqa: E402

application = WSGIHandler()
