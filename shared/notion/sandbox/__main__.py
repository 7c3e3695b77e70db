"""Run the Notion sandbox: ``python -m shared.notion.sandbox --port 8090 --client-id X --client-secret Y``."""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from shared.notion.sandbox.server import SandboxServer
from shared.notion.sandbox.state import NotionSandbox

logger = logging.getLogger("shared.notion.sandbox")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.notion.sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1; keep it local)")
    parser.add_argument("--port", type=int, default=8090, help="port (0 picks a free one)")
    parser.add_argument("--client-id", required=True, help="the OAuth client id the platform uses")
    parser.add_argument("--client-secret", required=True, help="the OAuth client secret the platform uses")
    parser.add_argument("--redirect-uri", action="append", default=[], help="allowed redirect URI (repeatable; none = any)")
    parser.add_argument("--state-file", help="persist the sandbox state to this JSON file")
    parser.add_argument("--no-seed", action="store_true", help="start without the demo workspace")
    parser.add_argument("--token-ttl", type=float, help="access tokens expire after this many seconds")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)

    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    sandbox = NotionSandbox(
        client_id=args.client_id,
        client_secret=args.client_secret,
        redirect_uris=args.redirect_uri,
        state_file=args.state_file,
        seed=not args.no_seed,
        access_token_ttl=args.token_ttl,
    )
    server = SandboxServer(sandbox, host=args.host, port=args.port)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    logger.info("Notion sandbox listening on %s", server.url)
    for ws in sandbox.workspaces.values():
        logger.info("workspace %s: %s", ws.name, sandbox.describe(ws))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
