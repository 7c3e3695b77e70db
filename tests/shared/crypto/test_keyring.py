from __future__ import annotations

import base64
import json
import re

import pytest

from shared.crypto.errors import KeyUnavailable
from shared.crypto.keyring import DEFAULT_KID, Keyring, generate_key, keyring_json, parse_keyring


def test_single_base64_key_becomes_the_default_kid():
    key = generate_key()
    ring = parse_keyring(key, secret_name="token-kek", key_length=32)
    assert ring.primary == DEFAULT_KID
    assert ring.primary_key == base64.b64decode(key)


def test_json_keyring_with_primary_and_old_keys():
    k1, k2 = generate_key(), generate_key()
    ring = parse_keyring(keyring_json("k2", {"k1": k1, "k2": k2}), secret_name="token-kek", key_length=32)
    assert ring.primary == "k2"
    assert ring.get("k1") == base64.b64decode(k1)
    assert ring.get("nope") is None


def test_urlsafe_and_unpadded_base64_are_accepted():
    raw = bytes(range(32))
    text = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    assert parse_keyring(text, secret_name="s", key_length=32).primary_key == raw


@pytest.mark.parametrize(
    "value",
    [
        "",
        "not base64 !!",
        base64.b64encode(b"short").decode(),
        "{not json",
        json.dumps({"keys": {}}),
        json.dumps({"primary": "k9", "keys": {"k1": generate_key()}}),
        json.dumps({"primary": "../x", "keys": {"../x": generate_key()}}),
        json.dumps({"primary": "k1", "keys": {"k1": 42}}),
    ],
)
def test_malformed_secrets_raise_key_unavailable_naming_the_secret_only(value):
    with pytest.raises(KeyUnavailable) as info:
        parse_keyring(value, secret_name="token-kek", key_length=32)
    assert "token-kek" in info.value.message
    assert not re.search(r"[A-Za-z0-9+/=]{20,}", info.value.message)  # no key material
    assert info.value.status == 500


def test_min_length_applies_without_exact_length():
    with pytest.raises(KeyUnavailable):
        parse_keyring(base64.b64encode(b"x" * 16).decode(), secret_name="session-keys")
    assert len(parse_keyring(generate_key(48), secret_name="session-keys").primary_key) == 48


def test_repr_never_shows_key_bytes():
    raw = b"\x01" * 32
    ring = Keyring(primary="a", keys={"a": raw})
    assert repr(raw) not in repr(ring)
    assert "kids=['a']" in repr(ring)
