"""Settings: embedded defaults with nothing configured, and production mode's refusals."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STRONG_KEY = "k8#Qz!w2$Lr9@Vx4^Tn7&Pm1*Hs6(Jd3)Fb5_Gc0+Yu8=Ei2-Oa7~Wq4"


def run(args, env_overrides, tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER", "DEBUG",
                        "DJANGO_ENV", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env["VAR_DIR"] = str(tmp_path)
    env.update(env_overrides)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def production(**overrides):
    env = {"DJANGO_ENV": "production", "SECRET_KEY": STRONG_KEY, "ALLOWED_HOSTS": "isp.example.co.ke",
           "DATABASE_URL": "postgres://hotspot:hotspot@127.0.0.1:5432/hotspot"}
    env.update(overrides)
    return env


PRINT_SETTINGS = (
    "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); django.setup();"
    "from django.conf import settings as s;"
    "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER,"
    " s.CHANNEL_LAYERS['default']['BACKEND'], s.CACHES['default']['BACKEND'], s.DEBUG)"
)


def test_it_runs_on_embedded_defaults_with_nothing_configured(tmp_path):
    result = run(["-c", PRINT_SETTINGS], {}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3", "True", "channels.layers.InMemoryChannelLayer",
        "django.core.cache.backends.locmem.LocMemCache", "True",
    ]


def test_it_switches_to_real_services_by_environment(tmp_path):
    result = run(["-c", PRINT_SETTINGS], {
        "DATABASE_URL": "postgres://u:p@db:5432/isp", "REDIS_URL": "redis://cache:6379/0"}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql", "False", "channels_redis.core.RedisChannelLayer",
        "lib.redis_cache.RedisCache", "True",
    ]


def test_production_passes_check_deploy_with_nothing_reported(tmp_path):
    result = run(["manage.py", "check", "--deploy"], production(), tmp_path)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNING" not in result.stderr + result.stdout


def refusal(result) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_production_refuses_a_missing_secret_key(tmp_path):
    line = refusal(run(["manage.py", "check"], production(SECRET_KEY=""), tmp_path))
    assert line == "error: production refuses to start: SECRET_KEY is not set"


def test_production_refuses_a_weak_secret_key(tmp_path):
    line = refusal(run(["manage.py", "check"], production(SECRET_KEY="secret"), tmp_path))
    assert "SECRET_KEY has 6 characters" in line


def test_production_refuses_empty_allowed_hosts(tmp_path):
    line = refusal(run(["manage.py", "check"], production(ALLOWED_HOSTS=""), tmp_path))
    assert "ALLOWED_HOSTS is empty" in line


def test_production_refuses_sqlite(tmp_path):
    line = refusal(run(["manage.py", "check"], production(DATABASE_URL=""), tmp_path))
    assert "DATABASE_URL must point at PostgreSQL" in line


def test_a_malformed_boolean_is_a_one_line_error(tmp_path):
    line = refusal(run(["manage.py", "check"], {"DEBUG": "maybe"}, tmp_path))
    assert line == "error: DEBUG='maybe' is not a boolean (use true/false)"


def test_the_asgi_entry_point_refuses_too(tmp_path):
    result = run(["-c", "import config.asgi"], production(SECRET_KEY="short"), tmp_path)
    assert "error: production refuses to start: SECRET_KEY has 5 characters" in refusal(result)


def test_a_malformed_network_list_refuses_start_up_not_every_callback(tmp_path):
    line = refusal(run(["manage.py", "check"], {"MPESA_CALLBACK_ALLOWED_IPS": "196.201.214.0/24, safaricom"},
                       tmp_path))
    assert line == "error: MPESA_CALLBACK_ALLOWED_IPS: 'safaricom' is not an IP address or network"


GRANT_TWICE = (
    "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); django.setup();"
    "from django.core.management import call_command; call_command('migrate', verbosity=0);"
    "from radius import services as r;"
    "r.grant_access('amina', 'first-pass', 'daily'); r.grant_access('amina', 'second-pass', 'weekly');"
    "a = r.access_of('amina');"
    "print(a['groups'], sorted((c.attribute, c.op, c.value) for c in a['check']"
    "                          if c.attribute != 'Hotspot-Quota-Since'))"
)


def test_the_embedded_database_rewrites_radius_access_too(tmp_path):
    """SQLite has no data-modifying WITH: radius writes access row by row there (PostgreSQL in one
    statement); the quick start must grant the same rows."""
    result = run(["-c", GRANT_TWICE], {}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['weekly'] [('Cleartext-Password', ':=', 'second-pass')]"
