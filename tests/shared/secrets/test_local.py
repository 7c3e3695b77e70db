"""The env/file secret store."""

from __future__ import annotations

import pytest

from shared.config import Settings
from shared.secrets import SecretNotFound, SecretStore
from shared.secrets.local import EnvFileSecretStore, env_var_for


def test_it_implements_the_port(tmp_path):
    assert isinstance(EnvFileSecretStore({}, tmp_path), SecretStore)


def test_the_environment_variable_wins(tmp_path):
    (tmp_path / "token-kek").write_text("from-file\n")
    store = EnvFileSecretStore({"PLANNER_SECRET_TOKEN_KEK": "from-env"}, tmp_path)

    assert store.get("token-kek") == "from-env"


def test_the_file_is_read_without_its_trailing_newline(tmp_path):
    (tmp_path / "session-keys").write_text('{"primary": "k1"}\n')
    store = EnvFileSecretStore({}, tmp_path)

    assert store.get("session-keys") == '{"primary": "k1"}'


def test_a_rotated_file_is_seen_at_once(tmp_path):
    secret = tmp_path / "token-kek"
    secret.write_text("v1")
    store = EnvFileSecretStore({}, tmp_path)
    assert store.get("token-kek") == "v1"

    secret.write_text("v2")

    assert store.get("token-kek") == "v2"
    assert store.get("token-kek", refresh=True) == "v2"


def test_a_missing_secret_names_the_variable_and_the_file_but_no_value(tmp_path):
    store = EnvFileSecretStore({"PLANNER_SECRET_OTHER": "hunter2"}, tmp_path)

    with pytest.raises(SecretNotFound) as caught:
        store.get("token-kek")

    assert caught.value.status == 503
    assert "PLANNER_SECRET_TOKEN_KEK" in caught.value.message
    assert str(tmp_path / "token-kek") in caught.value.message
    assert "hunter2" not in caught.value.message


def test_empty_values_count_as_missing(tmp_path):
    (tmp_path / "token-kek").write_text("\n")
    store = EnvFileSecretStore({"PLANNER_SECRET_TOKEN_KEK": ""}, tmp_path)

    with pytest.raises(SecretNotFound, match="token-kek"):
        store.get("token-kek")


def test_without_a_directory_only_the_environment_is_used():
    with pytest.raises(SecretNotFound) as caught:
        EnvFileSecretStore({}).get("csrf-secret")
    assert "PLANNER_SECRET_CSRF_SECRET" in caught.value.message


@pytest.mark.parametrize("name", ["../etc/passwd", "a/b", "", "dot.name", "x" * 256])
def test_names_that_could_escape_the_folder_are_refused(tmp_path, name):
    with pytest.raises(ValueError):
        EnvFileSecretStore({}, tmp_path).get(name)


def test_env_var_naming():
    assert env_var_for("token-kek") == "PLANNER_SECRET_TOKEN_KEK"
    assert env_var_for("session_keys") == "PLANNER_SECRET_SESSION_KEYS"


def test_from_settings_reads_the_data_dir_secrets_folder(tmp_path, monkeypatch):
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "csrf-secret").write_text("csrf-value")
    monkeypatch.delenv("PLANNER_SECRET_CSRF_SECRET", raising=False)

    store = EnvFileSecretStore.from_settings(Settings(data_dir=tmp_path))

    assert store.get("csrf-secret") == "csrf-value"
