#!/usr/bin/env bash
# deploy.sh local            install what is missing and run the whole stack on this machine
# deploy.sh gcp --project P --region R [--dry-run] [--release R] [--environment E] [--alert-channel C] [--force]
#                           deploy to Google Cloud (see README: "Deploy to Google Cloud")
set -euo pipefail
cd "$(dirname "$0")"

usage() { sed -n '2,4p' "$0" | sed 's/^# //'; }

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
    # Everything but argument checks lives in shared/deploy (python -m shared.deploy plan|apply).
    project="" region="" dry_run=0 pass=()
    while [ $# -gt 0 ]; do
      case "$1" in
        --project) [ $# -ge 2 ] || { echo "deploy.sh gcp: --project needs a value" >&2; exit 2; }; project=$2; shift 2 ;;
        --project=*) project=${1#*=}; shift ;;
        --region) [ $# -ge 2 ] || { echo "deploy.sh gcp: --region needs a value" >&2; exit 2; }; region=$2; shift 2 ;;
        --region=*) region=${1#*=}; shift ;;
        --dry-run) dry_run=1; shift ;;
        --release|--environment|--alert-channel|--project-number)
          [ $# -ge 2 ] || { echo "deploy.sh gcp: $1 needs a value" >&2; exit 2; }; pass+=("$1" "$2"); shift 2 ;;
        --release=*|--environment=*|--alert-channel=*|--project-number=*|--force) pass+=("$1"); shift ;;
        *) echo "deploy.sh gcp: unknown option '$1'" >&2; usage >&2; exit 2 ;;
      esac
    done
    [ -n "$project" ] || { echo "deploy.sh gcp: --project is required (the Google Cloud project id)" >&2; exit 2; }
    [ -n "$region" ] || { echo "deploy.sh gcp: --region is required (e.g. europe-west1)" >&2; exit 2; }
    if [ "$dry_run" = 0 ]; then
      command -v gcloud >/dev/null 2>&1 || {
        echo "deploy.sh gcp: gcloud (the Google Cloud CLI) is not installed or not on PATH; see" \
             "https://cloud.google.com/sdk/docs/install (or add --dry-run to only print the commands)" >&2
        exit 3
      }
    fi
    python=${PYTHON:-}
    if [ -z "$python" ]; then
      # The project's venv holds the embedding model the agent, sync and web bundles ship.
      command -v python3 >/dev/null 2>&1 || { echo "deploy.sh gcp: python3 is not installed" >&2; exit 3; }
      SKIP_TASKS_EMULATOR=1 bash scripts/bootstrap.sh >&2
      python=.venv/bin/python
    fi
    if [ "$dry_run" = 1 ]; then
      exec "$python" -m shared.deploy plan --project "$project" --region "$region" ${pass[@]+"${pass[@]}"}
    fi
    exec "$python" -m shared.deploy apply --project "$project" --region "$region" ${pass[@]+"${pass[@]}"}
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
