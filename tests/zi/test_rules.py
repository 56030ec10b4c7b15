"""Rule files: the packaged ones load; a broken copy fails naming the code and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from wbs.zi.errors import RuleSetError, UnknownRuleSet
from wbs.zi.ruleset import RULES_DIR, available, get_rules, load_all, load_file


def test_packaged_rule_sets_load() -> None:
    rules = load_all()
    assert set(rules) == {"lke-2019", "lke-2021"}
    assert sum(1 for _ in rules["lke-2021"].items()) == 110
    assert sum(1 for _ in rules["lke-2019"].items()) == 81
    formulas = [i.code for _a, _n, i in rules["lke-2021"].items() if i.formula]
    assert formulas == ["PRA1A", "PRA1B", "PRC3A", "PRD1A", "PRE2A", "PRE3A", "PRE3B", "PRF1B"]
    assert rules["lke-2021"].ranked_labels("ABCD") == ["A", "B", "C", "D"]
    assert rules["lke-2021"].ranked_labels("YA_TIDAK") == ["Y", "T"]


def test_unknown_rule_set() -> None:
    with pytest.raises(UnknownRuleSet) as caught:
        get_rules("lke-1999")
    assert "lke-1999" in caught.value.text_en and caught.value.status == 404


def _broken(tmp_path: Path, source: str, old: str, new: str, name: str | None = None) -> Path:
    text = (RULES_DIR / f"{source}.yaml").read_text(encoding="utf-8")
    assert old in text, old
    target = tmp_path / f"{name or source}.yaml"
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    return target


BROKEN = [
    # (source, old text, new text, code named, words of the problem)
    ("lke-2021", "- code: PPA1B\n", "- code: PPA1A\n", "PPA1A", "duplicate code"),
    (
        "lke-2021",
        "code: PPA2\n        name: Rencana Pembangunan Zona Integritas\n        weight: 1.0",
        "code: PPA2\n        name: Rencana Pembangunan Zona Integritas\n        weight: 1.5",
        "PPA",
        "indicator weights add up to 4.5, not 4.0",
    ),
    (
        "lke-2021",
        "weight: 30.0\n    areas:",
        "weight: 31.0\n    areas:",
        "pengungkit",
        "part weights add up to 61.0, not 60.0",
    ),
    (
        "lke-2021",
        "scale: ABC\n          options:\n            A: A. Jika dengan",
        "scale: ABX\n          options:\n            A: A. Jika dengan",
        "PPA1B",
        "unknown scale",
    ),
    (
        "lke-2021",
        "numerator:\n            - PRA1A2",
        "numerator:\n            - PRA1A9",
        "PRA1A",
        "formula input PRA1A9 is not among the item's inputs",
    ),
    (
        "lke-2021",
        "    minimum:\n      WBK: 18.25\n      WBBM: 18.25",
        "    minimum:\n      WBK: 18.25\n      WBBX: 18.25",
        "HB",
        "unknown predicate 'WBBX'",
    ),
    (
        "lke-2021",
        "WBK: 2.4\n        WBBM: 3.0",
        "WBK: 2.4\n        WBBM: 2.0",
        "PPA",
        "WBBM minimum below WBK minimum",
    ),
    (
        "lke-2021",
        "            Y: Ya, jika Tim telah dibentuk di dalam unit kerja.\n",
        "            X: Ya, jika Tim telah dibentuk di dalam unit kerja.\n",
        "PPA1A",
        "do not match scale YA_TIDAK",
    ),
    (
        "lke-2021",
        "      - code: PPA1\n        name: Penyusunan Tim Kerja\n        weight: 0.5",
        "      - code: PPA1\n        name: Penyusunan Tim Kerja\n        weight: setengah",
        "PPA1",
        "weight",
    ),
    ("lke-2021", "    - code: HBB\n", "    - code: HBA\n", "HBA", "duplicate code"),
    (
        "lke-2019",
        "      discrepancy:\n        indicators_sum: 4.0\n",
        "      discrepancy:\n        indicators_sum: 4.5\n",
        "PB",
        "declared discrepancy says indicators add up to 4.5",
    ),
    (
        "lke-2019",
        "    total_minimum: null\n    note: The WBK",
        "    total_minimum: null\n    notx: The WBK",
        "WBK",
        "notx",
    ),
]


@pytest.mark.parametrize(("source", "old", "new", "code", "problem"), BROKEN)
def test_broken_rule_file_names_code_and_problem(
    tmp_path: Path, source: str, old: str, new: str, code: str, problem: str
) -> None:
    with pytest.raises(RuleSetError) as caught:
        load_file(_broken(tmp_path, source, old, new))
    problems = caught.value.problems
    assert any(c == code and problem in p for c, p in problems), problems
    assert f"{code}: " in caught.value.text_en


def test_undeclared_discrepancy_fails(tmp_path: Path) -> None:
    """Without its declaration the 2019 Penataan Tatalaksana gap (4 of 5) is an error."""
    path = _broken(tmp_path, "lke-2019", "      discrepancy:\n        indicators_sum: 4.0\n", "")
    text = path.read_text(encoding="utf-8")
    start = text.index("        note: The source (Kemenkumham ZI application 2019, nomorsoal")
    path.write_text(text[:start] + text[text.index("\n", start) + 1 :], encoding="utf-8")
    with pytest.raises(RuleSetError) as caught:
        load_file(path)
    assert ("PB", "indicator weights add up to 4.0, not 5.0") in caught.value.problems


def test_discrepancy_needs_a_note(tmp_path: Path) -> None:
    path = _broken(
        tmp_path,
        "lke-2019",
        "        note: The source (Kemenkumham",
        "        note: ' '\n        x: (Kemenkumham",
    )
    with pytest.raises(RuleSetError) as caught:
        load_file(path)
    assert any(code == "PB" for code, _p in caught.value.problems)


def test_id_must_match_file_name(tmp_path: Path) -> None:
    path = _broken(tmp_path, "lke-2021", "id: lke-2021", "id: lke-2021", name="lke-2031")
    with pytest.raises(RuleSetError) as caught:
        load_file(path)
    assert "id differs from file name" in caught.value.text_en


def test_a_new_year_is_a_new_file(tmp_path: Path) -> None:
    path = _broken(tmp_path, "lke-2021", "id: lke-2021", "id: lke-2031", name="lke-2031")
    rules = load_file(path)
    assert rules.id == "lke-2031" and available(tmp_path) == ["lke-2031"]
