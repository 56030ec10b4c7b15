"""`wbs zi`: LKE templates, scoring and export from the command line."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Annotated

import typer

from wbs.core.errors import DomainError
from wbs.zi import files, workbook
from wbs.zi.gap import analyse, gap_json
from wbs.zi.ruleset import PREDICATES, available, get_rules
from wbs.zi.scoring import Evaluation, dumps, evaluate, result, shown

app = typer.Typer(
    help="Zona Integritas (LKE): templat, skor, ekspor / template, score, export",
    no_args_is_help=True,
)

FileArg = Annotated[
    Path,
    typer.Argument(
        exists=True, dir_okay=False, readable=True, help="answers: .yaml, .json or .xlsx"
    ),
]
OutOpt = Annotated[Path, typer.Option("-o", "--output", dir_okay=False, help="output .xlsx")]


def _fail(exc: DomainError) -> typer.Exit:
    typer.echo(f"galat: {exc.text_id}\nerror: {exc.text_en}", err=True)
    return typer.Exit(1)


def _f(value: Fraction | Decimal | None) -> str:
    return shown(value)


def _m(value: Decimal | None) -> str:
    """A minimum as written in the rules (never rounded: 2.625 stays 2.625)."""
    if value is None:
        return "-"
    return shown(value) if value == value.quantize(Decimal("0.01")) else str(value)


def table(ev: Evaluation) -> str:
    """A readable score table with minimums, the predicate and what is missing."""
    rules = get_rules(ev.rules)
    lines = [rules.title, f"Unit: {ev.unit or '-'}   Tahun/year: {ev.year or '-'}", ""]
    head = f"{'Kode':<11}{'Uraian':<48}{'Skor':>8}{'Bobot':>8}" + "".join(
        f"{'Min ' + p:>10}" for p in PREDICATES
    )
    lines += [head, "-" * len(head)]

    def row(
        code: str,
        name: str,
        score: Fraction,
        weight: Decimal,
        minimum: dict[str, Decimal] | None,
        indent: int = 0,
    ) -> None:
        label = (" " * indent + name)[:46]
        mins = "".join(f"{_m((minimum or {}).get(p)):>10}" for p in PREDICATES)
        lines.append(f"{code:<11}{label:<48}{_f(score):>8}{_f(weight):>8}{mins}")

    row(
        "pengungkit", "Pengungkit", ev.pengungkit, rules.pengungkit.weight, rules.pengungkit.minimum
    )
    for part in rules.pengungkit.parts:
        row(part.code, part.name, ev.parts[part.code], part.weight, part.minimum, 1)
        for area in part.areas:
            row(area.code, area.name, ev.areas[area.code], area.weight, area.minimum, 2)
            for ind in area.indicators:
                row(ind.code, ind.name, ev.indicators[ind.code], ind.weight, None, 3)
    row("hasil", "Hasil", ev.hasil, rules.hasil.weight, None)
    for group in rules.hasil.groups:
        row(group.code, group.name, ev.hasil_groups[group.code], group.weight, group.minimum, 1)
        for hind in group.indicators:
            row(hind.code, hind.name, ev.hasil_indicators[hind.code], hind.weight, hind.minimum, 2)
    totals = {p: r.total_minimum for p, r in rules.predicates.items() if r.total_minimum}
    row("total", "TOTAL", ev.total, rules.total_weight, totals or None)
    lines.append("")
    verdict = ev.predicate or "tidak ada / none"
    if not ev.predicate_determined:
        verdict += " (belum dapat ditentukan / undetermined)"
    lines.append(f"Predikat / predicate: {verdict}")
    for name in PREDICATES:
        for s in ev.shortfalls.get(name, []):
            lines.append(f"  kurang {name}: {s.code} {shown(s.score)} < {s.minimum}")
        if name in ev.undetermined:
            lines.append(f"  {name}: {ev.undetermined[name]}")
    if ev.unanswered:
        lines.append(
            f"Belum dijawab / unanswered ({len(ev.unanswered)}): " + ", ".join(ev.unanswered)
        )
    lines += [f"Peringatan / warning: {w}" for w in ev.warnings]
    return "\n".join(lines)


@app.command("rules")
def rules_cmd() -> None:
    """Daftar aturan LKE / list rule sets."""
    for rules_id in available():
        rules = get_rules(rules_id)
        items = sum(1 for _ in rules.items())
        known = all(r.total_minimum is not None for r in rules.predicates.values())
        state = "" if known else "  (ambang predikat tidak lengkap / thresholds incomplete)"
        typer.echo(f"{rules_id}\t{items} butir/items\t{rules.title}{state}")


@app.command("template")
def template_cmd(
    output: OutOpt,
    rules: Annotated[str, typer.Option("--rules", help="rule set id, e.g. lke-2021")] = "lke-2021",
) -> None:
    """Tulis lembar kerja kosong / write a fillable workbook."""
    try:
        book = workbook.template(get_rules(rules))
    except DomainError as exc:
        raise _fail(exc) from None
    book.save(output)
    typer.echo(f"{output}")


@app.command("score")
def score_cmd(
    file: FileArg,
    as_json: Annotated[bool, typer.Option("--json", help="the JSON result contract")] = False,
) -> None:
    """Hitung skor / score a worksheet."""
    try:
        ws = files.load(file)
        ev = evaluate(get_rules(ws.rules), ws)
    except DomainError as exc:
        raise _fail(exc) from None
    typer.echo(dumps(result(ev)) if as_json else table(ev))


@app.command("gap")
def gap_cmd(
    file: FileArg,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output")] = False,
    top: Annotated[int, typer.Option(help="how many item gains to list")] = 15,
) -> None:
    """Analisis kesenjangan / where the next points are."""
    try:
        ws = files.load(file)
        rules = get_rules(ws.rules)
        ev = evaluate(rules, ws)
    except DomainError as exc:
        raise _fail(exc) from None
    gap = analyse(rules, ws, ev)
    if as_json:
        typer.echo(dumps(gap_json(gap, ev, rules)))
        return
    typer.echo(f"Total {_f(ev.total)}; predikat / predicate: {ev.predicate or '-'}")
    for name in PREDICATES:
        path = gap.paths[name]
        distance = gap.distance[name]
        typer.echo(f"\n{name}: jarak total / total distance {_f(distance)}")
        if path.reachable is None:
            reasons = "; ".join(map(str, path.reasons))
            typer.echo(f"  belum dapat ditentukan / undetermined: {reasons}")
        elif not path.reachable:
            typer.echo(
                "  tidak tercapai dengan perubahan jawaban / not reachable by answer "
                "changes: " + "; ".join(map(str, path.reasons))
            )
        elif path.steps == 0:
            typer.echo("  sudah tercapai / already met")
        else:
            typer.echo(f"  {path.steps} langkah / option steps:")
            for c in path.changes:
                typer.echo(f"    {c.code}: {c.current or '-'} -> {c.target} (+{shown(c.gain)})")
    typer.echo(f"\nKenaikan per butir / gain per item (top {top}):")
    for g in gap.gains[:top]:
        typer.echo(
            f"  {g.code:<8}{g.kind:<8}{g.current or '-':>3} -> {g.next_label or '-':<3}"
            f" +{_f(g.gain_next)}   terbaik/best +{_f(g.gain_best)}"
        )


@app.command("export")
def export_cmd(file: FileArg, output: OutOpt) -> None:
    """Ekspor lembar kerja berskor / write the scored workbook."""
    try:
        ws = files.load(file)
        ev = evaluate(get_rules(ws.rules), ws)
    except DomainError as exc:
        raise _fail(exc) from None
    workbook.export(ws, ev).save(output)
    typer.echo(f"{output}")
