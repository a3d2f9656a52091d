"""Every setting, read from the environment through config.env with a safe embedded default.

With nothing configured the product runs on a SQLite file, eager Celery tasks and an in-memory
channel layer. DATABASE_URL / REDIS_URL / CELERY_BROKER_URL switch to the real services, and
DJANGO_ENV=production refuses to start without what production needs.
"""
import base64
import hashlib
import hmac
import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from celery.schedules import crontab
from kombu import Queue

from config import env
from lib.secret_key import secret_key_problem

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.string("VAR_DIR", str(BASE_DIR / "var")))

DJANGO_ENV = env.string("DJANGO_ENV", "development").lower()
if DJANGO_ENV not in {"development", "production"}:
    raise env.StartupRefused(f"DJANGO_ENV={DJANGO_ENV!r} must be 'development' or 'production'")
PRODUCTION = DJANGO_ENV == "production"

# --- core -------------------------------------------------------------------------------------
DEV_SECRET_KEY = "django-insecure-development-only-key-never-use-in-production-0123456789"
SECRET_KEY = env.string("SECRET_KEY", "" if PRODUCTION else DEV_SECRET_KEY)
DEBUG = env.boolean("DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env.strings(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env.strings("CSRF_TRUSTED_ORIGINS")

DATABASE_URL = env.string("DATABASE_URL")
if PRODUCTION:
    weak = secret_key_problem(SECRET_KEY)
    if weak:
        raise env.StartupRefused(f"production refuses to start: {weak}")
    if not ALLOWED_HOSTS:
        raise env.StartupRefused("production refuses to start: ALLOWED_HOSTS is empty")
    if DEBUG:
        raise env.StartupRefused("production refuses to start: DEBUG must be off")
    if not DATABASE_URL.startswith(("postgres://", "postgresql://", "pgsql://")):
        raise env.StartupRefused(
            "production refuses to start: DATABASE_URL must point at PostgreSQL (postgres://...)"
        )

INSTALLED_APPS = [
    "daphne",  # first, so the development runserver serves ASGI and websockets; production runs daphne itself
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "ninja",  # serves Swagger UI from its own static files instead of a CDN
    "channels",
    "django_celery_beat",
    # Staff two-factor sign-in: authenticator (TOTP) devices and their recovery codes (accounts/two_factor.py).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "audit",
    "siteconfig",
    "accounts",
    "radius",
    "routers",
    "hotspot",
    "billing",
    "monitoring",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # outermost but one: every answer gets the policy, refusals too
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before every other process_view (CSRF reads the form): NUL / invalid UTF-8 is a 400 or 422.
    "lib.input_guard.InputGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): signed in with a code this session
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.AccessMiddleware",
    "accounts.middleware.TwoFactorEnrolmentMiddleware",  # security.require_two_factor_for_admin
    "audit.actors.RequestActorMiddleware",  # after sign-in: entries name the staff member acting
    "siteconfig.middleware.TimeZoneMiddleware",  # dates and day boundaries in the saved time zone
]

ROOT_URLCONF = "config.urls"
# The JSON API instance, for the access-rule check (accounts/checks.py) that walks its operations.
API_INSTANCE = "config.api.api"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.navigation",
                "siteconfig.context_processors.branding",  # business name and logo in headers
            ],
            # Filters every page uses without {% load %}: the status badge colours.
            "builtins": ["lib.badges", "lib.readable"],
        },
    },
]

# PostgreSQL connections come from a pool in each process (psycopg_pool through Django). Every
# request thread (gunicorn's WEB_THREADS for HTTP, daphne's executor threads for websockets) would
# otherwise keep a persistent connection of its own, and a burst of threads piles them up until
# PostgreSQL refuses new ones and a callback gets a 500 before its body is stored; with the pool a
# burst waits up to DATABASE_POOL_TIMEOUT for a connection instead. Set it for the web
# (gunicorn) and websocket (daphne) processes, as docker-compose.yml does; Celery's forked workers
# and the test suite (whose threads must reach the test database) run without. 0: no pool, connections kept
# DATABASE_CONN_MAX_AGE seconds per thread.
DATABASE_POOL_MAX = env.integer("DATABASE_POOL_MAX", 0, minimum=0)
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=0 if DATABASE_POOL_MAX else env.integer("DATABASE_CONN_MAX_AGE", 60, minimum=0),
            # With the pool, Django 5.2 turns this into the pool's check (ConnectionPool.check_connection):
            # a connection the server dropped while it sat in the pool (a restart, a reset,
            # pg_terminate_backend) is replaced when taken, not handed to a request that then fails.
            conn_health_checks=True,
        )
    }
    if DATABASE_POOL_MAX and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1, "max_size": DATABASE_POOL_MAX,
            "timeout": env.integer("DATABASE_POOL_TIMEOUT", 20, minimum=1)}
    if env.string("TEST_DATABASE_NAME", ""):  # two suites on one machine at once
        DATABASES["default"]["TEST"] = {"NAME": env.string("TEST_DATABASE_NAME", "")}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Secrets stored in the database (router API passwords, RADIUS secrets) are Fernet-encrypted
