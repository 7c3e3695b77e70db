"""The env/file adapter of the secrets port (the ``local`` profile, tests, CI).

Secret ``token-kek`` is read from the environment variable ``PLANNER_SECRET_TOKEN_KEK`` (the name
upper-cased, hyphens as underscores) or, failing that, from the file ``<directory>/token-kek``
(one trailing newline stripped, as editors and ``echo`` add one). Nothing is cached: a rotated file
is seen at the next ``get``, so ``refresh`` changes nothing here.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from shared.secrets.base import SecretNotFound

if TYPE_CHECKING:
    from shared.config import Settings

logger = logging.getLogger(__name__)

ENV_PREFIX = "PLANNER_SECRET_"

# Secret Manager's id alphabet; it also keeps names from escaping the directory.
_SECRET_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")


def validate_secret_name(name: str) -> str:
    """Return ``name`` if it is a legal secret id, else raise ValueError (a programming error)."""
    if not isinstance(name, str) or not _SECRET_NAME.fullmatch(name):
        raise ValueError("secret names hold only letters, digits, hyphens and underscores")
    return name


def env_var_for(name: str) -> str:
    """The environment variable that carries secret ``name`` (``token-kek`` -> PLANNER_SECRET_TOKEN_KEK)."""
    return ENV_PREFIX + validate_secret_name(name).upper().replace("-", "_")


class EnvFileSecretStore:
    """A :class:`~shared.secrets.base.SecretStore` over environment variables and a folder."""

    def __init__(self, environ: Mapping[str, str] = os.environ, directory: Path | None = None) -> None:
        self._environ = environ
        self.directory = Path(directory) if directory is not None else None

    @classmethod
    def from_settings(cls, settings: "Settings") -> "EnvFileSecretStore":
        """Secrets from the process environment and ``<data_dir>/secrets``."""
        return cls(directory=settings.data_dir / "secrets")

    def get(self, name: str, *, refresh: bool = False) -> str:
        """The value of secret ``name``; SecretNotFound (naming where it was looked for) if unset."""
        variable = env_var_for(name)
        value = self._environ.get(variable)
        if value:
            return value
        if self.directory is not None:
            path = self.directory / name
            try:
                value = path.read_text(encoding="utf-8")
            except FileNotFoundError:
                value = None
            except (OSError, UnicodeDecodeError) as exc:
                logger.warning("secret file for %s is unreadable: %s", name, type(exc).__name__)
                value = None
            if value is not None:
                value = value[:-1] if value.endswith("\n") else value
                value = value[:-1] if value.endswith("\r") else value
                if value:
                    return value
        where = f"{variable} or {self.directory / name}" if self.directory is not None else variable
        raise SecretNotFound(f"Secret {name!r} is not configured: set {where}.")
