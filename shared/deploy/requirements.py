"""A function's own requirements, resolved against the platform's pinned set.

``functions/<fn>/requirements.txt`` lists what that function needs and nothing more (so oauth and
usage never ship chromadb or ortools). A line may name a package without a version
(``google-cloud-firestore``): it gets the specifier of the same package in the repository's
``requirements.txt``, the one place versions are pinned. ``-r other.txt`` lines are inlined
(relative to the including file). Anything else pip accepts but a bundle cannot carry (``-e``,
``-c``, index options) is refused, as is a package listed twice with different specifiers.
"""

from __future__ import annotations

import re
from pathlib import Path

from shared.deploy.errors import BundleError

_REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[A-Za-z0-9,._ -]*\])?\s*(.*)$")
_INCLUDE = re.compile(r"^(?:-r|--requirement)(?:\s+|=)(\S+)$")


def normalize(name: str) -> str:
    """PEP 503 name normalisation (``Google_Cloud.Firestore`` == ``google-cloud-firestore``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _lines(path: Path, seen: frozenset[Path] = frozenset()) -> list[tuple[str, Path]]:
    path = path.resolve()
    if path in seen:
        raise BundleError(f"{path.name} includes itself (-r loop).")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BundleError(f"{path} does not exist.") from None
    found: list[tuple[str, Path]] = []
    for raw in text.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not line:
            continue
        include = _INCLUDE.match(line)
        if include:
            found += _lines(path.parent / include.group(1), seen | {path})
        elif line.startswith("-"):
            raise BundleError(f"{path.name}: the option line {line.split()[0]!r} cannot go into a function bundle; "
                              "list package names only.")
        else:
            found.append((line, path))
    return found


def platform_pins(path: Path) -> dict[str, str]:
    """Normalised name -> full requirement line of the repository's requirements.txt."""
    pins = {}
    for line, source in _lines(path):
        match = _REQUIREMENT.match(line)
        if not match:
            raise BundleError(f"{source.name}: cannot read the requirement {line!r}.")
        pins[normalize(match.group(1))] = line
    return pins


def resolve(function_file: Path, platform_file: Path) -> list[str]:
    """The function's requirement lines, each with a version specifier."""
    pins = platform_pins(platform_file)
    chosen: dict[str, str] = {}
    for line, source in _lines(function_file):
        match = _REQUIREMENT.match(line)
        if not match:
            raise BundleError(f"{source.name}: cannot read the requirement {line!r}.")
        name, extras, rest = match.group(1), match.group(2) or "", match.group(3).strip()
        key = normalize(name)
        if not rest:
            pinned = pins.get(key)
            if pinned is None:
                raise BundleError(f"{source.name}: {name} has no version here and is not in {platform_file.name}; "
                                  f"add it to {platform_file.name} (the pinned set) or give a version.")
            pin = _REQUIREMENT.match(pinned)
            line = f"{name}{extras}{pin.group(3).strip()}" if pin else pinned
        if key in chosen and chosen[key] != line:
            raise BundleError(f"{source.name}: {name} is listed twice with different versions "
                              f"({chosen[key]!r} and {line!r}).")
        chosen[key] = line
    if not chosen:
        raise BundleError(f"{function_file} lists no requirements.")
    return list(chosen.values())