# (lib/secrets.py). Comma-separated keys: the first encrypts, all decrypt, so a new key can be
# put first and the old kept until rows are re-saved. Unset: derived from SECRET_KEY, so changing
# SECRET_KEY then makes the stored secrets unreadable.
FIELD_ENCRYPTION_KEYS = env.strings("FIELD_ENCRYPTION_KEY")
for _key in FIELD_ENCRYPTION_KEYS:
    try:
        _valid = len(base64.urlsafe_b64decode(_key.encode())) == 32
    except ValueError:
        _valid = False
    if not _valid:
        raise env.StartupRefused("FIELD_ENCRYPTION_KEY must be Fernet keys: 32 bytes in URL-safe base64 each")

# --- staff accounts ---------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# A staff session ends after this much inactivity (the cookie is renewed on every request).
SESSION_COOKIE_AGE = env.integer("SESSION_IDLE_MINUTES", 120, minimum=5) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Login lockout: failures counted per username and per client IP within the window.
LOGIN_FAILURES_PER_USERNAME = env.integer("LOGIN_FAILURES_PER_USERNAME", 5, minimum=1)
LOGIN_FAILURES_PER_IP = env.integer("LOGIN_FAILURES_PER_IP", 20, minimum=1)
LOGIN_LOCKOUT_MINUTES = env.integer("LOGIN_LOCKOUT_MINUTES", 15, minimum=1)
API_TOKEN_TTL_HOURS = env.integer("API_TOKEN_TTL_HOURS", 12, minimum=1)
# How many reverse proxies in front of us append to X-Forwarded-For (0: trust only REMOTE_ADDR).
TRUSTED_PROXY_COUNT = env.integer("TRUSTED_PROXY_COUNT", 0, minimum=0)

# --- i18n -------------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("sw", "Kiswahili")]
TIME_ZONE = env.string("TIME_ZONE", "Africa/Nairobi")
USE_I18N = True
USE_TZ = True
CURRENCY = env.string("CURRENCY", "KES")
# The business as customers see it (portal, SMS, receipts). These and most settings below are only
# defaults: a value saved on the Settings pages (siteconfig) wins over the environment.
BUSINESS_NAME = env.string("BUSINESS_NAME", "Hotspot")
SUPPORT_PHONE = env.string("SUPPORT_PHONE", "")
SUPPORT_EMAIL = env.string("SUPPORT_EMAIL", "")
PORTAL_LANGUAGE = env.string("PORTAL_LANGUAGE", "en")
# How often each process asks whether settings changed (one Redis GET); a change reaches every web
# process and worker within this many seconds.
SITECONFIG_CHECK_SECONDS = env.integer("SITECONFIG_CHECK_SECONDS", 2, minimum=1)

# --- static files (vendored, served by WhiteNoise; no CDN) ------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.string("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    # WhiteNoise warns about a missing STATIC_ROOT; outside production the finders serve instead.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# --- cache, channel layer, Celery -------------------------------------------------------------

