"""X-Notion-Signature: HMAC-SHA256 of the raw body, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac

from shared.sync.signature import sign, signature_matches
from tests.shared.sync.support import raw_fixture

TOKEN = "secret_abc"


def test_signature_is_notions_format():
    body = raw_fixture("page_created.json")
    expected = "sha256=" + hmac.new(TOKEN.encode(), body, hashlib.sha256).hexdigest()
    assert sign(body, TOKEN) == expected
    assert signature_matches(body, expected, TOKEN)


def test_hex_case_and_surrounding_space_do_not_matter():
    body = b'{"a":1}'
    header = sign(body, TOKEN)
    assert signature_matches(body, " " + header.upper().replace("SHA256=", "sha256=") + " ", TOKEN)


def test_any_change_of_body_or_key_fails():
    body = raw_fixture("page_created.json")
    header = sign(body, TOKEN)
    assert not signature_matches(body + b" ", header, TOKEN)
    assert not signature_matches(body, header, TOKEN + "x")
    assert not signature_matches(body, header, "")
    assert not signature_matches(body, None, TOKEN)
    assert not signature_matches(body, "sha256=\u00e9", TOKEN)
