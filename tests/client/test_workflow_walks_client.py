"""WBS, gratifikasi and benturan kepentingan walked from received to a terminal outcome with
the reference client only (`wbs client submit|case|act|follow|reply`) against a real `wbs
serve`: the states, what the reporter sees, the actions offered (read from the workflow file
itself) and one refusal each (exit 1 with the reason in Bahasa Indonesia and English).
The server runs on today's clock: the frozen-time walks are in tests/workflow."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from tests.client.server import Served

PASS = "kata-sandi-panjang-untuk-uji"
WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
ROLE_REFUSED = "Peran Anda tidak dapat melakukan tindakan ini. / Your role cannot take this action."


def offered(case_type: str, state: str, roles: set[str]) -> list[str]:
    """The officer actions `workflows/<case_type>.yaml` offers from `state` to `roles`."""
    doc = yaml.safe_load((WORKFLOWS / f"{case_type}.yaml").read_text(encoding="utf-8"))
    found = []
    for t in doc["transitions"]:
        sources = t["from"] if isinstance(t["from"], list) else [t["from"]]
        if state in sources and roles & set(t.get("roles", [])):
            found.append(t["action"])
    return found


@dataclass
class Desk:
    """Officers and a reporter using `wbs client` against one live server."""

    served: Served
    roles: dict[str, str]  # e-mail -> role

    def _officer(self, email: str) -> tuple[str, ...]:
        return ("--url", self.served.url, "--email", email, "--password-stdin")

    def _json(self, *args: str, stdin: str | None = None) -> dict:
        out = self.served.wbs("client", *args, stdin=stdin)
        assert out.returncode == 0, out.stderr
        return dict(json.loads(out.stdout))

    def case(self, email: str, number: str, case_type: str) -> dict:
        """`wbs client case --json`; checks the actions offered against the workflow file."""
        seen = self._json("case", number, *self._officer(email), "--json", stdin=PASS + "\n")
        expected = offered(case_type, seen["state"], {self.roles[email]})
        assert [a["action"] for a in seen["actions"]] == expected
        return seen

    def _act_args(self, number, action, facts, message) -> list[str]:
        args = ["act", number, action]
        for name, value in facts.items():
            args += ["--fact", f"{name}={value}"]
        if message is not None:
            args += ["--message", message]
        return args

    def act(self, email: str, number: str, action: str, message: str | None = None, **facts):
        args = self._act_args(number, action, facts, message)
        return self._json(*args, *self._officer(email), stdin=PASS + "\n")

    def refused(
        self, email: str, number: str, action: str, message: str | None = None, **facts
    ) -> str:
        args = self._act_args(number, action, facts, message)
        out = self.served.wbs("client", *args, *self._officer(email), stdin=PASS + "\n")
        assert out.returncode == 1, out.stdout
        return out.stderr

    def submit(self, channel: str, text: str) -> dict:
        report = self.served.root / f"laporan-{channel}.txt"
        report.write_text(text, encoding="utf-8")
        return self._json(
            "submit",
            "--url",
            self.served.url,
            "--unit",
            "ALUR",
            "--channel",
            channel,
            "--text-file",
            str(report),
        )

    def follow(self, sent: dict) -> dict:
        return self._json("follow", "--url", self.served.url, "--receipt", sent["receipt"])

    def reply(self, sent: dict, text: str) -> None:
        answer = self.served.root / "jawaban.txt"
        answer.write_text(text, encoding="utf-8")
        self._json(
            "reply",
            "--url",
            self.served.url,
            "--receipt",
            sent["receipt"],
            "--text-file",
            str(answer),
        )


def _serve(tmp_path, url, roles: dict[str, str], recipients: dict[str, list[str]]) -> Desk:
    """A started server with unit ALUR, its officers enrolled from the client and the
    channels' readers chosen by the admin."""
    served = Served(tmp_path, url)
    served.create_unit("ALUR", {"admin@alur.go.id": "admin", **roles}, PASS)
    served.start()
    try:
        served.enroll_and_approve(list(roles), "admin@alur.go.id", PASS, recipients)
    except BaseException:
        served.stop()
        raise
    return Desk(served, roles)


V, ATASAN, INV, UPG = "v@alur.go.id", "atasan@alur.go.id", "inv@alur.go.id", "upg@alur.go.id"


