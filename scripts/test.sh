#!/usr/bin/env bash
# The test command: installs what is missing, then runs the whole suite. Emulators (Firestore,
# fake-gcs-server, Cloud Tasks) are started by the tests' own fixtures on free local ports and
# stopped at the end. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
WITH_BROWSER=${WITH_BROWSER:-1} bash scripts/bootstrap.sh
export ANONYMIZED_TELEMETRY=False
exec .venv/bin/python -m pytest -q -rfEs "$@"