REDIS_URL = env.string("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's, reusing one client per pool (lib/redis_cache.py: 0.1 ms of CPU a call saved).
            "BACKEND": "lib.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.string("CACHE_KEY_PREFIX", "hotspot"),
            # A Redis that hangs (not refusing, just silent) must fail a call quickly, so the
            # rate limits fall back to process memory (lib/shared_cache.py) instead of waiting.
            "OPTIONS": {"socket_connect_timeout": env.integer("CACHE_TIMEOUT_SECONDS", 2, minimum=1),
                        "socket_timeout": env.integer("CACHE_TIMEOUT_SECONDS", 2, minimum=1)},
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": env.string("CHANNEL_LAYER_PREFIX", "hotspot-live"),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# While the cache is unreachable, rate limits and the Daraja token live in each process's memory;
# the cache is asked again this often (seconds) and used as soon as it answers.
CACHE_FALLBACK_RETRY_SECONDS = env.integer("CACHE_FALLBACK_RETRY_SECONDS", 5, minimum=1)

CELERY_BROKER_URL = env.string("CELERY_BROKER_URL", REDIS_URL) or "memory://"
# Without a broker every task runs in-process at the call site: the quick start needs no worker.
CELERY_TASK_ALWAYS_EAGER = env.boolean(
    "CELERY_TASK_ALWAYS_EAGER", default=CELERY_BROKER_URL == "memory://"
)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_DEFAULT_QUEUE = "default"
# One queue per concern, so a slow router poll never delays a payment.
CELERY_QUEUE_NAMES = ["default", "radius", "routers", "billing", "notifications"]
CELERY_TASK_QUEUES = [Queue(name) for name in CELERY_QUEUE_NAMES]
# Keep Django's LOGGING in workers: Celery would otherwise replace the root logger's handlers,
# and the jobs' warnings would reach stdout but not /logs/system/.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_ROUTES = {f"{app}.tasks.*": {"queue": queue} for app, queue in [
    ("radius", "radius"),
    ("hotspot", "radius"),
    ("routers", "routers"),
    ("billing", "billing"),
]}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "purge-expired-credentials": {
        "task": "accounts.tasks.purge_expired_credentials",
        "schedule": crontab(minute=17),
    },
    "close-radius-sessions": {
        "task": "radius.tasks.close_radius_sessions",
        "schedule": 60.0,
    },
    "check-expired-subscriptions": {"task": "hotspot.tasks.check_expired_subscriptions", "schedule": 30.0},
    # Fair use: with throttle packages' 30 s interim updates, a session is slowed <= 60 s after crossing.
    "slow-down-crossed-sessions": {"task": "radius.tasks.slow_down_crossed_sessions", "schedule": 30.0},
    "process-grace-period": {"task": "hotspot.tasks.process_grace_period", "schedule": 60.0},
    "disconnect-expired-sessions": {"task": "hotspot.tasks.disconnect_expired_sessions", "schedule": 300.0},
    "cleanup-old-sessions": {"task": "hotspot.tasks.cleanup_old_sessions", "schedule": crontab(hour=3, minute=30)},
    # radacct's month partitions made two months ahead (radius.partitions); daily, so a missed run
    # or a stopped beat has weeks to be noticed before Starts fall into the default partition.
    "prepare-radacct-partitions": {"task": "radius.tasks.prepare_radacct_partitions",
                                   "schedule": crontab(hour=3, minute=25)},
    "rotate-logs": {"task": "monitoring.tasks.rotate_logs", "schedule": crontab(hour=3, minute=55)},
    "remove-old-exports": {"task": "monitoring.tasks.remove_old_exports", "schedule": crontab(minute=41)},
    # The whole database dumped, verified and pruned (monitoring/backups.py), before the 03:xx cleanups.
    "backup-database": {"task": "monitoring.tasks.backup_database", "schedule": crontab(hour=2, minute=30)},
    "sample-users-online": {"task": "monitoring.tasks.sample_users_online", "schedule": 300.0},
    "cleanup-router-samples": {"task": "routers.tasks.cleanup_router_samples",
                               "schedule": crontab(hour=3, minute=45)},
    # The hourly traffic rows (routers.traffic_history) summed from the minute samples before these go.
    "refresh-traffic-hours": {"task": "routers.tasks.refresh_traffic_hours", "schedule": crontab(minute=2)},
    "verify-mpesa-payments": {"task": "billing.tasks.verify_mpesa_transactions", "schedule": 15.0},
    # Callback bodies stored but not settled (a crash, a lost connection): processed again.
    "reprocess-callbacks": {"task": "billing.tasks.reprocess_callbacks", "schedule": 60.0},
    "purge-bad-token-callbacks": {"task": "billing.tasks.purge_bad_token_callbacks",
                                  "schedule": crontab(hour=3, minute=50)},
    "purge-forged-sms": {"task": "monitoring.tasks.purge_forged_sms", "schedule": crontab(hour=3, minute=55)},
    # Payments wake the receipt sender themselves; this catches a wake lost to a broker outage.
    "send-receipts": {"task": "billing.tasks.send_receipts", "schedule": 60.0},
    "send-payment-reminders": {"task": "billing.tasks.send_payment_reminders", "schedule": 300.0},
    "send-allowance-alerts": {"task": "billing.tasks.send_allowance_alerts", "schedule": 60.0},
    "issue-invoices": {"task": "billing.tasks.issue_invoices", "schedule": crontab(minute=5)},
    "reconcile-payments": {"task": "billing.tasks.reconcile_payments", "schedule": crontab(hour=0, minute=20)},
    # Every wallet against its ledger (3-4 s at 1.8M entries), stored for the payment reports page.
    "check-wallets": {"task": "billing.tasks.check_wallets", "schedule": crontab(minute=50)},
    "check-routers": {"task": "routers.tasks.check_router_status", "schedule": 60.0},
    "sync-router-data": {"task": "routers.tasks.sync_router_data", "schedule": crontab(minute=40)},  # drift report
    "fetch-router-live-data": {"task": "routers.tasks.fetch_router_live_data", "schedule": 300.0},
    # Alert rules, incidents and their messages (monitoring/alerts/); a rule claimed elsewhere is skipped.
    "evaluate-alerts": {"task": "monitoring.tasks.evaluate_alerts", "schedule": 60.0},
    # Yesterday's revenue, logins, top package and routers down to the staff who chose it: hourly, it
    # sends once per business day from 07:00 in the business's own time zone (monitoring.business_summary).
    "send-business-summary": {"task": "monitoring.tasks.send_business_summary", "schedule": crontab(minute=10)},
    # Every online router's configuration saved on its flash, the newest backups.router_keep kept.
    "backup-routers": {"task": "routers.tasks.backup_routers", "schedule": crontab(hour=2, minute=45)},
    # The report rollups (billing.report_rollups): what changed in payments, radacct and radpostauth.
    "refresh-reports": {"task": "billing.tasks.refresh_reports", "schedule": 300.0},
}

