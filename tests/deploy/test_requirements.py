"""A function's requirements are its own list, with versions from the platform's pinned set."""

from __future__ import annotations

import pytest

from shared.deploy.errors import BundleError
from shared.deploy.requirements import normalize, resolve
from tests.deploy.conftest import ROOT

PLATFORM = "# pinned\nGoogle_Cloud.Firestore~=2.21\nhttpx~=0.28  # comment\nsentry-sdk~=2.42\n"


@pytest.fixture
def files(tmp_path):
    (tmp_path / "requirements.txt").write_text(PLATFORM)
    folder = tmp_path / "functions" / "fn"
    folder.mkdir(parents=True)
    return tmp_path, folder / "requirements.txt"


def test_names_without_versions_take_the_platform_pin(files):
    root, own = files
    own.write_text("google-cloud-firestore\nhttpx[http2]\nsentry-sdk>=2.0\n")
    assert resolve(own, root / "requirements.txt") == ["google-cloud-firestore~=2.21", "httpx[http2]~=0.28",
                                                       "sentry-sdk>=2.0"]


def test_included_files_are_inlined(files):
    root, own = files
    (own.parent / "common.txt").write_text("httpx\n")
    own.write_text("-r common.txt\nsentry-sdk\n")
    assert resolve(own, root / "requirements.txt") == ["httpx~=0.28", "sentry-sdk~=2.42"]


@pytest.mark.parametrize("content, says", [
    ("-e ../../shared\n", "cannot go into a function bundle"),
    ("--index-url https://example.invalid\n", "cannot go into a function bundle"),
    ("leftpad\n", "leftpad has no version here"),
    ("httpx~=0.28\nhttpx~=0.27\n", "listed twice"),
    ("# nothing\n", "lists no requirements"),
])
def test_what_a_bundle_cannot_carry_is_refused_with_the_reason(files, content, says):
    root, own = files
    own.write_text(content)
    with pytest.raises(BundleError, match=says):
        resolve(own, root / "requirements.txt")


def test_every_function_of_the_repository_resolves_against_the_real_pins():
    for own in sorted((ROOT / "functions").glob("*/requirements.txt")):
        lines = resolve(own, ROOT / "requirements.txt")
        assert lines and all(any(op in line for op in ("~=", "==", ">=")) for line in lines), own
        names = {normalize(line.split("~")[0].split(">")[0].split("=")[0].split("[")[0]) for line in lines}
        assert "functions-framework" in names, own
