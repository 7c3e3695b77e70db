import pytest

from shared.logs import parse_trace_header, scrub


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"X-Cloud-Trace-Context": "105445aa7843bc8bf206b12000100000/1;o=1"}, ("105445aa7843bc8bf206b12000100000", "1", True)),
        ({"X-Cloud-Trace-Context": "105445aa7843bc8bf206b12000100000"}, ("105445aa7843bc8bf206b12000100000", None, False)),
        ({"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}, ("4bf92f3577b34da6a3ce929d0e0e4736", str(0x00f067aa0ba902b7), True)),
        ({"X-Cloud-Trace-Context": "garbage"}, (None, None, False)),
        ({}, (None, None, False)),
    ],
)
def test_trace_header_parsing(headers, expected):
    assert parse_trace_header(headers) == expected


@pytest.mark.parametrize(
    "secret",
    ["secret_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "ntn_1234567890abcdefghij", "Bearer abc.def-ghi",
     "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ3cy0xMjMifQ.c2lnbmF0dXJl"],
)
def test_scrub_masks_credentials(secret):
    assert secret not in scrub(f"value={secret} end")


def test_tenant_ids_in_messages_are_logged_hashed():
    from shared.logs import hash_tenant

    tenant = "ws-0123456789abcdef0123456789abcdef"
    text = scrub(f"Notion rejected the access token of tenant {tenant}; refreshing it")
    assert tenant not in text and f"tenant:{hash_tenant(tenant)}" in text
