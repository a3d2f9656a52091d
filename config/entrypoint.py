"""Start-up guard shared by manage.py, ASGI and WSGI: a refused configuration is one line, not a traceback."""
import sys

import django

from config.env import StartupRefused


def setup_django() -> None:
    try:
        django.setup()
    except StartupRefused as refused:
        sys.stderr.write(f"error: {refused}\n")
        raise SystemExit(2) from None
