"""``python -m shared.localstack``: run the whole platform locally until Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path

from shared.localstack.stack import ROOT, LocalStack, StackConfig
from shared.logs import configure_logging


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the planning agent locally (no cloud account needed).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--base-port", type=int, default=8081, help="first function port (default 8081)")
    parser.add_argument("--data-dir", type=Path, default=ROOT / ".local")
    parser.add_argument("--tick-seconds", type=float, default=None,
                        help="fire every scheduler job every N seconds instead of on its cron schedule")
    parser.add_argument("--real-notion", action="store_true",
                        help="talk to the Notion named by PLANNER_NOTION_* instead of the local sandbox")
    args = parser.parse_args(argv)

    configure_logging(level="INFO")
    stack = LocalStack(StackConfig(host=args.host, base_port=args.base_port, data_dir=args.data_dir,
                                   tick_seconds=args.tick_seconds, sandbox=not args.real_notion))
    stop = {"requested": False}

    def request_stop(signum, frame):  # noqa: ARG001 - signal handler signature
        stop["requested"] = True
        stack.stop_event.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        urls = stack.start()
    except Exception as exc:
        logging.getLogger(__name__).error("local stack failed to start: %s", exc)
        stack.stop()
        return 1
    lines = ["", "Local stack is up (profile=local, data in %s):" % args.data_dir]
    lines += [f"  {name:<6} {url}   e.g. curl {url}/healthz" for name, url in urls.items()]
    if not args.real_notion:
        lines += [f"  notion {stack.config.sandbox_url}   the Notion sandbox (demo workspace; consent page at sign-in)"]
    if "web" in urls:
        lines += [f"Open {urls['web']} and sign in with Notion."]
    else:
        lines += [f"Sign in: open {urls['oauth']}/oauth/start"]
    lines += ["  task dispatcher: running;  scheduler tick: " + (f"every {args.tick_seconds:g} s" if args.tick_seconds else "cron schedule (infra/scheduler.json)"),
              "Press Ctrl-C to stop.", ""]
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
    while not stack.stop_event.wait(0.5):
        for name, process in stack.processes.items():
            if process.poll() is not None:
                logging.getLogger(__name__).error("%s exited with code %s; stopping", name, process.returncode)
                stack.stop_event.set()
    stack.stop()
    sys.stdout.write("Local stack stopped.\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
