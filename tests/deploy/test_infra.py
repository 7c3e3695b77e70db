"""infra/*.json: readable, cross-checked, least-privilege, and consistent with the code it serves."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from shared.config import REQUIRED_GCP_SECRETS
from shared.deploy.context import DeployContext
from shared.deploy.errors import InfraInvalid
from shared.deploy.infra import load_infra
from shared.deploy.resources.functions import render_env
from shared.observability import METRIC_EVENTS
from shared.sync.verification import SECRET_NAME as WEBHOOK_SECRET
from tests.deploy.conftest import ROOT

INFRA = load_infra(ROOT / "infra")
CTX = DeployContext(project="planner-test-1", region="europe-west1", release="r1", project_number="123456789012",
                    bucket_template=INFRA.bucket.name, url_template=INFRA.url_template,
                    function_names=tuple(INFRA.functions))


def test_every_function_folder_is_deployed_and_every_deployed_function_names_its_entry_point():
    folders = {path.parent.name for path in (ROOT / "functions").glob("*/main.py")}
    assert folders <= set(INFRA.functions), "a function folder is missing from infra/functions.json"
    assert {"oauth", "agent", "sync", "usage", "web"} <= set(INFRA.functions)
    for name, spec in INFRA.functions.items():
        assert spec.entry_point == name and spec.env["PLANNER_PROFILE"] == "gcp"


def test_cold_start_sensitive_functions_keep_warm_instances():
    assert INFRA.functions["agent"].min_instances >= 1 and INFRA.functions["oauth"].min_instances >= 1


def test_env_mounted_secrets_cover_what_the_gcp_profile_refuses_to_start_without():
    required_env = {f"PLANNER_{name.upper()}" for name in REQUIRED_GCP_SECRETS}
    for spec in INFRA.functions.values():
        mounted = {INFRA.secrets[secret].env for secret in spec.secrets}
        assert required_env <= mounted, spec.name
    assert {s.env for s in INFRA.secrets.values() if s.env} == {
        "PLANNER_NOTION_CLIENT_ID", "PLANNER_NOTION_CLIENT_SECRET", "PLANNER_CSRF_SECRET",
        "PLANNER_LLM_API_KEY", "PLANNER_SENTRY_DSN", "PLANNER_ADMIN_TOKEN"}
    assert {name for name, s in INFRA.secrets.items() if s.runtime} == {"token-kek", "session-keys", WEBHOOK_SECRET}


def test_the_webhook_token_is_read_at_run_time_by_sync_and_may_start_empty():
    # A configured PLANNER_NOTION_WEBHOOK_VERIFICATION_TOKEN would be final (shared/sync/verification.py):
    # the token Notion sends once must be able to arrive after the first deploy.
    assert INFRA.secrets[WEBHOOK_SECRET].optional and INFRA.secrets[WEBHOOK_SECRET].env is None
    assert WEBHOOK_SECRET in INFRA.functions["sync"].runtime_secrets
    assert not any(WEBHOOK_SECRET in spec.secrets for spec in INFRA.functions.values())


def test_secret_access_is_granted_secret_by_secret_to_exactly_the_functions_that_use_it():
    grants = INFRA.secret_accessors()
    for spec in INFRA.functions.values():
        granted = {secret for secret, account in grants if account == spec.service_account}
        assert granted == set(spec.secrets) | set(spec.runtime_secrets), spec.name
    assert ("llm-api-key", "planner-agent") in grants and ("llm-api-key", "planner-usage") not in grants
    assert (WEBHOOK_SECRET, "planner-sync") in grants and len([g for g in grants if g[0] == WEBHOOK_SECRET]) == 1
    assert not any(secret == "token-kek" and account == "planner-usage" for secret, account in grants)


def test_roles_follow_the_adapters_each_function_uses():
    iam = INFRA.iam
    by_account = {spec.service_account: spec for spec in INFRA.functions.values()}
    assert {m for m, _ in iam.bucket_roles} == {a for a, s in by_account.items() if "blobs" in s.adapters}
    assert {m for _, m, _ in iam.queue_roles} <= {a for a, s in by_account.items() if "tasks" in s.adapters}
    assert {m for _, m, _ in iam.service_account_roles} == {m for _, m, _ in iam.queue_roles}
    assert {role for _, role in iam.project_roles} == {"roles/datastore.user"}
    assert {role for _, role in iam.bucket_roles} == {"roles/storage.objectAdmin"}
    assert {role for _, _, role in iam.queue_roles} == {"roles/cloudtasks.enqueuer"}
    assert {(sa, role) for sa, _, role in iam.service_account_roles} == {("planner-invoker", "roles/iam.serviceAccountUser")}
    assert set(iam.function_invokers) == {("agent", "planner-invoker"), ("sync", "planner-invoker")}
    assert len({spec.service_account for spec in INFRA.functions.values()}) == len(INFRA.functions)


def test_queues_used_by_the_code_exist_with_a_bounded_retry_policy():
    assert set(INFRA.queues) == {"sync", "planning"}
    for queue in INFRA.queues.values():
        assert 1 <= queue.max_attempts <= 20 and queue.max_doublings >= 1 and queue.max_concurrent_dispatches >= 1


def test_scheduler_jobs_call_their_function_with_an_oidc_token_of_the_task_caller():
    assert INFRA.scheduler_service_account == INFRA.invoker_service_account
    env = render_env(INFRA, CTX, INFRA.functions["agent"])
    assert env["PLANNER_TASKS_SERVICE_ACCOUNT"] == "planner-invoker@planner-test-1.iam.gserviceaccount.com"
    urls = json.loads(env["PLANNER_FUNCTION_URLS"])
    for job in INFRA.jobs:
        assert urls[job.function] == f"https://europe-west1-planner-test-1.cloudfunctions.net/{job.function}"


def test_firestore_ttl_covers_every_expiring_collection_group_and_the_usage_log_query_has_its_index():
    groups = {group for group, field in INFRA.firestore.ttl_fields if field == "expires_at"}
    assert {"idempotency", "leases", "webhook_events", "oauth_states", "usage_logs", "rate_windows"} <= groups
    from shared.auth.csrf import OAUTH_STATE_COLLECTION
    from shared.idempotency import COLLECTION
    from shared.usage.meter import LOGS
    from shared.usage.rate import WINDOWS
    assert {OAUTH_STATE_COLLECTION, COLLECTION, LOGS, WINDOWS} <= groups
    (index,) = [i for i in INFRA.firestore.indexes if i.collection_group == LOGS]
    assert index.fields == (("operation", "ASCENDING"), ("log_id", "DESCENDING"))


def test_bucket_keeps_no_versions_and_never_ages_out_live_snapshots():
    assert INFRA.bucket.uniform_access and INFRA.bucket.public_access_prevention and not INFRA.bucket.versioning
    for rule in INFRA.bucket.lifecycle["rule"]:
        condition = rule["condition"]
        # An age rule on live objects would delete the snapshot a tenant is still using.
        assert rule["action"]["type"] != "Delete" or condition.get("isLive") is False


def test_alert_metrics_count_events_the_code_logs_by_name():
    events = {body["filter"].split('jsonPayload.event="')[1].split('"')[0]
              for body in INFRA.metrics.values() if "jsonPayload.event=" in body["filter"]}
    assert events == set(METRIC_EVENTS)
    used = {name for policy in INFRA.policies.values() for name in INFRA.metrics if name in json.dumps(policy)}
    assert used == set(INFRA.metrics), "a log-based metric no alert uses"
    assert {"error-rate", "latency-p95", "queue-backlog", "notion-refresh-failures", "planning-stalled",
            "sync-lag"} == set(INFRA.policies)


def _broken_copy(tmp_path: Path, name: str, edit) -> Path:
    root = tmp_path / "infra"
    shutil.copytree(ROOT / "infra", root)
    path = root / name
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))
    return root


@pytest.mark.parametrize("name, edit, says", [
    ("queues.json", lambda d: d["queues"]["sync"].update(max_attempts=0), "queues.json: queues.sync.max_attempts"),
    ("functions.json", lambda d: d["functions"]["usage"].update(service_account="planner-nobody"),
     "service_account planner-nobody is not in iam.json"),
    ("functions.json", lambda d: d["functions"]["usage"]["secrets"].append("no-such-secret"), "no-such-secret"),
    ("scheduler.json", lambda d: d["jobs"][0].update(function="nowhere"), "unknown function nowhere"),
    ("iam.json", lambda d: d["queue_roles"].append({"queue": "nope", "member": "planner-sync", "role": "r"}),
     "unknown queue nope"),
    ("functions.json", lambda d: d["functions"]["usage"].update(timeout="two minutes"),
     "functions.json: functions.usage.timeout is not valid"),
])
def test_invalid_definitions_are_refused_naming_file_and_key(tmp_path, name, edit, says):
    with pytest.raises(InfraInvalid) as caught:
        load_infra(_broken_copy(tmp_path, name, edit))
    assert says in caught.value.message
    assert caught.value.exit_code == 8


def test_unknown_placeholder_is_refused():
    with pytest.raises(InfraInvalid, match=r"unknown placeholder \$\{NOPE\}"):
        CTX.expand({"a": "x-${NOPE}"}, "functions.json: env")
    with pytest.raises(InfraInvalid, match="names no function"):
        CTX.expand("${FUNCTION_URL:nobody}", "functions.json: env")


@pytest.mark.parametrize("function", list(INFRA.functions))
def test_the_deployed_environment_is_a_valid_gcp_configuration_with_release_and_environment(monkeypatch, function):
    from shared.config import Settings

    spec = INFRA.functions[function]
    ctx = DeployContext(project="planner-test-1", region="europe-west1", release="2025.06.1", environment="staging",
                        project_number="123456789012",
                        bucket_template=INFRA.bucket.name, url_template=INFRA.url_template,
                        function_names=tuple(INFRA.functions))
    for key, value in render_env(INFRA, ctx, spec).items():
        monkeypatch.setenv(key, value)
    for secret in spec.secrets:  # what --set-secrets mounts
        monkeypatch.setenv(INFRA.secrets[secret].env, f"value-of-{secret}-0123456789")
    settings = Settings()
    assert settings.profile == "gcp" and settings.release == "2025.06.1" and settings.environment == "staging"
    assert settings.gcs_bucket == "planner-test-1-planner-data" and settings.tasks_location == "europe-west1"
    assert settings.function_url(function) == f"https://europe-west1-planner-test-1.cloudfunctions.net/{function}"
    assert settings.public_base_url == settings.function_url("web")


def test_every_function_shares_one_origin_so_the_session_cookie_reaches_them_all():
    # The session cookie is host-only (__Host-): oauth sets it at sign-in, web, usage and agent read it.
    hosts = {url.split("/")[2] for url in CTX.function_urls().values()}
    assert hosts == {"europe-west1-planner-test-1.cloudfunctions.net"}


def test_a_run_app_url_template_gets_the_project_number():
    ctx = DeployContext(project="planner-test-1", region="europe-west1", project_number="123456789012",
                        url_template="https://${FUNCTION}-${PROJECT_NUMBER}.${REGION}.run.app", function_names=("web",))
    assert ctx.function_url("web") == "https://web-123456789012.europe-west1.run.app"
