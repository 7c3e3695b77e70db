"""Sentry events reach the configured DSN with the error, and without any token or secret."""

from __future__ import annotations

import json

import flask
import pytest
import sentry_sdk

from shared.config import Settings
from shared.sentry import init_sentry, scrub_event
from shared.web import Router
from tests.support.sentry_collector import sentry_collector

NOTION_TOKEN = "ntn_4Xq9secretTOKENvalue1234567890"
REFRESH_TOKEN = "secret_RefreshTokenValueABCDEFGH123456"


@pytest.fixture
def collector():
    with sentry_collector() as running:
        yield running


def test_handler_error_reaches_sentry_without_tokens(collector):
    settings = Settings(sentry_dsn=collector.dsn, release="r-123", environment="test")
    assert init_sentry(settings, function="oauth")
    router = Router("oauth")

    @router.post("/callback")
    def callback(request, ctx):
        access_token = NOTION_TOKEN  # a local variable Sentry would capture
        raise RuntimeError(f"exchange failed for {access_token} / {REFRESH_TOKEN}")

    app = flask.Flask(__name__)
    with app.test_request_context("/callback?code=authcode123&state=xyz", method="POST",
                                  headers={"Authorization": f"Bearer {NOTION_TOKEN}", "Cookie": f"session={REFRESH_TOKEN}"},
                                  json={"refresh_token": REFRESH_TOKEN}):
        response = router.handle(flask.request)
    assert response.status_code == 500
    sentry_sdk.flush(timeout=10)
    assert collector.received.wait(10), "no envelope reached the local Sentry endpoint"
    events = collector.events()
    assert events, "the envelope holds no error event"
    event = events[0]
    assert event["release"] == "r-123" and event["environment"] == "test"
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    for secret in (NOTION_TOKEN, REFRESH_TOKEN, "authcode123"):
        assert secret not in collector.raw


def test_scrub_event_redacts_by_name_and_shape():
    event = {
        "request": {"headers": [["Authorization", "Bearer x"], ["Accept", "json"]], "cookies": {"s": "1"},
                    "data": {"a": 1}, "query_string": "code=1"},
        "extra": {"notion_token": "abc", "note": f"token is {NOTION_TOKEN}"},
        "user": {"email": "a@example.com"},
    }
    scrubbed = scrub_event(event)
    text = json.dumps(scrubbed)
    assert NOTION_TOKEN not in text and "abc" not in text and "a@example.com" not in text
    assert "cookies" not in scrubbed["request"] and scrubbed["request"]["query_string"] == "[redacted]"
    assert ["Accept", "json"] in scrubbed["request"]["headers"]