@pytest.mark.parametrize("backend", ["sqlite"])
def test_wbs_from_the_reference_client(tmp_path, fresh_db_url):
    desk = _serve(
        tmp_path,
        fresh_db_url,
        {V: "verifikator", ATASAN: "atasan", INV: "investigator"},
        {"wbs": [V, ATASAN, INV]},
    )
    try:
        weak = desk.submit("wbs", "Ada dugaan penyimpangan, tanpa rincian.")
        full = desk.submit("wbs", "Mark-up pengadaan laptop oleh PPK, Maret 2026.")
        seen = desk.case(V, weak["case_number"], "wbs")
        assert (seen["state"], seen["status"]) == ("diterima", "diterima")
        assert {d["name"] for d in seen["deadlines"]} == {"tanda_terima"}
        assert desk.follow(weak)["status_label"]["id"] == "Diterima"

        desk.act(V, weak["case_number"], "konfirmasi_penerimaan")
        closed = desk.act(
            V,
            weak["case_number"],
            "nyatakan_tidak_dapat_ditindaklanjuti",
            "Unsur 4W1H tidak lengkap dan tidak ada keterangan tambahan.",
            alasan_tidak_ditindaklanjuti="unsur_tidak_lengkap",
            risiko_pembalasan="rendah",
            unsur_4w1h_lengkap="false",
        )
        assert (closed["state"], closed["deadlines"]) == ("tidak_dapat_ditindaklanjuti", [])
        told = desk.follow(weak)
        assert (told["status"], told["status_label"]["en"]) == ("ditolak", "Cannot be followed up")
        assert told["messages"][0]["text"].startswith("Unsur 4W1H tidak lengkap")

        number = full["case_number"]
        desk.act(V, number, "konfirmasi_penerimaan")
        asked = desk.act(V, number, "minta_keterangan", "Siapa PPK-nya dan kapan?")
        assert asked["state"] == "perlu_kelengkapan"
        assert [d["paused"] for d in asked["deadlines"] if d["name"] == "verifikasi"] == [True]
        assert desk.case(V, number, "wbs")["actions"] == []  # waiting for the reporter
        desk.reply(full, "PPK bagian umum, kontrak 12 Maret 2026.")
        assert desk.case(V, number, "wbs")["state"] == "verifikasi"
        desk.act(V, number, "mulai_telaah", risiko_pembalasan="tinggi", unsur_4w1h_lengkap="true")
        assert desk.follow(full)["status_label"]["id"] == "Sedang ditindaklanjuti"
        assert desk.case(ATASAN, number, "wbs")["state"] == "telaah"
        refusal = desk.refused(V, number, "limpahkan", tujuan_pelimpahan="kpk")
        assert ROLE_REFUSED in refusal
        desk.act(ATASAN, number, "limpahkan", tujuan_pelimpahan="kpk")
        assert desk.case(INV, number, "wbs")["state"] == "dilimpahkan"
        desk.act(INV, number, "susun_rekomendasi")
        done = desk.act(
            ATASAN, number, "selesaikan", "Laporan tidak terbukti.", hasil="tidak_terbukti"
        )
        assert (done["state"], done["deadlines"]) == ("selesai", [])
        final = desk.case(ATASAN, number, "wbs")
        assert final["facts"] == {
            "risiko_pembalasan": "tinggi",
            "unsur_4w1h_lengkap": True,
            "tujuan_pelimpahan": "kpk",
            "hasil": "tidak_terbukti",
        }
        ended = desk.follow(full)
        assert (ended["status"], ended["status_label"]["id"]) == ("selesai", "Selesai")
        assert [m["from"] for m in ended["messages"]] == ["officer", "reporter", "officer"]
    finally:
        desk.served.stop()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_gratifikasi_from_the_reference_client(tmp_path, fresh_db_url):
    desk = _serve(tmp_path, fresh_db_url, {UPG: "upg"}, {})
    received = (date.today() - timedelta(days=3)).isoformat()
    try:
        kpk = desk.submit("gratifikasi", "Parsel dari rekanan senilai Rp15 juta.")
        exempt = desk.submit("gratifikasi", "Kado pernikahan dari rekan kerja.")
        donated = desk.submit("gratifikasi", "Parsel makanan, disalurkan ke panti asuhan.")

        number = kpk["case_number"]
        seen = desk.case(UPG, number, "gratifikasi")
        assert seen["state"] == "dilaporkan"
        assert {d["name"] for d in seen["deadlines"]} == {"teruskan_kpk"}
        moved = desk.act(
            UPG,
            number,
            "mulai_verifikasi",
            jenis_laporan="penerimaan",
            tanggal_terima=received,
            nilai_estimasi="antara_10_100jt",
        )
        assert {d["name"] for d in moved["deadlines"]} == {"teruskan_kpk", "wajib_lapor_kpk"}
        desk.act(UPG, number, "teruskan_ke_kpk", nomor_laporan_kpk="GRAT-2026-0099")
        assert desk.follow(kpk)["status_label"]["id"] == "Diproses"
        refusal = desk.refused(
            UPG, number, "catat_penetapan", "KPK telah menetapkan.", nomor_sk="1/GRAT/2026"
        )
        assert "Penetapan KPK wajib diisi. / KPK decision is required." in refusal
        desk.act(
            UPG,
            number,
            "catat_penetapan",
            "KPK menetapkan parsel milik negara.",
            keputusan_kpk="milik_negara",
            nomor_sk="1/GRAT/2026",
        )
        assert desk.case(UPG, number, "gratifikasi")["state"] == "ditetapkan"
        desk.act(UPG, number, "tindak_lanjuti_sk")
        done = desk.act(UPG, number, "selesaikan")
        assert (done["state"], done["deadlines"]) == ("selesai", [])
        assert desk.follow(kpk)["status_label"] == {"id": "Selesai", "en": "Closed"}

        number = exempt["case_number"]
        desk.act(
            UPG,
            number,
            "mulai_verifikasi",
            jenis_laporan="penerimaan",
            tanggal_terima=received,
            nilai_estimasi="kurang_1jt",
        )
        desk.act(UPG, number, "minta_kelengkapan", "Berapa nilai kado per pemberi?")
        assert desk.case(UPG, number, "gratifikasi")["state"] == "perlu_kelengkapan"
        desk.reply(exempt, "Rp1.000.000 dari satu pemberi.")
        assert desk.case(UPG, number, "gratifikasi")["state"] == "verifikasi_upg"
        free = desk.act(
            UPG,
            number,
            "nyatakan_tidak_wajib_lapor",
            "Tidak wajib lapor: pemberian pernikahan sampai Rp1.500.000.",
            kode_pengecualian="pernikahan_1_5jt",
        )
        assert (free["state"], free["deadlines"]) == ("tidak_wajib_lapor", [])
        assert desk.follow(exempt)["status_label"]["id"] == "Selesai"

        recorded = desk.act(
            UPG,
            donated["case_number"],
            "catat_penolakan_penyaluran",
            jenis_laporan="penyaluran",
            tanggal_terima=received,
        )
        assert (recorded["state"], recorded["deadlines"]) == ("dicatat", [])
        assert desk.case(UPG, donated["case_number"], "gratifikasi")["facts"] == {
            "jenis_laporan": "penyaluran",
            "tanggal_terima": received,
        }
    finally:
        desk.served.stop()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_conflict_of_interest_from_the_reference_client(tmp_path, fresh_db_url):
    desk = _serve(
        tmp_path,
        fresh_db_url,
        {V: "verifikator", ATASAN: "atasan"},
        {"benturan_kepentingan": [ATASAN, V]},
    )
    try:
        sent = {
            form: desk.submit("benturan_kepentingan", f"Deklarasi: {form}.")
            for form in ("tidak_ada_konflik", "pembatasan", "recusal_delegasi", "mutasi")
        }
        for form, report in sent.items():
            number = report["case_number"]
            if form == "tidak_ada_konflik":
                seen = desk.case(V, number, "benturan_kepentingan")
                assert [d["name"] for d in seen["deadlines"]] == ["analisis_atasan"]
            desk.act(
                V,
                number,
                "tangguhkan_keputusan",
                jenis="deklarasi",
                sifat="aktual",
                sumber_konflik="kepentingan_pribadi",
            )
            if form == "tidak_ada_konflik":
                assert ROLE_REFUSED in desk.refused(V, number, "mulai_analisis")
                assert desk.follow(report)["status_label"]["id"] == "Sedang dianalisis"
            desk.act(ATASAN, number, "mulai_analisis")
            if form == "tidak_ada_konflik":
                assert desk.case(ATASAN, number, "benturan_kepentingan")["state"] == (
                    "analisis_atasan"
                )
                done = desk.act(
                    ATASAN, number, "nyatakan_tidak_ada_konflik", bentuk_pengendalian=form
                )
            else:
                control = desk.act(
                    ATASAN, number, "tetapkan_pengendalian", bentuk_pengendalian=form
                )
                assert (control["state"], control["deadlines"]) == ("pengendalian", [])
                if form == "mutasi":
                    assert desk.follow(report)["status_label"]["id"] == "Dalam pengendalian"
                desk.act(V, number, "mulai_pemantauan")
                assert desk.case(V, number, "benturan_kepentingan")["state"] == "dipantau"
                done = desk.act(ATASAN, number, "selesaikan")
            assert done["state"] == "selesai"
        for report in sent.values():
            assert desk.follow(report)["status_label"] == {"id": "Selesai", "en": "Closed"}
    finally:
        desk.served.stop()