# --- Router polling (routers/polling.py) -----------------------------------------------------------
# Each router's whole poll (connect, login, three reads) must finish within this many seconds; all
# routers are polled at once by up to ROUTER_POLL_WORKERS threads, so a dead one costs only its own.
ROUTER_POLL_TIMEOUT_SECONDS = env.integer("ROUTER_POLL_TIMEOUT_SECONDS", 5, minimum=1)
ROUTER_POLL_WORKERS = env.integer("ROUTER_POLL_WORKERS", 64, minimum=1)
# The poll and live traffic keep each router's API connection open this long after its last use
# (routers/connections.py), so the router logs a login per process now and then, not one per read.
# A Celery worker hands the minute poll to the same idle child each time (seen with -c 4), to another
# only while that one is busy: 300 s outlasts a few such minutes. 0: log in for every read.
ROUTER_API_KEEP_SECONDS = env.integer("ROUTER_API_KEEP_SECONDS", 300, minimum=0)
# One sample per router per poll: 500 routers a minute is ~720,000 rows a day.
ROUTER_SAMPLE_RETENTION_DAYS = env.integer("ROUTER_SAMPLE_RETENTION_DAYS", 14, minimum=1)
# Each router's traffic per hour (routers.traffic_history): the 7- and 30-day graphs and a year's history.
ROUTER_HOURLY_RETENTION_DAYS = env.integer("ROUTER_HOURLY_RETENTION_DAYS", 396, minimum=31)  # 13 months
# Nightly log rotation (monitoring/rotation.py): the stored system log, the audit trail, the
# SMS/e-mail notifications sent and the failed-job records, each kept this many days.
SYSTEM_LOG_RETENTION_DAYS = env.integer("SYSTEM_LOG_RETENTION_DAYS", 30, minimum=1)
AUDIT_RETENTION_DAYS = env.integer("AUDIT_RETENTION_DAYS", 730, minimum=30)
NOTIFICATION_RETENTION_DAYS = env.integer("NOTIFICATION_RETENTION_DAYS", 180, minimum=1)
FAILED_JOB_RETENTION_DAYS = env.integer("FAILED_JOB_RETENTION_DAYS", 90, minimum=1)
# The dashboard's users-online samples (monitoring/sampling.py, one every 5 minutes: ~26,000 in 90 days).
USERS_ONLINE_RETENTION_DAYS = env.integer("USERS_ONLINE_RETENTION_DAYS", 90, minimum=2)

