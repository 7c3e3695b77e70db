"""Skip a test locally when an emulator is missing, but fail it on CI (CI=true).

Contract tests against the Firestore, GCS and Cloud Tasks emulators must never be skipped on CI:
a skipped contract test would let an adapter regress unnoticed.
"""

from __future__ import annotations

import os

import pytest


def on_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(reason: str) -> None:
    """Call from a fixture when a dependency cannot be started."""
    if on_ci():
        pytest.fail(f"required on CI but unavailable: {reason}", pytrace=False)
    pytest.skip(reason)
