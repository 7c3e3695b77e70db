"""A local stand-in for api.notion.com that speaks Notion's real protocol (2025-09-03).

For tests and the local stack: OAuth (consent page, token with rotating refresh tokens, revoke,
introspect), users/me, search, databases and data sources (create, retrieve, update, query with
filters, sorts and pagination), pages (create, retrieve, update, trash), block children (list,
append), block delete, and signed outgoing webhooks — with Notion's JSON shapes and error bodies,
a seeded demo workspace, and fault injection (429 with Retry-After, 529, 5xx, latency).

    sandbox = NotionSandbox(client_id="id", client_secret="secret")
    with SandboxServer(sandbox) as server:      # 127.0.0.1 on a free port
        ...  # point NotionGateway(base_url=server.url) and the OAuth flow at it

or ``python -m shared.notion.sandbox --port 8090 --client-id X --client-secret Y``.
The planner's client modules never import this package.
"""

from shared.notion.sandbox.server import SandboxServer
from shared.notion.sandbox.state import NotionSandbox
from shared.notion.sandbox.webhooks import SIGNATURE_HEADER, Delivery, sign

__all__ = ["SIGNATURE_HEADER", "Delivery", "NotionSandbox", "SandboxServer", "sign"]