# --- RADIUS ---------------------------------------------------------------------------------------
# RFC 5176 Disconnect/CoA: seconds to wait for each try, and how many tries.
RADIUS_COA_TIMEOUT = env.integer("RADIUS_COA_TIMEOUT", 2, minimum=1)
RADIUS_COA_RETRIES = env.integer("RADIUS_COA_RETRIES", 3, minimum=1)
# Routers send Interim-Update this often (seconds); a session silent for twice that is closed.
RADIUS_INTERIM_INTERVAL = env.integer("RADIUS_INTERIM_INTERVAL", 300, minimum=30)
# The address routers reach FreeRADIUS at (their /radius entry), and the public URL of our portal
# (the hotspot login page redirects there; the walled garden lets unpaid devices reach it).
RADIUS_SERVER_ADDRESS = env.string("RADIUS_SERVER_ADDRESS", "127.0.0.1")
# The alerts' probe (monitoring/probes.py) sends RFC 5997 Status-Server to run_freeradius's status
# listener, a port of its own with a client list of its own; both ends derive the secret from SECRET_KEY.
RADIUS_STATUS_ADDRESS = env.string("RADIUS_STATUS_ADDRESS", "127.0.0.1")
RADIUS_STATUS_PORT = env.integer("RADIUS_STATUS_PORT", 18121, minimum=0)
RADIUS_STATUS_SECRET = env.string(
    "RADIUS_STATUS_SECRET", hmac.new(SECRET_KEY.encode(), b"radius-status-server", hashlib.sha256).hexdigest()[:32])
