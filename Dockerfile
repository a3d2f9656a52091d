# The web, worker and beat image. Production configuration comes from the environment
# (see docker-compose.yml and README "Production").
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_ENV=production VAR_DIR=/app/var STATIC_ROOT=/app/staticfiles
WORKDIR /app

# FreeRADIUS 3.2 (Debian 12's) for the freeradius service, which runs `manage.py run_freeradius`;
# PostgreSQL 15's pg_dump / pg_restore / psql for database backups (the postgres service's major
# version: monitoring/backups.py refuses another's).
RUN apt-get update \
 && apt-get install -y --no-install-recommends freeradius freeradius-postgresql postgresql-client-15 \
 && rm -rf /var/lib/apt/lists/*

# Dependencies first (cached while only code changes): pyproject's pins, within constraints.txt.
COPY pyproject.toml constraints.txt ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml','rb'))['project']['dependencies']))" > /tmp/requirements.txt \
 && pip install --no-cache-dir -c constraints.txt -r /tmp/requirements.txt

COPY . .
# Static files are collected (hashed and compressed) at build time; the settings need production
# values to load, none of which are used by collectstatic.
RUN SECRET_KEY=build-only-$(python -c 'import secrets; print(secrets.token_urlsafe(48))') \
    ALLOWED_HOSTS=build DATABASE_URL=postgres://build@build/build \
    python manage.py collectstatic --noinput -v0 \
 && useradd --system --uid 1000 --home /app app && mkdir -p /app/var /app/spool /app/backups /app/exports /app/media \
 && chown app /app/var /app/spool /app/backups /app/exports /app/media && chmod 700 /app/backups /app/exports

USER app
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application"]
