"""The notification webhook's SSRF defences, with a fake resolver and HTTP faked at the transport."""

from __future__ import annotations

import json

import httpx
import pytest

from shared.agent.errors import NotificationFailed, UnsafeWebhookUrl
from shared.agent.notify import WebhookNotifier, vet_url

PUBLIC = "93.184.216.34"
PUBLIC_2 = "151.101.1.69"


class FakeResolver:
    """Answers from a table; records every lookup. A list of answers is served one per lookup."""

    def __init__(self, table: dict[str, list[str] | list[list[str]]]) -> None:
        self.table = table
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        answer = self.table.get(host, [])
        if answer and isinstance(answer[0], list):
            return answer.pop(0) if len(answer) > 1 else answer[0]
        return list(answer)


class Recorder:
    """An httpx transport that answers from a script and keeps the requests."""

    def __init__(self, *responses: httpx.Response) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.responses.pop(0) if self.responses else httpx.Response(200)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


RESOLVER_TABLE = {
    "hooks.slack.com": [PUBLIC],
    "hooks2.example.com": [PUBLIC_2],
    "intranet.example.com": ["10.0.0.8"],
    "loop.example.com": ["127.0.0.1"],
    "linklocal.example.com": ["169.254.10.20"],
    "metadata.example.com": ["169.254.169.254"],
    "aws6.example.com": ["fd00:ec2::254"],
    "mapped.example.com": ["::ffff:10.1.2.3"],
    "cgnat.example.com": ["100.64.3.4"],
    "mixed.example.com": [PUBLIC, "192.168.1.10"],
    "v6loop.example.com": ["::1"],
}


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.slack.com/services/x", "only https"),
        ("ftp://hooks.slack.com/x", "only https"),
        ("https://user:pw@hooks.slack.com/x", "credentials"),
        ("https://hooks.slack.com:22/x", "ports"),
        ("https://localhost/x", "internal"),
        ("https://api.localhost/x", "internal"),
        ("https://metadata.google.internal/computeMetadata/v1/", "internal"),
        ("https://metadata/computeMetadata/v1/", "internal"),
        ("https://127.0.0.1/x", "loopback"),
        ("https://[::1]/x", "loopback"),
        ("https://2130706433/x", "loopback"),  # 127.0.0.1 as one number
        ("https://0x7f.1/x", "loopback"),
        ("https://0177.0.0.1/x", "loopback"),
        ("https://10.0.0.1/x", "private"),
        ("https://192.168.0.1/x", "private"),
        ("https://172.16.5.4/x", "private"),
        ("https://169.254.169.254/latest/meta-data/", "link-local"),
        ("https://[fd00:ec2::254]/latest/meta-data/", "private"),
        ("https://[fe80::1]/x", "link-local"),
        ("https://100.64.0.1/x", "non-public"),
        ("https://224.0.0.1/x", "multicast"),
        ("https://0.0.0.0/x", "unspecified"),
        ("https://[::ffff:127.0.0.1]/x", "loopback"),
        ("https://[2002:a9fe:a9fe::]/x", "link-local"),  # 6to4 around 169.254.169.254
        ("https://intranet.example.com/hook", "private"),
        ("https://loop.example.com/hook", "loopback"),
        ("https://linklocal.example.com/hook", "link-local"),
        ("https://metadata.example.com/hook", "metadata"),
        ("https://aws6.example.com/hook", "private"),
        ("https://mapped.example.com/hook", "private"),
        ("https://cgnat.example.com/hook", "non-public"),
        ("https://mixed.example.com/hook", "private"),  # one bad address refuses the name
        ("https://v6loop.example.com/hook", "loopback"),
        ("https://nowhere.example.com/hook", "does not resolve"),
        ("not a url", "only https"),
        ("", "not a URL"),
    ],
)
def test_refused_urls(url, reason):
    with pytest.raises(UnsafeWebhookUrl) as caught:
        vet_url(url, FakeResolver(RESOLVER_TABLE))
    assert reason in caught.value.message
    assert caught.value.field == "webhook_url"
    # The message never repeats the address or the URL.
    for secret in ("10.0.0.8", "169.254.169.254", "127.0.0.1", "user:pw"):
        assert secret not in caught.value.message


def test_a_public_name_is_vetted_and_pinned():
    vetted = vet_url("https://hooks.slack.com/services/T0/B0/XyZ?x=1", FakeResolver(RESOLVER_TABLE))
    assert vetted.address == PUBLIC
    assert vetted.pinned_url() == f"https://{PUBLIC}:443/services/T0/B0/XyZ?x=1"
    assert vetted.host_header() == "hooks.slack.com"


