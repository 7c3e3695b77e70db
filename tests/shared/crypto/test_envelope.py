"""TokenCipher against the real SQLite document store."""

from __future__ import annotations

import base64
import json
import logging
import threading

import pytest

from shared.crypto.datakey import DATA_KEY_PATH
from shared.crypto.envelope import TokenCipher
from shared.crypto.errors import CryptoError, DecryptionError, KeyUnavailable
from shared.crypto.keyring import generate_key, keyring_json
from shared.secrets.base import SecretNotFound
from tests.shared.crypto.fakes import CachingSecrets, RacingStore

A = "ws-" + "a" * 32
B = "ws-" + "b" * 32
# Shaped like a real Notion OAuth access token.
TOKEN = "ntn_" + "4815162342abcdefghijklmnopqrstuvwxyzABCDEFGH"
PURPOSE = "notion.access_token"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def cipher(store, secrets) -> TokenCipher:
    return TokenCipher(store, secrets)


def _flip(b64: str, index: int = 0) -> str:
    raw = bytearray(base64.b64decode(b64))
    raw[index] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


# --- round trip ---------------------------------------------------------------------------------
@pytest.mark.parametrize("plaintext", [TOKEN, "", "ünïcødé ✓", "x" * 10_000])
def test_round_trip(cipher, plaintext):
    envelope = cipher.encrypt(plaintext, tenant_id=A, purpose=PURPOSE)
    assert cipher.decrypt(envelope, tenant_id=A, purpose=PURPOSE) == plaintext


def test_envelope_is_json_and_survives_the_store(cipher, store):
    envelope = cipher.encrypt(TOKEN, tenant_id=A, purpose=PURPOSE)
    assert set(envelope) == {"v", "alg", "dek_id", "nonce", "ciphertext"}
    assert envelope["v"] == 1 and envelope["alg"] == "A256GCM"
    store.set("connections/notion", {"access_token": json.loads(json.dumps(envelope))}, tenant_id=A)
    stored = store.get("connections/notion", tenant_id=A)["access_token"]
    fresh = TokenCipher(store, CachingSecrets(dict(cipher._secrets.backend)))
    assert fresh.decrypt(stored, tenant_id=A, purpose=PURPOSE) == TOKEN


def test_each_encryption_uses_a_fresh_nonce_and_one_tenant_key(cipher):
    one = cipher.encrypt(TOKEN, tenant_id=A, purpose=PURPOSE)
    two = cipher.encrypt(TOKEN, tenant_id=A, purpose=PURPOSE)
    assert one["nonce"] != two["nonce"] and one["ciphertext"] != two["ciphertext"]
    assert one["dek_id"] == two["dek_id"]


def test_the_data_key_is_stored_only_wrapped(cipher, store, secrets):
    cipher.encrypt(TOKEN, tenant_id=A, purpose=PURPOSE)
    record = store.get(DATA_KEY_PATH, tenant_id=A)
    assert record["kek_id"] == "default" and record["version"] == 1
    dek = cipher._deks.get(A).key
    assert len(dek) == 32
    dumped = json.dumps(record, default=str)
    assert base64.b64encode(dek).decode() not in dumped
    assert dek.hex() not in dumped
    assert len(base64.b64decode(record["wrapped"])) == 32 + 16  # sealed key + GCM tag


# --- tampering, cross-tenant, cross-purpose ------------------------------------------------------
@pytest.mark.parametrize(
    "tamper",
    [
        lambda e: {**e, "nonce": _flip(e["nonce"])},
        lambda e: {**e, "ciphertext": _flip(e["ciphertext"])},
        lambda e: {**e, "ciphertext": _flip(e["ciphertext"], -1)},  # the tag
        lambda e: {**e, "ciphertext": e["ciphertext"][:-8]},
        lambda e: {**e, "dek_id": "0" * 32},
        lambda e: {**e, "v": 2},
        lambda e: {**e, "alg": "none"},
        lambda e: {k: v for k, v in e.items() if k != "nonce"},
        lambda e: {**e, "nonce": "***"},
        lambda e: "not an envelope",
        lambda e: {**e, "nonce": base64.b64encode(b"short").decode()},
    ],
)
def test_tampered_envelopes_fail(cipher, tamper):
    envelope = cipher.encrypt(TOKEN, tenant_id=A, purpose=PURPOSE)
    with pytest.raises(DecryptionError) as info:
        cipher.decrypt(tamper(envelope), tenant_id=A, purpose=PURPOSE)
    assert info.value.status == 500
    assert TOKEN not in str(info.value)


