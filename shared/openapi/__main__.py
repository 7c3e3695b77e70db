"""``python -m shared.openapi``: write docs/openapi/{function}.json; ``--check``: fail if they differ."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from shared.openapi import FUNCTIONS, document_text

ROOT = Path(__file__).resolve().parents[2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.openapi", description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare instead of writing; exit 1 on a difference")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "openapi")
    args = parser.parse_args(argv)
    stale = []
    for function in FUNCTIONS:
        path = args.out / f"{function}.json"
        text = document_text(function)
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if stale:
        sys.stderr.write("out of date (run python -m shared.openapi): " + ", ".join(stale) + "\n")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
