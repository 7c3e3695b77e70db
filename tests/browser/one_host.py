"""The functions on one host, each under its own path, as Cloud Functions serves them on
``https://REGION-PROJECT.cloudfunctions.net/NAME``: ``/oauth/...`` reaches the oauth function and
``/web/...`` the dashboard, each receiving its paths WITHOUT the prefix. The Notion sandbox runs on
a port of its own (it is another origin in production too).

Run by the browser test in a process of its own (every function module reads its settings once
per process): ``python -m tests.browser.one_host --data-dir DIR``. It binds 127.0.0.1 on free
ports, prints ``UP <host origin> <sandbox URL>`` once it serves, and stops on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
from pathlib import Path

from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ("oauth", "agent", "sync", "usage", "web")
MOUNTED = ("oauth", "web")  # what the browser reaches; the others only need a URL
CLIENT_ID = "planner-one-host-client"
CLIENT_SECRET = "secret_OneHostClientSecret0123456789abcdef"


class Mounts:
    """A WSGI app whose mounted functions are set once the host's port, hence their URLs, is known."""

    def __init__(self) -> None:
        self.app = Response("Not found", status=404)

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.browser.one_host", description=__doc__)
    parser.add_argument("--data-dir", required=True, type=Path)
    args = parser.parse_args(argv)

    import functions_framework

    from shared.localstack.stack import ensure_local_secrets
    from shared.notion.sandbox import NotionSandbox, SandboxServer

    mounts = Mounts()
    host = make_server("127.0.0.1", 0, mounts)  # one request at a time: the SQLite store stays simple
    origin = f"http://127.0.0.1:{host.server_port}"
    urls = {name: f"{origin}/{name}" for name in FUNCTIONS}
    sandbox = SandboxServer(NotionSandbox(client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                                          redirect_uris=[urls["oauth"] + "/oauth/callback"])).start()
    ensure_local_secrets(args.data_dir)
    os.environ.update({
        "PLANNER_PROFILE": "local",
        "PLANNER_DATA_DIR": str(args.data_dir),
        "PLANNER_NOTION_API_BASE": sandbox.url,
        "PLANNER_NOTION_CLIENT_ID": CLIENT_ID,
        "PLANNER_NOTION_CLIENT_SECRET": CLIENT_SECRET,
        "PLANNER_FUNCTION_URLS": json.dumps(urls),
        "PLANNER_PUBLIC_BASE_URL": urls["web"],
        "ANONYMIZED_TELEMETRY": "False",
    })
    apps = {f"/{name}": functions_framework.create_app(target=name, source=str(ROOT / "functions" / name / "main.py"))
            for name in MOUNTED}
    mounts.app = DispatcherMiddleware(mounts.app, apps)  # strips "/web" from the path, as Cloud Functions does

    def stop(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print(f"UP {origin} {sandbox.url}", flush=True)
    try:
        host.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        host.server_close()
        sandbox.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
