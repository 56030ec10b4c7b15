"""The workflow files load, and a broken file is refused naming file, place and problem."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from wbs.workflow.definition import WorkflowError, facts_always_known, load_file, parse
from wbs.workflow.registry import DEFAULT_DIR, load_all


def raw(name: str) -> dict[str, Any]:
    return yaml.safe_load((DEFAULT_DIR / f"{name}.yaml").read_text())


def test_every_case_type_has_a_valid_workflow():
    workflows = load_all()
    assert set(workflows.by_type) == {"pengaduan", "wbs", "gratifikasi", "benturan_kepentingan"}
    for workflow in workflows.by_type.values():
        assert workflow.initial in workflow.states
        assert any(s.terminal for s in workflow.states.values())
        for timer in workflow.timers.values():
            assert timer.rule


def test_pengaduan_matches_the_regulated_path():
    w = load_all().of("pengaduan")
    assert w.timers["verifikasi"].days == 3
    assert w.timers["verifikasi"].pauses == ("perlu_kelengkapan",)
    assert w.timers["tindak_lanjut"].days_by_option == {
        "ringan": 2,
        "normatif": 5,
        "tidak_berkadar_pengawasan": 14,
        "berkadar_pengawasan": 60,
    }
    assert w.transitions["tanggapan_dibalas"].target == "ditindaklanjuti"
    assert w.timers["konfirmasi_pelapor"].on_expiry.action == "selesai_otomatis"


def test_gratifikasi_rule_version_follows_the_date_received():
    from datetime import date

    w = load_all().of("gratifikasi")
    assert w.rule_version(date(2026, 1, 13)).code == "perkom_2_2019"
    assert w.rule_version(date(2026, 1, 14)).code == "perkom_1_2026"
    options = w.facts["kode_pengecualian"].options
    assert options["pernikahan_1jt"].rules == ("perkom_2_2019",)
    assert options["pernikahan_1_5jt"].rules == ("perkom_1_2026",)
    assert "tanggal_terima" in facts_always_known(w)["verifikasi_upg"]


def test_rule_version_and_shown_values_of_recorded_facts():
    w = load_all().of("gratifikasi")
    assert w.rule_version_of({}) is None
    assert w.rule_version_of({"tanggal_terima": "bukan tanggal"}) is None
    assert w.rule_version_of({"tanggal_terima": "2026-02-02"}).code == "perkom_1_2026"
    assert w.shown("jenis_laporan", "penolakan").en == "Gift refused"
    assert w.shown("nomor_sk", "SK-12/2026").id == "SK-12/2026"
    assert w.shown("jenis_laporan", "tak-dikenal").id == "tak-dikenal"
    assert (w.shown("x", True).id, w.shown("x", False).en) == ("Ya", "No")


def _broken(name: str, change: Any) -> WorkflowError:
    data = copy.deepcopy(raw(name))
    change(data)
    with pytest.raises(WorkflowError) as caught:
        parse(data, f"{name}.yaml")
    return caught.value


def test_unknown_state_is_named():
    def change(d):
        d["transitions"][0]["from"] = "antah_berantah"

    err = _broken("pengaduan", change)
    assert err.file == "pengaduan.yaml"
    assert "antah_berantah" in err.problem and "mulai_verifikasi" in err.where


def test_transition_to_nowhere_is_named():
    def change(d):
        d["transitions"][1]["to"] = "tidak_ada"

    err = _broken("wbs", change)
    assert "nowhere" in err.problem and "tidak_ada" in err.problem
    assert err.where == "transition 'minta_keterangan'"


def test_unreachable_state_is_named():
    def change(d):
        d["states"]["terlupakan"] = {
            "status": "selesai",
            "terminal": True,
            "label": {"id": "Terlupakan", "en": "Forgotten"},
        }

    err = _broken("gratifikasi", change)
    assert err.where == "state 'terlupakan'" and "unreachable" in err.problem


def test_dead_end_unknown_role_fact_and_labels_are_refused():
    def dead_end(d):
        d["transitions"] = [t for t in d["transitions"] if t["action"] != "selesaikan"]

    assert "no way out" in _broken("benturan_kepentingan", dead_end).problem

    def bad_role(d):
        d["transitions"][0]["roles"] = ["bupati"]

    assert "unknown role" in _broken("pengaduan", bad_role).problem

    def bad_fact(d):
        d["transitions"][0]["requires"] = ["nomor_ktp"]

    assert "unknown fact" in _broken("pengaduan", bad_fact).problem

    def no_english(d):
        d["states"]["diterima"]["label"] = {"id": "Diterima"}

    assert "missing en" in _broken("pengaduan", no_english).problem

    def bad_status(d):
        d["states"]["diterima"]["status"] = "rahasia"

    assert "rahasia" in _broken("pengaduan", bad_status).problem


def test_timer_problems_are_refused():
    def tier_gap(d):
        del d["timers"]["tindak_lanjut"]["days_by"]["days"]["ringan"]

    assert "every option" in _broken("pengaduan", tier_gap).problem

    def fact_timer_too_early(d):
        d["timers"]["wajib_lapor_kpk"]["starts"] = ["dilaporkan"]

    err = _broken("gratifikasi", fact_timer_too_early)
    assert err.where == "timer 'wajib_lapor_kpk'" and "tanggal_terima" in err.problem

    def expiry_not_timer(d):
        d["timers"]["kelengkapan"]["on_expiry"] = {"action": "teruskan_ke_kpk"}

    assert "not a timer transition" in _broken("gratifikasi", expiry_not_timer).problem


def test_a_file_whose_id_differs_from_its_name_is_refused(tmp_path: Path):
    (tmp_path / "lain.yaml").write_text((DEFAULT_DIR / "wbs.yaml").read_text())
    with pytest.raises(WorkflowError, match=r"lain\.yaml: id: must equal"):
        load_file(tmp_path / "lain.yaml")


def test_a_missing_workflow_is_refused(tmp_path: Path):
    for name in ("pengaduan", "wbs", "gratifikasi"):
        (tmp_path / f"{name}.yaml").write_text((DEFAULT_DIR / f"{name}.yaml").read_text())
    with pytest.raises(WorkflowError, match=r"benturan_kepentingan\.yaml: file: missing"):
        load_all(tmp_path)


def test_oversized_and_invalid_yaml_are_refused(tmp_path: Path):
    big = tmp_path / "wbs.yaml"
    big.write_text("#" * (300 * 1024))
    with pytest.raises(WorkflowError, match="larger than"):
        load_file(big)
    bad = tmp_path / "pengaduan.yaml"
    bad.write_text("id: [unclosed")
    with pytest.raises(WorkflowError, match="not valid YAML"):
        load_file(bad)


def test_the_app_and_serve_refuse_a_bad_workflow_at_start(tmp_path: Path):
    import shutil

    from tests.conftest import make_settings
    from tests.foundation.test_cli import wbs
    from wbs.app import create_app

    broken = tmp_path / "workflows"
    shutil.copytree(DEFAULT_DIR, broken)
    text = (broken / "pengaduan.yaml").read_text()
    (broken / "pengaduan.yaml").write_text(
        text.replace("to: tanggapan_diberikan", "to: entah_ke_mana", 1)
    )
    with pytest.raises(WorkflowError, match=r"pengaduan\.yaml.*entah_ke_mana"):
        create_app(make_settings(tmp_path / "var", "sqlite+aiosqlite://", workflows_dir=broken))
    data = tmp_path / "data"
    assert wbs(data, "db", "upgrade").returncode == 0
    served = wbs(data, "serve", "--port", "1", env={"WBS_WORKFLOWS_DIR": str(broken)})
    assert served.returncode == 2
    assert "pengaduan.yaml" in served.stderr and "entah_ke_mana" in served.stderr
