"""The IANA timezones the settings and onboarding forms offer (from the ``tzdata`` database)."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import available_timezones

# Zones kept for backwards compatibility or that are not places: valid, but clutter in a picker.
_LEGACY_PREFIXES = ("Etc/", "SystemV/", "US/", "Canada/", "Brazil/", "Chile/", "Mexico/")


@lru_cache(maxsize=1)
def timezone_choices() -> tuple[str, ...]:
    """Sorted IANA zone names of the form Region/City, plus UTC."""
    names = {name for name in available_timezones() if "/" in name and not name.startswith(_LEGACY_PREFIXES)}
    names.add("UTC")
    return tuple(sorted(names))


def is_offered(name: str) -> bool:
    return name in timezone_choices()