def test_a_ciphertext_copied_to_another_tenant_fails(cipher):
    envelope = cipher.encrypt(TOKEN, tenant_id=A, purpose=PURPOSE)
    cipher.encrypt("b's own", tenant_id=B, purpose=PURPOSE)  # B has a key of its own
    with pytest.raises(DecryptionError):
        cipher.decrypt(envelope, tenant_id=B, purpose=PURPOSE)


def test_a_ciphertext_moved_to_another_tenant_with_its_key_record_fails(cipher, store):
    """Even copying A's wrapped data key into B does not help: the wrap is bound to the tenant."""
    envelope = cipher.encrypt(TOKEN, tenant_id=A, purpose=PURPOSE)
    store.set(DATA_KEY_PATH, store.get(DATA_KEY_PATH, tenant_id=A), tenant_id=B)
    fresh = TokenCipher(store, CachingSecrets(dict(cipher._secrets.backend)))
    with pytest.raises(KeyUnavailable):
        fresh.decrypt(envelope, tenant_id=B, purpose=PURPOSE)


def test_a_ciphertext_moved_to_another_field_fails(cipher):
    envelope = cipher.encrypt(TOKEN, tenant_id=A, purpose="notion.access_token")
    with pytest.raises(DecryptionError):
        cipher.decrypt(envelope, tenant_id=A, purpose="notion.refresh_token")


@pytest.mark.parametrize("purpose", ["", "Has Space", "x" * 80, None])
def test_invalid_purpose_is_refused(cipher, purpose):
    with pytest.raises(CryptoError):
        cipher.encrypt(TOKEN, tenant_id=A, purpose=purpose)


def test_invalid_tenant_is_refused(cipher):
    with pytest.raises(Exception) as info:
        cipher.encrypt(TOKEN, tenant_id="../evil", purpose=PURPOSE)
    assert info.value.code == "invalid_tenant"


# --- destroying the key --------------------------------------------------------------------------
def test_destroy_makes_every_ciphertext_unreadable(cipher, store, secrets):
    access = cipher.encrypt(TOKEN, tenant_id=A, purpose="notion.access_token")
    refresh = cipher.encrypt("refresh-" + TOKEN, tenant_id=A, purpose="notion.refresh_token")
    other = cipher.encrypt(TOKEN, tenant_id=B, purpose=PURPOSE)
    cipher.destroy_tenant_key(tenant_id=A)
    assert store.get(DATA_KEY_PATH, tenant_id=A) is None
    for envelope, purpose in ((access, "notion.access_token"), (refresh, "notion.refresh_token")):
        with pytest.raises(DecryptionError):
            cipher.decrypt(envelope, tenant_id=A, purpose=purpose)
        with pytest.raises(DecryptionError):
            TokenCipher(store, CachingSecrets(dict(secrets.backend))).decrypt(envelope, tenant_id=A, purpose=purpose)
    # A new key for the same tenant does not resurrect old ciphertexts; other tenants are untouched.
    renewed = cipher.encrypt("new", tenant_id=A, purpose=PURPOSE)
    assert renewed["dek_id"] != access["dek_id"]
    with pytest.raises(DecryptionError):
        cipher.decrypt(access, tenant_id=A, purpose="notion.access_token")
    assert cipher.decrypt(renewed, tenant_id=A, purpose=PURPOSE) == "new"
    assert cipher.decrypt(other, tenant_id=B, purpose=PURPOSE) == TOKEN


def test_a_key_destroyed_elsewhere_stops_working_here_when_the_cache_expires(store, secrets):
    clock = Clock()
    here = TokenCipher(store, secrets, cache_seconds=60, clock=clock)
    envelope = here.encrypt(TOKEN, tenant_id=A, purpose=PURPOSE)
    TokenCipher(store, secrets).destroy_tenant_key(tenant_id=A)
    clock.now += 59
    assert here.decrypt(envelope, tenant_id=A, purpose=PURPOSE) == TOKEN  # bounded staleness
    clock.now += 1
    with pytest.raises(DecryptionError):
        here.decrypt(envelope, tenant_id=A, purpose=PURPOSE)


