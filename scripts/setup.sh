#!/usr/bin/env bash
# One command sets up everything on a fresh Debian/Ubuntu machine: the system packages the
# tests start (Chromium for the report test), a virtualenv, and the project with its extras.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
python3 -m venv .venv
.venv/bin/pip install --quiet --upgrade pip
.venv/bin/pip install --quiet -e '.[dev]'
echo "set up: .venv/bin/agentstate demo   |   tests: .venv/bin/pytest"
