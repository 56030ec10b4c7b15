"""Benchmark: the compiled scoring plan against the plain Fraction scorer, side by side.

Run: .venv/bin/python bench/zi_scoring.py [--count 10000] [--rules lke-2021] [--repeat 3]

Scores the same generated worksheets (bench/zi_bench.py's generator, parsed beforehand) with
`wbs.zi.scoring.evaluate` (the plan) and with tests/zi/reference.py (the old level-by-level
Fraction scorer, kept as the test oracle), checks they agree on every sheet's total and
predicate, and prints both, their ratio, and a bare baseline: adding as many Fractions as the
rule set has items, per sheet. Best of --repeat runs (CPU time of this process).
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from zi_bench import random_document

from tests.zi.reference import reference_evaluate
from wbs.zi.ruleset import get_rules
from wbs.zi.scoring import evaluate, parse_worksheet, result


def best_of(repeat: int, run: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        run()
        best = min(best, time.process_time() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--rules", default="lke-2021")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    rules = get_rules(args.rules)
    rng = random.Random(args.seed)
    documents = [random_document(rules, rng) for _ in range(args.count)]
    sheets = [parse_worksheet(doc, rules) for doc in documents]
    for ws in sheets:  # the plan and the oracle agree before anything is timed
        fast, slow = evaluate(rules, ws), reference_evaluate(rules, ws)
        assert (fast.total, fast.predicate) == (slow.total, slow.predicate)

    n_items = sum(1 for _ in rules.items())
    addends = [Fraction(rng.randint(0, 100), 100) for _ in range(n_items)]

    def bare() -> None:
        for _ws in sheets:
            total = Fraction(0)
            for value in addends:
                total += value

    def each(work: Callable[[Any], object], items: list[Any]) -> Callable[[], None]:
        def run() -> None:
            for item in items:  # one at a time, as a service scores them (nothing kept)
                work(item)

        return run

    plan = best_of(args.repeat, each(lambda ws: evaluate(rules, ws), sheets))
    old = best_of(args.repeat, each(lambda ws: reference_evaluate(rules, ws), sheets))
    floor = best_of(args.repeat, bare)
    parse = best_of(args.repeat, each(lambda doc: parse_worksheet(doc, rules), documents))
    as_json = best_of(args.repeat, each(lambda ws: result(evaluate(rules, ws)), sheets))

    print(f"python {platform.python_version()} on {platform.machine()}, rules {rules.id}")
    print(f"{args.count} worksheets, {n_items} items each, best of {args.repeat} (CPU s)")
    print(f"  plan (wbs.zi.scoring.evaluate): {plan:.3f} s  {args.count / plan:,.0f}/s")
    print(f"  reference Fraction scorer:      {old:.3f} s  {args.count / old:,.0f}/s")
    print(f"  bare: {n_items} Fraction additions: {floor:.3f} s")
    print(f"  ratio reference / plan: {old / plan:.1f}x; plan / bare: {plan / floor:.2f}")
    print(f"  around it: parse_worksheet {parse:.3f} s; evaluate + result() {as_json:.3f} s")


if __name__ == "__main__":
    main()
