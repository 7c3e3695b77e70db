from __future__ import annotations

import pytest

from shared.backends import Backends
from shared.config import Settings
from shared.connections.services import ConnectionServices
from shared.connections.signin import ConnectionFlows
from shared.localstack.stack import ensure_local_secrets
from tests.support.notion_oauth_fake import CLIENT_ID, CLIENT_SECRET, FakeNotionOAuth


@pytest.fixture
def notion_oauth() -> FakeNotionOAuth:
    return FakeNotionOAuth()


@pytest.fixture
def settings(tmp_path) -> Settings:
    ensure_local_secrets(tmp_path)
    return Settings(profile="local", data_dir=tmp_path, notion_client_id=CLIENT_ID, notion_client_secret=CLIENT_SECRET,
                    notion_api_base="https://api.notion.test", csrf_secret="csrf-secret-for-tests-0123456789")


@pytest.fixture
def services(settings, notion_oauth) -> ConnectionServices:
    backends = Backends(settings)
    yield ConnectionServices(backends, oauth_transport=notion_oauth.transport())
    backends.documents.close()


@pytest.fixture
def flows(services) -> ConnectionFlows:
    return ConnectionFlows(services)