# --- KEK rotation ----------------------------------------------------------------------------------
def test_kek_rotation_old_ciphertexts_open_and_rewrap_moves_to_the_new_kek(store, kek_b64):
    secrets = CachingSecrets({"token-kek": keyring_json("k1", {"k1": kek_b64})})
    envelope = TokenCipher(store, secrets).encrypt(TOKEN, tenant_id=A, purpose=PURPOSE)
    assert store.get(DATA_KEY_PATH, tenant_id=A)["kek_id"] == "k1"

    k2 = generate_key()
    rotated = keyring_json("k2", {"k1": kek_b64, "k2": k2})
    after = CachingSecrets({"token-kek": rotated})
    assert TokenCipher(store, after).decrypt(envelope, tenant_id=A, purpose=PURPOSE) == TOKEN
    # New tenants get keys wrapped under the new primary straight away.
    TokenCipher(store, after).encrypt(TOKEN, tenant_id=B, purpose=PURPOSE)
    assert store.get(DATA_KEY_PATH, tenant_id=B)["kek_id"] == "k2"

    assert TokenCipher(store, after).rewrap_tenant_key(tenant_id=A) is True
    assert store.get(DATA_KEY_PATH, tenant_id=A)["kek_id"] == "k2"
    assert TokenCipher(store, after).rewrap_tenant_key(tenant_id=A) is False  # idempotent
    assert TokenCipher(store, after).rewrap_tenant_key(tenant_id="ws-" + "c" * 32) is False  # no key yet

    # k1 can now leave the keyring: the ciphertext (never rewritten) still opens.
    only_k2 = CachingSecrets({"token-kek": keyring_json("k2", {"k2": k2})})
    assert TokenCipher(store, only_k2).decrypt(envelope, tenant_id=A, purpose=PURPOSE) == TOKEN


def test_removing_a_kek_before_rewrapping_makes_keys_unavailable(store, kek_b64):
    envelope = TokenCipher(store, CachingSecrets({"token-kek": keyring_json("k1", {"k1": kek_b64})})).encrypt(
        TOKEN, tenant_id=A, purpose=PURPOSE
    )
    k2 = generate_key()
    with pytest.raises(KeyUnavailable) as info:
        TokenCipher(store, CachingSecrets({"token-kek": keyring_json("k2", {"k2": k2})})).decrypt(
            envelope, tenant_id=A, purpose=PURPOSE
        )
    assert "token-kek" in info.value.message and k2 not in info.value.message and kek_b64 not in info.value.message


def test_an_instance_with_a_stale_keyring_refreshes_once(store, kek_b64):
    # This instance cached the keyring before the rotation ...
    stale = CachingSecrets({"token-kek": keyring_json("k1", {"k1": kek_b64})})
    here = TokenCipher(store, stale, cache_seconds=0)
    envelope = here.encrypt(TOKEN, tenant_id=A, purpose=PURPOSE)
    # ... then the keyring rotated in Secret Manager and another instance rewrapped the key.
    k2 = generate_key()
    stale.backend["token-kek"] = keyring_json("k2", {"k1": kek_b64, "k2": k2})
    TokenCipher(store, CachingSecrets(dict(stale.backend))).rewrap_tenant_key(tenant_id=A)
    assert stale.refreshes == 0
    assert here.decrypt(envelope, tenant_id=A, purpose=PURPOSE) == TOKEN
    assert stale.refreshes == 1


def test_a_corrupted_key_record_is_reported_as_unavailable(cipher, store):
    envelope = cipher.encrypt(TOKEN, tenant_id=A, purpose=PURPOSE)
    record = store.get(DATA_KEY_PATH, tenant_id=A)
    store.set(DATA_KEY_PATH, {**record, "wrapped": _flip(record["wrapped"])}, tenant_id=A)
    fresh = TokenCipher(store, CachingSecrets(dict(cipher._secrets.backend)))
    with pytest.raises(KeyUnavailable):
        fresh.decrypt(envelope, tenant_id=A, purpose=PURPOSE)
    store.set(DATA_KEY_PATH, {"version": 1}, tenant_id=A)
    with pytest.raises(KeyUnavailable):
        fresh.decrypt(envelope, tenant_id=A, purpose=PURPOSE)


