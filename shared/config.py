"""One validated ``Settings`` object per cold start.

Selected by ``PLANNER_PROFILE``: ``local`` runs every port on its embedded adapter (SQLite, a
folder, the SQLite task queue, env/file secrets); ``gcp`` runs on Firestore, Cloud Storage, Cloud
Tasks and Secret Manager. In ``gcp`` a missing or placeholder secret is refused at start-up with an
error that names the environment variable, so a misconfigured deploy fails loudly instead of
signing sessions with ``changethis``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "PLANNER_"

# Values that mean "nobody set this": refused for secrets in production.
PLACEHOLDERS = frozenset({"", "changethis", "change-me", "changeme", "secret", "placeholder", "todo", "xxx", "dev"})

# Secrets the gcp profile cannot start without (attribute names; env var = PREFIX + upper()).
# deploy.sh mounts them from Secret Manager as environment variables. The keys that rotate
# (the token key-encryption keyring `token-kek` and the session keyring `session-keys`) are read
# at run time through the secrets port instead, cached with an expiry and refreshed on demand.
REQUIRED_GCP_SECRETS = (
    "notion_client_id",
    "notion_client_secret",
    "csrf_secret",
)

# Local-profile defaults: fine on a laptop, refused in gcp by the placeholder check below.
_LOCAL_DEV_KEY = "dev"


class Settings(BaseSettings):
    """Every knob of the platform, read from ``PLANNER_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    profile: Literal["local", "gcp"] = "local"
    environment: str = "development"
    release: str = "dev"
    service_name: str = "planner"

    # --- local profile --------------------------------------------------------------------
    data_dir: Path = Path(".local")

    # --- gcp profile ----------------------------------------------------------------------
    gcp_project: str = ""
    gcp_region: str = "europe-west1"
    firestore_database: str = "(default)"
    gcs_bucket: str = ""
    tasks_location: str = ""
    tasks_service_account: str = ""  # the identity Cloud Tasks signs OIDC tokens as
    secret_cache_seconds: int = Field(default=300, ge=0)

    # --- where the functions answer (used for redirects, task targets and OIDC audiences) ---
    public_base_url: str = "http://127.0.0.1:8080"
    function_urls: dict[str, str] = Field(
        default_factory=lambda: {
            "oauth": "http://127.0.0.1:8081",
            "agent": "http://127.0.0.1:8082",
            "sync": "http://127.0.0.1:8083",
            "usage": "http://127.0.0.1:8084",
        }
    )
    function_timeout_seconds: int = Field(default=540, ge=1)

    # --- Notion -------------------------------------------------------------------------------
    notion_api_base: str = "https://api.notion.com"
    notion_version: str = "2025-09-03"
    notion_client_id: SecretStr = SecretStr(_LOCAL_DEV_KEY)
    notion_client_secret: SecretStr = SecretStr(_LOCAL_DEV_KEY)
    notion_webhook_verification_token: SecretStr = SecretStr("")
    notion_requests_per_second: float = Field(default=3.0, gt=0)

    # --- keys ---------------------------------------------------------------------------------
    session_signing_key: SecretStr = SecretStr(_LOCAL_DEV_KEY)  # local profile only; gcp uses `session-keys`
    csrf_secret: SecretStr = SecretStr(_LOCAL_DEV_KEY)
    admin_token: SecretStr = SecretStr("")

    # --- LLM ------------------------------------------------------------------------------------
    llm_provider: Literal["offline", "openai"] = "offline"
    llm_base_url: str = "https://api.openai.com/v1"
    llm_model: str = "gpt-4o-mini"
    llm_api_key: SecretStr = SecretStr("")

    # --- observability --------------------------------------------------------------------------
    sentry_dsn: SecretStr = SecretStr("")
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _refuse_placeholders_in_gcp(self) -> "Settings":
        if self.profile != "gcp":
            return self
        for name in REQUIRED_GCP_SECRETS:
            value = getattr(self, name).get_secret_value().strip()
            if value.lower() in PLACEHOLDERS:
                raise ValueError(
                    f"{ENV_PREFIX}{name.upper()} is missing or a placeholder; the gcp profile needs a real secret"
                )
        if self.llm_provider == "openai" and self.llm_api_key.get_secret_value().strip().lower() in PLACEHOLDERS:
            raise ValueError(f"{ENV_PREFIX}LLM_API_KEY is missing or a placeholder; llm_provider=openai needs it")
        # Without the service account, task targets would accept an OIDC token minted by anyone.
        for name in ("gcp_project", "gcs_bucket", "tasks_location", "tasks_service_account"):
            if not getattr(self, name).strip():
                raise ValueError(f"{ENV_PREFIX}{name.upper()} is required by the gcp profile")
        return self

    def function_url(self, function: str) -> str:
        try:
            return self.function_urls[function].rstrip("/")
        except KeyError:
            raise ValueError(f"no URL configured for function {function!r}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, built once per cold start."""
    return Settings()


def reset_settings_cache() -> None:
    """Forget the cached settings (tests and the local stack change the environment)."""
    get_settings.cache_clear()
