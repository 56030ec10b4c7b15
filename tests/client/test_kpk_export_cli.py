"""`wbs client export-gratifikasi` against a real `wbs serve`, on both databases: a
gratifikasi report sent with the client is exported by the UPG officer as XLSX and PDF, made
on the device (0600, nothing else left beside it); a pengaduan case is refused."""

from __future__ import annotations

import io
import json
import stat

import pytest
from openpyxl import load_workbook

from tests.client.server import Served

PASS = "kata-sandi-panjang-untuk-uji"
UPG = "upg@kpk-uji.go.id"
FIELDS = {
    "penerima": "Rina Wulandari, Kepala Subbagian Umum",
    "pemberi": "CV Sinar Terang, Jl. Pahlawan 12, Semarang",
    "hubungan": "penyedia barang",
    "jenis": "uang",
    "uraian": "Amplop berisi uang tunai",
    "nilai": "3000000",
    "tanggal": "2026-01-20",
    "tempat": "Ruang rapat lantai 2",
    "kronologi": "Diserahkan setelah rapat serah terima barang.",
    "status": "dititipkan",
}


def _json(result) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.slow
async def test_export_gratifikasi_from_the_reference_client(tmp_path, fresh_db_url, backend):
    served = Served(tmp_path, fresh_db_url)
    assert served.wbs("unit", "create", "KPKU", "--name", "Unit Uji").returncode == 0
    for email, roles in (("admin@kpk-uji.go.id", ["admin"]), (UPG, ["upg", "verifikator"])):
        made = served.wbs(
            "staff",
            "create",
            email,
            "--unit",
            "KPKU",
            *[a for r in roles for a in ("--role", r)],
            "--password-stdin",
            stdin=PASS + "\n",
        )
        assert made.returncode == 0, made.stderr
    report = tmp_path / "laporan.txt"
    report.write_text("Laporan penerimaan gratifikasi.")
    evidence = tmp_path / "foto-amplop.txt"
    evidence.write_text("foto")
    out_dir = tmp_path / "ekspor"
    out_dir.mkdir()
    served.start()
    url = served.url
    officer = ("--url", url, "--email", UPG, "--password-stdin")
    try:
        served.enroll_and_approve([UPG], "admin@kpk-uji.go.id", PASS)

        def submit(channel: str, *extra: str) -> str:
            sent = _json(
                served.wbs(
                    "client",
                    "submit",
                    "--url",
                    url,
                    "--unit",
                    "KPKU",
                    "--channel",
                    channel,
                    "--text-file",
                    str(report),
                    *extra,
                )
            )
            return str(sent["case_number"])

        fields = [a for k, v in FIELDS.items() for a in ("--field", f"{k}={v}")]
        number = submit("gratifikasi", *fields, "--attach", str(evidence))
        other = submit("pengaduan")
        _json(
            served.wbs(
                "client",
                "act",
                number,
                "mulai_verifikasi",
                "--fact",
                "jenis_laporan=penerimaan",
                "--fact",
                "tanggal_terima=2026-01-20",
                "--fact",
                "nilai_estimasi=antara_1_10jt",
                *officer,
                stdin=PASS + "\n",
            )
        )

        xlsx = out_dir / "kpk.xlsx"
        done = _json(
            served.wbs(
                "client",
                "export-gratifikasi",
                number,
                "--format",
                "xlsx",
                "--out",
                str(xlsx),
                *officer,
                stdin=PASS + "\n",
            )
        )
        assert done["case_number"] == number and done["identity_released"] is False
        assert FIELDS["pemberi"] not in json.dumps(done)  # the output names the file only
        assert stat.S_IMODE(xlsx.stat().st_mode) == 0o600
        book = load_workbook(io.BytesIO(xlsx.read_bytes()))
        cells = {str(c) for row in book.worksheets[0].iter_rows(values_only=True) for c in row}
        for name in ("penerima", "pemberi", "hubungan", "uraian", "tanggal", "tempat"):
            assert FIELDS[name] in cells, name
        assert FIELDS["kronologi"] in cells
        assert {
            "Uang / Money",
            "Rp3.000.000",
            "Dititipkan ke UPG / Deposited with the UPG",
        } <= cells
        assert "Penerimaan gratifikasi / Gift received" in cells  # a recorded fact, labelled
        assert "Peraturan KPK 1/2026 / KPK Regulation 1/2026" in cells  # by tanggal_terima
        assert "Verifikasi UPG / UPG verification" in cells
        assert "foto-amplop.txt" in cells  # the attachment's name, decrypted here
        assert any(c.startswith("Identitas belum dibuka") for c in cells)

        pdf = out_dir / "kpk.pdf"
        _json(
            served.wbs(
                "client",
                "export-gratifikasi",
                number,
                "--format",
                "pdf",
                "--out",
                str(pdf),
                *officer,
                stdin=PASS + "\n",
            )
        )
        assert pdf.read_bytes().startswith(b"%PDF-")
        assert stat.S_IMODE(pdf.stat().st_mode) == 0o600

        refused = served.wbs(
            "client",
            "export-gratifikasi",
            other,
            "--format",
            "pdf",
            "--out",
            str(out_dir / "pengaduan.pdf"),
            *officer,
            stdin=PASS + "\n",
        )
        assert refused.returncode == 1
        assert "hanya untuk kasus gratifikasi" in refused.stderr
        assert "for gratifikasi cases only" in refused.stderr
        assert sorted(p.name for p in out_dir.iterdir()) == ["kpk.pdf", "kpk.xlsx"]
        assert not list(served.tmp_dir.iterdir())  # no plaintext in temporary files
        log = served.log_path.read_text()
        assert FIELDS["pemberi"] not in log and FIELDS["kronologi"] not in log
    finally:
        served.stop()
