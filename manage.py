#!/usr/bin/env python
"""Django's command-line utility for operators: migrate, seed_demo, queue_stats, ..."""
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    from config.env import StartupRefused

    try:
        execute_from_command_line(sys.argv)
    except StartupRefused as refused:
        sys.stderr.write(f"error: {refused}\n")
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