PORTAL_BASE_URL = env.string("PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# Host names (besides private IP addresses) the portal may post credentials to: the routers'
# hotspot DNS names, e.g. "login.wifi".
PORTAL_ROUTER_HOSTNAMES = [h.lower() for h in env.strings("PORTAL_ROUTER_HOSTNAMES", ["login.wifi"])]
# Router hotspot addresses (IPs or networks) it may post to, besides NAS addresses; MikroTik's
# hotspot setup offers 10.5.50.1.
PORTAL_ROUTER_NETWORKS = env.networks("PORTAL_ROUTER_NETWORKS", ["10.5.50.1/32"])
# Wrong voucher codes and portal sign-ins are counted per client address as we see it: one
# device, or a whole hotspot behind its router's NAT. The MAC the portal form carries is the
# client's claim, so no limit is keyed on it. An address gets PORTAL_VOUCHER_FAILURES_PER_IP
# failures per PORTAL_VOUCHER_WINDOW_MINUTES, then one attempt every PORTAL_VOUCHER_SLOWDOWN_SECONDS
# (429 with Retry-After), never a lockout: at the defaults 20 x 24 + 86400 / 30 = 3,360 guesses a
# day per address against 31^10 = 8.2e14 codes (hotspot/vouchers.py): with a million live codes,
# one hit per ~670 years.
PORTAL_VOUCHER_FAILURES_PER_IP = env.integer("PORTAL_VOUCHER_FAILURES_PER_IP", 20, minimum=1)
PORTAL_VOUCHER_WINDOW_MINUTES = env.integer("PORTAL_VOUCHER_WINDOW_MINUTES", 60, minimum=1)
PORTAL_VOUCHER_SLOWDOWN_SECONDS = env.integer("PORTAL_VOUCHER_SLOWDOWN_SECONDS", 30, minimum=1)
# Grace: the RADIUS reply names this router address list, which provisioning confines to the portal.
HOTSPOT_GRACE_ADDRESS_LIST = env.string("HOTSPOT_GRACE_ADDRESS_LIST", "hotspot-grace")
HOTSPOT_GRACE_RATE_LIMIT = env.string("HOTSPOT_GRACE_RATE_LIMIT", "256k/256k")
RADIUS_SESSION_RETENTION_DAYS = env.integer("RADIUS_SESSION_RETENTION_DAYS", 400, minimum=1)
RADIUS_AUTH_LOG_RETENTION_DAYS = env.integer("RADIUS_AUTH_LOG_RETENTION_DAYS", 90, minimum=1)
# FreeRADIUS's writes (accounting, auth log) commit without waiting for the WAL flush.
RADIUS_DB_ASYNC_COMMIT = env.boolean("RADIUS_DB_ASYNC_COMMIT", default=True)

# --- WireGuard tunnels to routers (routers/wireguard.py) -------------------------------------------
# Routers behind NAT dial WIREGUARD_ENDPOINT:WIREGUARD_PORT (UDP) and get an address from
# WIREGUARD_NETWORK, whose first host is our server's tunnel address. The network is fixed once the
# first tunnel exists; the endpoint defaults to the portal's host name (routers already reach it).
try:
    WIREGUARD_NETWORK = str(ipaddress.IPv4Network(env.string("WIREGUARD_NETWORK", "10.99.0.0/16")))
except ValueError as bad:
    raise env.StartupRefused(f"WIREGUARD_NETWORK: {bad} (an IPv4 network such as 10.99.0.0/16)") from None
if ipaddress.IPv4Network(WIREGUARD_NETWORK).num_addresses < 4:
    raise env.StartupRefused("WIREGUARD_NETWORK must hold the server and at least one router (/30 or larger)")
WIREGUARD_PORT = env.integer("WIREGUARD_PORT", 51820, minimum=1)
if WIREGUARD_PORT > 65535:
    raise env.StartupRefused(f"WIREGUARD_PORT={WIREGUARD_PORT} must be 1..65535")
WIREGUARD_ENDPOINT = env.string("WIREGUARD_ENDPOINT") or urlsplit(PORTAL_BASE_URL).hostname or "127.0.0.1"

# --- M-Pesa (Daraja) ----------------------------------------------------------------------------
# Unset MPESA_BASE_URL: the in-project Daraja simulator (manage.py run_daraja_simulator).
MPESA_BASE_URL = env.string("MPESA_BASE_URL", "http://127.0.0.1:8900").rstrip("/")
MPESA_CONSUMER_KEY = env.string("MPESA_CONSUMER_KEY", "simulator-key")
MPESA_CONSUMER_SECRET = env.string("MPESA_CONSUMER_SECRET", "simulator-secret")
MPESA_SHORTCODE = env.string("MPESA_SHORTCODE", "174379")
MPESA_PASSKEY = env.string("MPESA_PASSKEY", "simulator-passkey")
MPESA_TRANSACTION_TYPE = env.string("MPESA_TRANSACTION_TYPE", "CustomerPayBillOnline")
MPESA_TIMEOUT_SECONDS = env.integer("MPESA_TIMEOUT_SECONDS", 10, minimum=1)
# Daraja posts callbacks to {MPESA_CALLBACK_BASE_URL}/api/payments/mpesa/callback/{token}: the
# token is the only thing proving a callback came through Safaricom (bodies are not signed).
MPESA_CALLBACK_BASE_URL = env.string("MPESA_CALLBACK_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
MPESA_CALLBACK_TOKEN = env.string(
    "MPESA_CALLBACK_TOKEN", hmac.new(SECRET_KEY.encode(), b"mpesa-callback", hashlib.sha256).hexdigest()[:32])
# Source addresses (IPs or networks) callbacks may come from; empty: any (the token still guards).
MPESA_CALLBACK_ALLOWED_IPS = env.networks("MPESA_CALLBACK_ALLOWED_IPS", [])
# A stored callback not settled (`received`, `error`) is processed again by the sweep this long
# after it came, then with doubling gaps, MPESA_CALLBACK_MAX_ATTEMPTS times in all.
MPESA_CALLBACK_RETRY_SECONDS = env.integer("MPESA_CALLBACK_RETRY_SECONDS", 60, minimum=1)
MPESA_CALLBACK_MAX_ATTEMPTS = env.integer("MPESA_CALLBACK_MAX_ATTEMPTS", 8, minimum=1)
# Where a callback body waits when the database refuses even to store it (billing/callback_spool.py).
MPESA_CALLBACK_SPOOL_DIR = env.string("MPESA_CALLBACK_SPOOL_DIR", str(VAR_DIR / "callback-spool"))
# Posts to a wrong callback token: kept (2 KB of each) at most this many per source address per
# window, deleted after the retention days.
MPESA_BAD_TOKEN_LIMIT_PER_IP = env.integer("MPESA_BAD_TOKEN_LIMIT_PER_IP", 20, minimum=1)
# ... and at most this many in all per window, whatever addresses they come from (2 KB each).
MPESA_BAD_TOKEN_LIMIT_TOTAL = env.integer("MPESA_BAD_TOKEN_LIMIT_TOTAL", 500, minimum=1)
MPESA_BAD_TOKEN_WINDOW_SECONDS = env.integer("MPESA_BAD_TOKEN_WINDOW_SECONDS", 3600, minimum=1)
MPESA_BAD_TOKEN_RETENTION_DAYS = env.integer("MPESA_BAD_TOKEN_RETENTION_DAYS", 30, minimum=1)
# How long a customer has to answer the prompt; a payment still unknown after it times out.
MPESA_PAYMENT_WINDOW_SECONDS = env.integer("MPESA_PAYMENT_WINDOW_SECONDS", 180, minimum=30)
# A pending payment is first asked about (STK query) this long after the push, then at most once
# per MPESA_QUERY_INTERVAL_SECONDS.
MPESA_QUERY_AFTER_SECONDS = env.integer("MPESA_QUERY_AFTER_SECONDS", 30, minimum=1)
MPESA_QUERY_INTERVAL_SECONDS = env.integer("MPESA_QUERY_INTERVAL_SECONDS", 15, minimum=15)
# Portal purchases: STK pushes per phone number within PURCHASE_WINDOW_MINUTES (then that phone is
# refused for a window: one person, no one gets flooded with prompts), and per client address
# PURCHASE_LIMIT_PER_IP in the window, then one every PURCHASE_IP_SLOWDOWN_SECONDS: a slowdown,
# never a lockout, since the address may be a whole hotspot behind its NAT where people keep buying.
PURCHASE_LIMIT_PER_PHONE = env.integer("PURCHASE_LIMIT_PER_PHONE", 5, minimum=1)
PURCHASE_LIMIT_PER_IP = env.integer("PURCHASE_LIMIT_PER_IP", 30, minimum=1)
PURCHASE_WINDOW_MINUTES = env.integer("PURCHASE_WINDOW_MINUTES", 10, minimum=1)
PURCHASE_IP_SLOWDOWN_SECONDS = env.integer("PURCHASE_IP_SLOWDOWN_SECONDS", 20, minimum=1)
# Wrong answers to the portal's lookups ("Already paid?", the wallet purchase's password, the API's
# status by CheckoutRequestID), per client address: PURCHASE_LOOKUPS_PER_IP per
# PURCHASE_LOOKUP_WINDOW_MINUTES, then one every PURCHASE_LOOKUP_SLOWDOWN_SECONDS (429 with
# Retry-After), never a lockout of the hotspot behind the address: at the defaults 30 x 96 +
# 86400 / 30 = 5,760 a day per address against 31^8 = 8.5e11 wallet passwords (hotspot/credentials.py).
PURCHASE_LOOKUPS_PER_IP = env.integer("PURCHASE_LOOKUPS_PER_IP", 30, minimum=1)
PURCHASE_LOOKUP_WINDOW_MINUTES = env.integer("PURCHASE_LOOKUP_WINDOW_MINUTES", 15, minimum=1)
PURCHASE_LOOKUP_SLOWDOWN_SECONDS = env.integer("PURCHASE_LOOKUP_SLOWDOWN_SECONDS", 30, minimum=1)

# --- customer notifications ---------------------------------------------------------------------
# "console": messages are logged and recorded; "africastalking": sent through its HTTP SMS API.
SMS_BACKEND = env.string("SMS_BACKEND", "console")
SMS_API_URL = env.string("SMS_API_URL", "https://api.africastalking.com/version1/messaging")
SMS_USERNAME = env.string("SMS_USERNAME", "")
SMS_API_KEY = env.string("SMS_API_KEY", "")
SMS_SENDER_ID = env.string("SMS_SENDER_ID", "")
SMS_TIMEOUT_SECONDS = env.integer("SMS_TIMEOUT_SECONDS", 10, minimum=1)
SMS_SANDBOX = env.boolean("SMS_SANDBOX", default=False)
# Africa's Talking posts customers' SMS replies to {public base}/api/sms/inbound/{token}: like the
# M-Pesa callbacks, the token is the only proof a post came through Africa's Talking (not signed).
SMS_INBOUND_TOKEN = env.string(
    "SMS_INBOUND_TOKEN", hmac.new(SECRET_KEY.encode(), b"sms-inbound", hashlib.sha256).hexdigest()[:32])
# E-mail (staff password resets, receipts to customers with an address). No host: e-mail is written
# to the log instead of sent.
EMAIL_HOST = env.string("EMAIL_HOST", "")
EMAIL_PORT = env.integer("EMAIL_PORT", 587, minimum=1)
EMAIL_USE_TLS = env.boolean("EMAIL_USE_TLS", default=True)
EMAIL_HOST_USER = env.string("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env.string("EMAIL_HOST_PASSWORD", "")
DEFAULT_FROM_EMAIL = env.string("DEFAULT_FROM_EMAIL", "hotspot@localhost")
EMAIL_TIMEOUT = env.integer("EMAIL_TIMEOUT", 10, minimum=1)
# The E-mail settings page's values (saved ones win over the EMAIL_* above), read at each connection.
EMAIL_BACKEND = "siteconfig.mail.EmailBackend"
# --- backups and alerts (monitoring/) ----------------------------------------------------------------
# Where database backups are written (a path on the server: set here, never in the browser).
BACKUP_DIR = env.string("BACKUP_DIR", str(VAR_DIR / "backups"))
# Exports (monitoring.exports): a list's CSV past EXPORT_SYNC_MAX_ROWS rows is prepared by a worker
# into EXPORT_DIR (owner-only files, like the backups) and kept EXPORT_KEEP_HOURS for whoever asked.
EXPORT_DIR = env.string("EXPORT_DIR", str(VAR_DIR / "exports"))
EXPORT_SYNC_MAX_ROWS = env.integer("EXPORT_SYNC_MAX_ROWS", 50_000, minimum=1)
EXPORT_KEEP_HOURS = env.integer("EXPORT_KEEP_HOURS", 24, minimum=1)
# Uploaded files kept on disk (expense receipts, billing.expenses): never served as static files, only
# through the views that check who may read them. Give it a persistent volume in production.
MEDIA_ROOT = env.string("MEDIA_ROOT", str(VAR_DIR / "media"))
# Telegram's Bot API; tests and the quick start point it at the project's simulator.
TELEGRAM_API_URL = env.string("TELEGRAM_API_URL", "https://api.telegram.org")
TELEGRAM_TIMEOUT_SECONDS = env.integer("TELEGRAM_TIMEOUT_SECONDS", 10, minimum=1)
# A staff password-reset link works once, within this many seconds.
PASSWORD_RESET_TIMEOUT = env.integer("PASSWORD_RESET_TIMEOUT_SECONDS", 3600, minimum=300)
# Reminders: minutes before a subscription expires; days before an invoice is due (and once overdue).
REMINDER_EXPIRY_LEAD_MINUTES = [int(v) for v in env.strings("REMINDER_EXPIRY_LEAD_MINUTES", ["1440", "60"])]
REMINDER_INVOICE_LEAD_DAYS = [int(v) for v in env.strings("REMINDER_INVOICE_LEAD_DAYS", ["3", "1"])]
# PPPoE monthly customers are invoiced this many days before their period ends.
INVOICE_ISSUE_DAYS_BEFORE = env.integer("INVOICE_ISSUE_DAYS_BEFORE", 7, minimum=1)

# --- security ---------------------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# Content-Security-Policy (django-csp 4): script only from our own static files, never inline (an
# injected <script> or onclick= does not run). Inline style stays allowed: pages keep style=""
# attributes, the portal keeps its one <style> block (a single small request on a captive
# network), and htmx adds its indicator style. 'self' in connect-src covers ws:/wss: to this host
# (CSP level 3), which the live pages and the portal's waiting page use (a browser too old for
# that still gets the waiting page's status poll, then its refresh). The portal's connect page
# adds the one router origin its form posts the credentials to (hotspot.portal.connect).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    },
}
SECURE_REFERRER_POLICY = "same-origin"
# Wrong authenticator codes count towards the sign-in lockout (LOGIN_FAILURES_PER_*), which covers every
# device at once; django-otp's own per-device back-off on top would refuse a right code after a typo.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
if env.boolean("SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.boolean("SECURE_SSL_REDIRECT", default=PRODUCTION)
# Container health probes speak plain HTTP to the app port.
SECURE_REDIRECT_EXEMPT = [r"^api/health/ping$"]
SECURE_HSTS_SECONDS = env.integer("SECURE_HSTS_SECONDS", 31536000 if PRODUCTION else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.boolean("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=PRODUCTION)
SECURE_HSTS_PRELOAD = env.boolean("SECURE_HSTS_PRELOAD", default=PRODUCTION)
SESSION_COOKIE_SECURE = env.boolean("SESSION_COOKIE_SECURE", default=PRODUCTION)
CSRF_COOKIE_SECURE = env.boolean("CSRF_COOKIE_SECURE", default=PRODUCTION)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"worth_keeping": {"()": "audit.system_log.WorthKeeping"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        # Kept for /logs/system/ (audit/system_log.py): warnings and worse from everything, and
        # the jobs' summaries ("Task … succeeded in 0.2s: {…}") from Celery's tracer.
        "stored": {"class": "audit.system_log.DatabaseHandler", "level": "WARNING", "filters": ["worth_keeping"]},
        "stored_jobs": {"class": "audit.system_log.DatabaseHandler", "level": "INFO"},
    },
    "root": {"handlers": ["console", "stored"], "level": env.string("LOG_LEVEL", "INFO").upper()},
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        "celery.app.trace": {"handlers": ["console", "stored_jobs"], "level": "INFO", "propagate": False},
    },
}
