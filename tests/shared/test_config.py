import pytest
from pydantic import ValidationError

from shared.config import Settings

GCP_OK = {
    "PLANNER_PROFILE": "gcp",
    "PLANNER_GCP_PROJECT": "acme-planner",
    "PLANNER_GCS_BUCKET": "acme-planner-data",
    "PLANNER_TASKS_LOCATION": "europe-west1",
    "PLANNER_TASKS_SERVICE_ACCOUNT": "planner-tasks@acme-planner.iam.gserviceaccount.com",
    "PLANNER_NOTION_CLIENT_ID": "1f2d872b-594c-80e7-abcd-0037a1b2c3d4",
    "PLANNER_NOTION_CLIENT_SECRET": "secret_" + "x" * 40,
    "PLANNER_CSRF_SECRET": "c" * 40,
}


def test_local_profile_has_working_defaults(monkeypatch):
    monkeypatch.delenv("PLANNER_PROFILE", raising=False)
    settings = Settings()
    assert settings.profile == "local"
    assert settings.function_url("agent").startswith("http://127.0.0.1:")


def test_gcp_profile_accepts_real_secrets(monkeypatch):
    for key, value in GCP_OK.items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert settings.profile == "gcp"
    assert GCP_OK["PLANNER_NOTION_CLIENT_SECRET"] not in repr(settings)  # SecretStr keeps values out of reprs


@pytest.mark.parametrize("variable", ["PLANNER_NOTION_CLIENT_ID", "PLANNER_NOTION_CLIENT_SECRET", "PLANNER_CSRF_SECRET"])
@pytest.mark.parametrize("value", ["", "changethis", "  dev "])
def test_gcp_profile_refuses_missing_or_placeholder_secret_naming_the_variable(monkeypatch, variable, value):
    for key, good in GCP_OK.items():
        monkeypatch.setenv(key, good)
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError) as info:
        Settings()
    assert variable in str(info.value)
    assert GCP_OK["PLANNER_NOTION_CLIENT_SECRET"] not in str(info.value)


def test_gcp_profile_requires_a_project(monkeypatch):
    for key, good in GCP_OK.items():
        monkeypatch.setenv(key, good)
    monkeypatch.setenv("PLANNER_GCP_PROJECT", "")
    with pytest.raises(ValidationError, match="PLANNER_GCP_PROJECT"):
        Settings()


def test_function_urls_come_from_json_env(monkeypatch):
    monkeypatch.setenv("PLANNER_FUNCTION_URLS", '{"agent": "https://agent-xyz.a.run.app/"}')
    assert Settings().function_url("agent") == "https://agent-xyz.a.run.app"
