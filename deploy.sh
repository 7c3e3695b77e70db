#!/usr/bin/env bash
# deploy.sh local            install what is missing and run the whole stack on this machine
# deploy.sh gcp --project P --region R [--dry-run]   deploy to Google Cloud (see README)
set -euo pipefail
cd "$(dirname "$0")"

usage() { sed -n '2,3p' "$0" | sed 's/^# //'; }

command=${1:-}
[ -n "$command" ] || { usage; exit 2; }
shift

case "$command" in
  local)
    bash scripts/bootstrap.sh
    export ANONYMIZED_TELEMETRY=False
    exec .venv/bin/python -m shared.localstack "$@"
    ;;
  gcp)
    echo "deploy.sh gcp: not available yet (tracked by the production issue); use 'deploy.sh local'." >&2
    exit 3
    ;;
  -h|--help|help)
    usage
    ;;
  *)
    echo "deploy.sh: unknown command '$command'" >&2
    usage >&2
    exit 2
    ;;
esac
