"""Repository-wide test configuration: the repo root on sys.path, a clean settings cache."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


@pytest.fixture(autouse=True)
def _fresh_settings(monkeypatch):
    from shared.config import reset_settings_cache

    reset_settings_cache()
    yield
    reset_settings_cache()
