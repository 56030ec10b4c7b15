"""Summarise py-spy collapsed stacks (`py-spy record --format raw`, as bench/load.py writes).

    .venv/bin/python bench/stacks.py PROFILE [--top 25]

Prints the share of samples (CPU, with --nonblocking and without --idle: time on CPU) by
component, where a sample's component is that of its innermost frame, and by wbs function on
the stack (inclusive), plus the hottest innermost frames.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^:()]+)(?::\d+)?\)$")
COMPONENTS = (
    ("psycopg", "psycopg (driver)"),
    ("sqlalchemy", "SQLAlchemy"),
    ("pydantic", "pydantic"),
    ("cryptography", "cryptography (signatures, hashes)"),
    ("crypto/", "crypto/ (wbs library)"),
    ("uvicorn", "uvicorn"),
    ("h11", "h11 (HTTP parsing)"),
    ("starlette", "Starlette"),
    ("fastapi", "FastAPI"),
    ("json", "json"),
    ("asyncio", "asyncio"),
    ("wbs/", "wbs/ (own code)"),
)


def component(path: str) -> str:
    for needle, name in COMPONENTS:
        if needle in path:
            return name
    return "other (" + path.rsplit("/", 1)[-1] + ")"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    total = 0
    leaves: Counter[str] = Counter()
    parts: Counter[str] = Counter()
    wbs_inclusive: Counter[str] = Counter()
    for line in args.profile.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [f for f in stack.split(";") if not f.startswith("process ")]
        if not frames:
            continue
        total += count
        leaf = FRAME.match(frames[-1])
        leaves[frames[-1]] += count
        parts[component(leaf.group("file") if leaf else frames[-1])] += count
        seen = set()
        for frame in frames:
            found = FRAME.match(frame)
            if found and found.group("file").startswith("wbs/") and frame not in seen:
                seen.add(frame)
                wbs_inclusive[f"{found.group('func')} ({found.group('file')})"] += count
    print(f"{total} samples")
    print("\nby component of the innermost frame:")
    for name, count in parts.most_common():
        print(f"  {100 * count / total:5.1f}%  {name}")
    print("\nwbs functions on the stack (inclusive):")
    for name, count in wbs_inclusive.most_common(args.top):
        print(f"  {100 * count / total:5.1f}%  {name}")
    print("\nhottest innermost frames:")
    for name, count in leaves.most_common(args.top):
        print(f"  {100 * count / total:5.1f}%  {name}")


if __name__ == "__main__":
    main()
