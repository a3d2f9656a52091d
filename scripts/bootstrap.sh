# Shared by scripts/quickstart and scripts/test: a virtual environment with the pinned packages.
# Sourced, not run. Re-installs only when pyproject.toml or constraints.txt change.

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "error: need root (or sudo) to run: $*" >&2; return 1; fi
}

apt_install() {
  echo "==> installing Debian packages: $*"
  if [ -z "${APT_UPDATED:-}" ]; then as_root apt-get update -qq; APT_UPDATED=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_venv() {
  local python=${PYTHON:-python3}
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "error: Python 3.11 or newer is needed (found: $("$python" --version 2>&1))" >&2; return 1
  fi
  if [ ! -x .venv/bin/python ]; then
    if ! "$python" -m venv .venv 2>/dev/null; then
      rm -rf .venv
      apt_install python3-venv
      "$python" -m venv .venv
    fi
  fi
  local stamp=.venv/.installed
  local want
  want=$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "==> installing Python packages into .venv"
    mkdir -p var
    if ! .venv/bin/python -m pip install -c constraints.txt -e ".[test]" > var/pip-install.log 2>&1; then
      tail -n 30 var/pip-install.log >&2; return 1
    fi
    .venv/bin/python -c 'import django, channels, celery, daphne, playwright' || return 1
    echo "$want" > "$stamp"
  fi
}
