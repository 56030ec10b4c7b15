"""Benchmark: score N random LKE worksheets (parse + every level + predicate), then gap analyses.

Run: .venv/bin/python bench/zi_bench.py [--count 10000] [--rules lke-2021] [--gap 200]
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import time
from decimal import Decimal
from typing import Any

from wbs.zi.gap import analyse
from wbs.zi.ruleset import RuleSet, get_rules
from wbs.zi.scoring import evaluate, parse_worksheet, result


def random_document(rules: RuleSet, rng: random.Random) -> dict[str, Any]:
    """Random answers; a per-sheet quality biases them towards the best so predicates occur."""
    quality = rng.random() ** 0.3
    answers: dict[str, Any] = {}
    for _area, _indicator, item in rules.items():
        if rng.random() < 0.05 * (1 - quality):
            continue
        if item.scale is not None:
            best = rules.ranked_labels(item.scale)[0]
            pick = best if rng.random() < quality else rng.choice(list(rules.scales[item.scale]))
            answers[item.code] = pick
        else:
            answers[item.code] = {code: rng.randint(0, 60) for code in item.inputs or {}}
            if item.formula is not None and rng.random() < quality:
                for code in item.formula.numerator:
                    answers[item.code][code] = 200
                if item.formula.current:
                    answers[item.code][item.formula.current] = 0
    hasil: dict[str, Any] = {}
    for _group, ind in rules.hasil_indicators():
        if ind.scale is not None:
            best = rules.ranked_labels(ind.scale)[0]
            pick = best if rng.random() < quality else rng.choice(list(rules.scales[ind.scale]))
            hasil[ind.code] = pick
        else:
            assert ind.input is not None
            low, high = int(ind.input.min * 100), int(ind.input.max * 100)
            low = max(low, int(high * quality))
            hasil[ind.code] = Decimal(rng.randint(low, high)) / 100
    return {"rules": rules.id, "unit": "bench", "year": 2026, "answers": answers, "hasil": hasil}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--rules", default="lke-2021")
    parser.add_argument("--gap", type=int, default=200, help="gap analyses to time")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    rules = get_rules(args.rules)
    rng = random.Random(args.seed)
    documents = [random_document(rules, rng) for _ in range(args.count)]

    start = time.perf_counter()
    predicates: dict[str | None, int] = {}
    per_sheet: list[float] = []
    for doc in documents:
        t0 = time.perf_counter()
        ev = evaluate(rules, parse_worksheet(doc, rules))
        result(ev)
        per_sheet.append(time.perf_counter() - t0)
        predicates[ev.predicate] = predicates.get(ev.predicate, 0) + 1
    elapsed = time.perf_counter() - start

    gap_times: list[float] = []
    for doc in documents[: args.gap]:
        ws = parse_worksheet(doc, rules)
        ev = evaluate(rules, ws)
        t0 = time.perf_counter()
        analyse(rules, ws, ev)
        gap_times.append(time.perf_counter() - t0)

    per_sheet.sort()
    print(f"python {platform.python_version()} on {platform.machine()}, rules {rules.id}")
    print(
        f"scored {args.count} worksheets (parse + score + JSON result) in {elapsed:.2f} s: "
        f"{args.count / elapsed:.0f} worksheets/s"
    )
    print(
        f"per worksheet: median {statistics.median(per_sheet) * 1000:.2f} ms, "
        f"p99 {per_sheet[int(len(per_sheet) * 0.99)] * 1000:.2f} ms"
    )
    print(f"predicates: {dict(sorted(predicates.items(), key=lambda kv: str(kv[0])))}")
    if gap_times:
        gap_times.sort()
        print(
            f"gap analysis ({len(gap_times)} worksheets, both predicates): median "
            f"{statistics.median(gap_times) * 1000:.1f} ms, max {gap_times[-1] * 1000:.1f} ms"
        )


if __name__ == "__main__":
    main()
