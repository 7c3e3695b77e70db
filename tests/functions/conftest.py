"""Fixtures for function-level tests: a function's real Flask app (functions-framework) on the
local profile, with its data in a temporary folder and Notion played by the sandbox."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import functions_framework
import pytest

from shared.config import reset_settings_cache
from shared.localstack.stack import ensure_local_secrets
from shared.notion.sandbox import NotionSandbox, SandboxServer

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "planner-sandbox-client"
CLIENT_SECRET = "secret_SandboxClientSecret0123456789abcdef"
CSRF_SECRET = "csrf-secret-for-function-tests-0123456789"
FUNCTION_URLS = {name: f"http://{name}.planner.test" for name in ("oauth", "agent", "sync", "usage", "web")}


@pytest.fixture
def notion_sandbox():
    sandbox = NotionSandbox(client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                            redirect_uris=[FUNCTION_URLS["oauth"] + "/oauth/callback"], today=date(2026, 11, 30))
    with SandboxServer(sandbox) as server:
        yield sandbox, server


@pytest.fixture
def local_env(tmp_path, monkeypatch, notion_sandbox):
    """The local profile pointed at tmp_path and the sandbox; returns the process's Backends."""
    _, server = notion_sandbox
    ensure_local_secrets(tmp_path)
    for key, value in {
        "PLANNER_PROFILE": "local",
        "PLANNER_DATA_DIR": str(tmp_path),
        "PLANNER_NOTION_API_BASE": server.url,
        "PLANNER_NOTION_CLIENT_ID": CLIENT_ID,
        "PLANNER_NOTION_CLIENT_SECRET": CLIENT_SECRET,
        "PLANNER_CSRF_SECRET": CSRF_SECRET,
        "PLANNER_FUNCTION_URLS": json.dumps(FUNCTION_URLS),
        "PLANNER_PUBLIC_BASE_URL": FUNCTION_URLS["web"],
        "PLANNER_ADMIN_TOKEN": "admin-token-for-tests-0123456789",
    }.items():
        monkeypatch.setenv(key, value)
    reset_settings_cache()
    from shared.backends import get_backends

    backends = get_backends()
    yield backends
    backends.documents.close()
    reset_settings_cache()


def function_client(name: str):
    """The function's Flask test client, built exactly as functions-framework serves it."""
    app = functions_framework.create_app(target=name, source=str(ROOT / "functions" / name / "main.py"))
    app.testing = True
    return app.test_client()
