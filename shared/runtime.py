"""Cold-start bootstrap shared by every function: settings, logging, Sentry — once per process."""

from __future__ import annotations

from functools import lru_cache

from shared.config import Settings, get_settings
from shared.logs import configure_logging
from shared.sentry import init_sentry


@lru_cache(maxsize=None)
def bootstrap(function: str) -> Settings:
    """Build the settings (refusing bad ones), install JSON logging and Sentry. Idempotent."""
    settings = get_settings()
    configure_logging(level=settings.log_level, project=settings.gcp_project)
    init_sentry(settings, function=function)
    return settings
