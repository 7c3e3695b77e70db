"""``python -m bench [scenario ...]``: run benchmark scenarios (all by default).

Every scenario prints ratios against a baseline measured in the same run."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SCENARIOS = ["cold_start", "store_latency", "planning", "embeddings", "sync_requests", "memory_restore"]


def main(argv: list[str]) -> int:
    chosen = argv or SCENARIOS
    for name in chosen:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"bench.{name}":
                print(f"(scenario {name} not available)")
                continue
            raise
        module.run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