async def test_send_connects_to_the_vetted_address_with_the_name_for_tls_and_host():
    recorder = Recorder(httpx.Response(200, text="ok"))
    notifier = WebhookNotifier(resolver=FakeResolver(RESOLVER_TABLE), transport=recorder.transport())
    delivered = await notifier.send("https://hooks.slack.com/services/T0/B0/XyZ", {"text": "Your plan"})
    assert delivered.status_code == 200 and delivered.hops == 0
    [request] = recorder.requests
    assert request.url.host == PUBLIC and request.url.path == "/services/T0/B0/XyZ"
    assert request.headers["Host"] == "hooks.slack.com"
    assert request.extensions["sni_hostname"] == "hooks.slack.com"  # certificate checked for the name
    assert json.loads(request.content) == {"text": "Your plan"}


async def test_dns_rebinding_cannot_move_the_connection():
    # First answer public, every later one loopback: only the first is ever used.
    resolver = FakeResolver({"rebind.example.com": [[PUBLIC], ["127.0.0.1"]]})
    recorder = Recorder(httpx.Response(204))
    notifier = WebhookNotifier(resolver=resolver, transport=recorder.transport())
    await notifier.send("https://rebind.example.com/hook", {"text": "hi"})
    assert resolver.lookups == ["rebind.example.com"]
    assert [r.url.host for r in recorder.requests] == [PUBLIC]
    with pytest.raises(UnsafeWebhookUrl):  # the next lookup, now loopback, is refused
        await notifier.send("https://rebind.example.com/hook", {"text": "hi"})
    assert len(recorder.requests) == 1


@pytest.mark.parametrize(
    "location",
    [
        "http://169.254.169.254/latest/meta-data/",
        "https://169.254.169.254/latest/meta-data/",
        "https://metadata.google.internal/computeMetadata/v1/",
        "https://intranet.example.com/admin",
        "https://loop.example.com/",
        "https://[fd00:ec2::254]/",
        "http://hooks2.example.com/plain-http",
    ],
)
async def test_redirects_to_refused_targets_are_not_followed(location):
    recorder = Recorder(httpx.Response(302, headers={"Location": location}))
    notifier = WebhookNotifier(resolver=FakeResolver(RESOLVER_TABLE), transport=recorder.transport())
    with pytest.raises(UnsafeWebhookUrl):
        await notifier.send("https://hooks.slack.com/services/x", {"text": "hi"})
    assert len(recorder.requests) == 1  # the refused hop was never contacted


async def test_a_redirect_to_a_public_host_is_vetted_and_followed():
    recorder = Recorder(httpx.Response(307, headers={"Location": "https://hooks2.example.com/moved"}),
                        httpx.Response(200))
    notifier = WebhookNotifier(resolver=FakeResolver(RESOLVER_TABLE), transport=recorder.transport())
    delivered = await notifier.send("https://hooks.slack.com/services/x", {"text": "hi"})
    assert delivered.hops == 1
    assert [(r.url.host, r.headers["Host"]) for r in recorder.requests] == [
        (PUBLIC, "hooks.slack.com"), (PUBLIC_2, "hooks2.example.com")]


async def test_too_many_redirects_fail():
    loop = httpx.Response(302, headers={"Location": "https://hooks.slack.com/again"})
    recorder = Recorder(*[loop] * 5)
    notifier = WebhookNotifier(resolver=FakeResolver(RESOLVER_TABLE), transport=recorder.transport(),
                               max_redirects=2)
    with pytest.raises(NotificationFailed):
        await notifier.send("https://hooks.slack.com/services/x", {"text": "hi"})
    assert len(recorder.requests) == 3


async def test_errors_and_refusals_of_the_endpoint(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # ignored: a proxy would undo the pinning
    recorder = Recorder(httpx.Response(500))
    notifier = WebhookNotifier(resolver=FakeResolver(RESOLVER_TABLE), transport=recorder.transport())
    with pytest.raises(NotificationFailed) as caught:
        await notifier.send("https://hooks.slack.com/services/x", {"text": "hi"})
    assert "500" in caught.value.message and len(recorder.requests) == 1

    def unreachable(request):
        raise httpx.ConnectError("refused")

    notifier = WebhookNotifier(resolver=FakeResolver(RESOLVER_TABLE), transport=httpx.MockTransport(unreachable))
    with pytest.raises(NotificationFailed):
        await notifier.send("https://hooks.slack.com/services/x", {"text": "hi"})