def test_missing_or_malformed_kek_secret(store):
    with pytest.raises(SecretNotFound):
        TokenCipher(store, CachingSecrets({})).encrypt(TOKEN, tenant_id=A, purpose=PURPOSE)
    with pytest.raises(KeyUnavailable) as info:
        TokenCipher(store, CachingSecrets({"token-kek": "dev"})).encrypt(TOKEN, tenant_id=A, purpose=PURPOSE)
    assert "token-kek" in info.value.message and "dev" not in info.value.message.replace("token-kek", "")
    assert store.get(DATA_KEY_PATH, tenant_id=A) is None  # nothing half-created


# --- concurrency -----------------------------------------------------------------------------------
def test_concurrent_first_use_creates_exactly_one_data_key(store, secrets):
    racing = RacingStore(store, path=DATA_KEY_PATH, parties=2)
    envelopes: dict[int, dict] = {}
    errors: list[BaseException] = []

    def first_use(i: int) -> None:
        try:
            # Separate instances: separate caches, as on two function instances.
            envelopes[i] = TokenCipher(racing, CachingSecrets(dict(secrets.backend))).encrypt(
                f"token-{i}", tenant_id=A, purpose=PURPOSE
            )
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=first_use, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert racing.creates == 2  # both saw no key and tried to create one ...
    assert envelopes[0]["dek_id"] == envelopes[1]["dek_id"]  # ... and both use the winner's
    keys = [doc for doc in store.query("keys", tenant_id=A)]
    assert len(keys) == 1
    reader = TokenCipher(store, CachingSecrets(dict(secrets.backend)))
    assert [reader.decrypt(envelopes[i], tenant_id=A, purpose=PURPOSE) for i in range(2)] == ["token-0", "token-1"]


# --- nothing in the clear ----------------------------------------------------------------------------
def test_no_plaintext_in_the_store_file_the_export_or_the_logs(store, db_path, secrets, caplog):
    caplog.set_level(logging.DEBUG)
    cipher = TokenCipher(store, secrets)
    refresh_token = "nrt_" + "9" * 20 + "refreshsecretvalue"
    store.set(
        "connections/notion",
        {
            "access_token": cipher.encrypt(TOKEN, tenant_id=A, purpose="notion.access_token"),
            "refresh_token": cipher.encrypt(refresh_token, tenant_id=A, purpose="notion.refresh_token"),
        },
        tenant_id=A,
    )
    dek = cipher._deks.get(A).key
    exported = json.dumps(store.export_tenant(tenant_id=A), default=str)
    assert "connections/notion" in exported and "keys/data" in exported  # the export is real
    store.close()
    raw = b"".join(p.read_bytes() for p in db_path.parent.iterdir() if p.name.startswith(db_path.name))
    assert b"ciphertext" in raw and b"wrapped" in raw  # the documents really are in these bytes
    kek = base64.b64decode(secrets.backend["token-kek"])
    for secret in (TOKEN.encode(), refresh_token.encode(), dek, base64.b64encode(dek), kek, secrets.backend["token-kek"].encode()):
        assert secret not in raw
        assert secret.decode("latin-1") not in exported
    logged = "\n".join(record.getMessage() + repr(record.__dict__) for record in caplog.records)
    assert caplog.records  # key creation is logged ...
    assert TOKEN not in logged and refresh_token not in logged  # ... without any secret
    assert base64.b64encode(dek).decode() not in logged


# --- with the local profile's real secrets adapter --------------------------------------------------
def test_with_the_env_file_secret_store_and_a_rotated_keyring_file(store, tmp_path):
    from shared.secrets.local import EnvFileSecretStore

    folder = tmp_path / "secrets"
    folder.mkdir()
    k1 = generate_key()
    (folder / "token-kek").write_text(k1 + "\n")
    local = EnvFileSecretStore(environ={}, directory=folder)
    cipher = TokenCipher(store, local, cache_seconds=0)
    envelope = cipher.encrypt(TOKEN, tenant_id=A, purpose=PURPOSE)

    k2 = generate_key()
    (folder / "token-kek").write_text(keyring_json("k2", {"default": k1, "k2": k2}) + "\n")
    assert cipher.rewrap_tenant_key(tenant_id=A) is True
    (folder / "token-kek").write_text(keyring_json("k2", {"k2": k2}))
    assert cipher.decrypt(envelope, tenant_id=A, purpose=PURPOSE) == TOKEN

    from_env = EnvFileSecretStore(environ={"PLANNER_SECRET_TOKEN_KEK": keyring_json("k2", {"k2": k2})})
    assert TokenCipher(store, from_env).decrypt(envelope, tenant_id=A, purpose=PURPOSE) == TOKEN
