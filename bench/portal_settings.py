"""Production settings with the bench's URLconf (bench/portal_urls.py): bench/portal.py runs
gunicorn on these, so the minimal view exists only in the bench."""
from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.portal_urls"
