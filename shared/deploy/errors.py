"""Errors of the deploy tool, each with the exit code ``deploy.sh gcp`` ends with.

Messages say what is wrong and what to do, name the file, key, resource or command concerned, and
never contain a secret value (the tool never reads one).

    DeployError (AppError)             exit 1
    ├── InfraInvalid                   exit 8   an infra/*.json file is malformed (names file and key)
    ├── BundleError                    exit 9   a function folder or its requirements.txt is missing or wrong
    ├── ToolMissing                    exit 3   gcloud (or python) is not installed / not on PATH
    ├── NotAuthenticated               exit 4   no active gcloud account, or its credentials expired
    ├── DeployPermissionDenied         exit 5   the account may not do something (names command and hint)
    ├── SecretValuesMissing            exit 6   secrets exist but have no value yet (names them, says how)
    └── CommandFailed                  exit 7   any other gcloud failure (command and the end of its stderr)
"""

from __future__ import annotations

from shared.errors import AppError


class DeployError(AppError):
    """Base of the deploy tool's errors."""

    code = "deploy_failed"
    default_message = "The deployment failed."
    exit_code = 1


class InfraInvalid(DeployError):
    code = "infra_invalid"
    default_message = "An infrastructure definition is invalid."
    exit_code = 8

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field  # "file.json: key.path"
        super().__init__(message)


class BundleError(DeployError):
    code = "bundle_failed"
    default_message = "A function bundle could not be built."
    exit_code = 9


class ToolMissing(DeployError):
    code = "tool_missing"
    default_message = "A required tool is not installed."
    exit_code = 3


class NotAuthenticated(DeployError):
    code = "not_authenticated"
    default_message = "gcloud has no active, valid account: run `gcloud auth login`."
    exit_code = 4


class DeployPermissionDenied(DeployError):
    code = "permission_denied"
    default_message = "The active account is not allowed to do this."
    exit_code = 5


class SecretValuesMissing(DeployError):
    code = "secret_values_missing"
    default_message = "Some secrets have no value yet."
    exit_code = 6

    def __init__(self, message: str, *, secrets: list[str]) -> None:
        self.secrets = list(secrets)
        super().__init__(message)


class CommandFailed(DeployError):
    code = "command_failed"
    default_message = "A gcloud command failed."
    exit_code = 7
