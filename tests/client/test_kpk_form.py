"""The KPK gratification form export (`wbs.client.kpk`): every value lands in its field,
missing identity and uncollected fields are marked, bytes are stable, input is bounded."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from wbs.client import kpk
from wbs.reporting import fields

WIB = timezone(timedelta(hours=7))
AT = datetime(2026, 3, 17, 10, 5, tzinfo=WIB)
CONTENT = {
    "penerima": "Budi Santoso, Kepala Seksi Pelayanan",
    "pemberi": "PT Maju Jaya, Jl. Merdeka 1, Bandung",
    "hubungan": "rekanan pengadaan",
    "jenis": "barang",
    "uraian": "Satu jam tangan merek X dalam kotak.",
    "nilai": "2500000",
    "tanggal": "2026-01-20",
    "tempat": "Kantor KPP Pratama Bandung",
    "kronologi": "Diantar kurir ke meja saya.\nTidak ada surat pengantar.",
    "status": "dititipkan",
}
IDENTITY = {
    "nama": "Budi Santoso",
    "nik": "3273010101800001",
    "jabatan": "Kepala Seksi",
    "alamat": "Jl. Sukajadi 5, Bandung",
    "telepon": "08123456789",
    "email": "budi@kpp.go.id",
}
FACTS = (
    kpk.CaseFact(
        "jenis_laporan",
        kpk.Label("Jenis laporan", "Kind of report"),
        kpk.Label("Penerimaan gratifikasi", "Gift received"),
    ),
    kpk.CaseFact(
        "tanggal_terima",
        kpk.Label("Tanggal", "Date"),
        kpk.Label("2026-01-20", "2026-01-20"),
    ),
    kpk.CaseFact(
        "nilai_estimasi",
        kpk.Label("Perkiraan nilai", "Estimated value"),
        kpk.Label("Rp1 juta sampai Rp10 juta", "Rp1 million to Rp10 million"),
    ),
)


def sample(identity: dict[str, str] | None = None, **content: str) -> kpk.GratifikasiCase:
    return kpk.GratifikasiCase(
        case_number="GRT-2026-000007",
        unit="KPP001",
        content={**CONTENT, **content},
        identity=identity,
        exported_at=AT,
        state=kpk.Label("Verifikasi UPG", "UPG verification"),
        facts=FACTS,
        rule_version=kpk.Label("Peraturan KPK 1/2026", "KPK Regulation 1/2026"),
        attachments=["foto-jam.jpg", "kuitansi.pdf"],
        submitted_at="2026-01-21T03:00:00Z",
    )


def rows(data: bytes, sheet: int = 0) -> list[tuple[object, ...]]:
    book = load_workbook(io.BytesIO(data))
    return list(book.worksheets[sheet].iter_rows(values_only=True))


def by_field(data: bytes) -> dict[str, tuple[object, object]]:
    """Field label (Indonesian part) -> (value, note) from the form sheet."""
    table = rows(data)
    start = next(i for i, r in enumerate(table) if r[0] == "Bagian / Section") + 1
    return {str(r[1]).split(" / ")[0]: (r[2], r[3]) for r in table[start:]}


def test_every_mapped_value_is_in_its_field_and_identity_waits_for_the_custodian():
    form = by_field(kpk.to_xlsx(sample()))
    assert form["Penerima dan jabatannya (isi laporan)"][0] == CONTENT["penerima"]
    assert form["Nama dan alamat pemberi"][0] == CONTENT["pemberi"]
    assert form["Hubungan dengan pemberi"][0] == CONTENT["hubungan"]
    assert form["Jenis"][0] == "Barang / Goods"  # "Jenis / bentuk gratifikasi"
    assert form["Uraian gratifikasi"][0] == CONTENT["uraian"]
    assert form["Nilai"][0] == "Rp2.500.000"
    assert form["Tanggal penerimaan"][0] == "2026-01-20"
    assert form["Tempat penerimaan"][0] == CONTENT["tempat"]
    assert form["Kronologi penerimaan"][0] == CONTENT["kronologi"]
    assert form["Status pemberian"][0] == "Dititipkan ke UPG / Deposited with the UPG"
    assert form["Jenis laporan"][0] == "Penerimaan gratifikasi / Gift received"
    assert form["Tanggal penerimaan (dicatat UPG)"][0] == "2026-01-20"
    assert form["Kisaran nilai (dicatat UPG)"][0].startswith("Rp1 juta sampai Rp10 juta")
    assert form["Berkas lampiran"][0] == "foto-jam.jpg\nkuitansi.pdf"
    assert form["Nomor kasus wbs"][0] == "GRT-2026-000007"
    assert form["Instansi"][0] == "KPP001"
    assert form["Tahap penanganan"][0] == "Verifikasi UPG / UPG verification"
    assert form["Aturan yang berlaku"][0] == "Peraturan KPK 1/2026 / KPK Regulation 1/2026"
    assert form["Waktu ekspor"][0] == "2026-03-17 10:05+07:00"
    withheld = "Identitas belum dibuka (permintaan ke kustodian) / Identity not released"
    for name in ("Nama lengkap", "NIK", "Alamat", "Nomor telepon", "E-mail", "Jabatan"):
        value, note = form[name]
        assert value is None and str(note).startswith(withheld), name
    for name in (
        "Tempat dan tanggal lahir",
        "Unit kerja",
        "Peristiwa terkait pemberian",
        "Alasan pemberian",
        "Pekerjaan",
    ):
        assert form[name] == (None, "tidak dikumpulkan oleh wbs / not collected"), name
    # Facts not recorded yet are left out only where the form makes them optional.
    assert "Nomor registrasi laporan di KPK" not in form


def test_a_released_identity_fills_section_a():
    form = by_field(kpk.to_xlsx(sample(IDENTITY)))
    assert form["Nama lengkap"][0] == IDENTITY["nama"]
    assert form["NIK"][0] == IDENTITY["nik"]
    assert form["Jabatan"][0] == IDENTITY["jabatan"]
    assert form["Alamat"][0] == IDENTITY["alamat"]
    assert form["Nomor telepon"][0] == IDENTITY["telepon"]
    assert form["E-mail"][0] == IDENTITY["email"]


def test_the_source_sheet_names_where_each_field_comes_from():
    table = rows(kpk.to_xlsx(sample()), 1)
    assert "UU 30/2002" in str(table[0][0])
    mapped = {str(r[1]).split(" / ")[0]: str(r[2]) for r in table[4:]}
    assert len(mapped) == len({f.label.id for f in kpk.FORM})
    assert mapped["Nama dan alamat pemberi"].startswith("Isi laporan (terenkripsi): pemberi")
    assert mapped["NIK"].startswith("Identitas pelapor")
    assert mapped["Kisaran nilai (dicatat UPG)"].startswith("Fakta kasus")
    assert mapped["Alasan pemberian"] == "tidak dikumpulkan oleh wbs / not collected"


def test_reporter_text_never_becomes_a_formula_and_other_fields_are_kept():
    data = kpk.to_xlsx(sample(uraian='=HYPERLINK("http://x","klik")', catatan="@SUM(A1)"))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "HYPERLINK" in sheet
    form = by_field(data)
    assert form["catatan"][0] == "@SUM(A1)"


def test_the_same_case_gives_the_same_bytes():
    assert kpk.to_xlsx(sample()) == kpk.to_xlsx(sample())
    assert kpk.to_pdf(sample()) == kpk.to_pdf(sample())
    later = kpk.GratifikasiCase(**{**sample().__dict__, "exported_at": AT + timedelta(hours=1)})
    assert kpk.to_xlsx(later) != kpk.to_xlsx(sample())


def test_the_pdf_carries_case_number_export_time_and_page_numbers():
    data = kpk.to_pdf(sample(kronologi="Kejadian panjang. " * 1_100), compress=False)
    assert data.startswith(b"%PDF-")
    pages = len(re.findall(rb"/Type /Page\b", data))
    assert pages >= 2
    footers = re.findall(rb"\((GRT-2026-000007 [^)]*)\) Tj", data)
    assert len(footers) == pages
    assert all(b"2026-03-17 10:05+07:00" in f for f in footers)
    assert footers[-1].endswith(f"page {pages} of {pages}".encode())
    assert b"Budi Santoso" in data and b"Identitas belum dibuka" in data


def test_the_client_mirrors_the_report_form():
    form = fields.form_for(fields.CaseType.gratifikasi)
    mirrored = {k: v for k, v in kpk.CONTENT.items() if k != "text"}
    assert set(mirrored) == {f.name for f in form.fields}
    for f in form.fields:
        spec = mirrored[f.name]
        assert (spec.label, spec.max_length) == ((f.label.id, f.label.en), f.max_length)
        assert spec.money == (f.kind is fields.Kind.money)
        if f.choices:
            assert spec.choices == {c.value: (c.label.id, c.label.en) for c in f.choices}
    assert {k: (v.label, v.max_length) for k, v in kpk.IDENTITY.items()} == {
        f.name: ((f.label.id, f.label.en), f.max_length) for f in fields.IDENTITY
    }
    sources = {f.source.partition(":")[2] for f in kpk.FORM if f.source.startswith("isi:")}
    assert sources == set(kpk.CONTENT)  # every field the form collects has a place


ANY = st.characters(exclude_categories=())  # surrogates and control characters too
text = st.text(alphabet=ANY, max_size=30_000)
short = st.text(alphabet=ANY, max_size=600)
SPEC = {f.label: f for f in kpk.FORM}


def bound(row: kpk.Filled) -> int:
    """The most characters a row may hold: its field's cap (a choice label may be longer
    than its code), an attachment list, or a short case value."""
    f = SPEC.get(row.label)
    if f is None:
        return kpk.OTHER_MAX
    kind, _, name = f.source.partition(":")
    if kind == "isi":
        return max(kpk.CONTENT[name].max_length, 100)
    if kind == "identitas":
        return kpk.IDENTITY[name].max_length
    if name == "lampiran":
        return (kpk.NAME_MAX + 1) * kpk.MAX_ATTACHMENTS + 10
    return kpk.SHORT_MAX


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    content=st.dictionaries(st.sampled_from([*kpk.CONTENT, "x", "=y"]) | short, text, max_size=30),
    identity=st.none() | st.dictionaries(st.sampled_from(list(kpk.IDENTITY)), text),
    number=short,
    names=st.lists(short, max_size=150),
)
def test_any_unicode_is_cleaned_and_capped_in_the_workbook(content, identity, number, names):
    case = kpk.GratifikasiCase(number, number, content, identity, AT, attachments=names)
    made = kpk.filled(case)
    assert len(made) <= len(kpk.FORM) + kpk.MAX_OTHER_FIELDS + 1
    for row in made:
        assert len(row.value) <= bound(row), row.label
        assert len(row.label.id) <= 200
        assert not re.search("[\x00-\x08\x0b-\x1f\ud800-\udfff\ufffe\uffff]", row.value)
    table = rows(kpk.to_xlsx(case))
    values = [r[2] for r in table[5:]]
    assert values == [row.value or None for row in made]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=st.text(alphabet=ANY, max_size=3_000), number=short)
def test_any_unicode_still_makes_a_pdf(value, number):
    case = kpk.GratifikasiCase(
        number, "U", {"kronologi": value, "pemberi": value, value[:40]: value}, None, AT
    )
    assert kpk.to_pdf(case, compress=False).startswith(b"%PDF-")


def test_clean_caps_and_marks_the_cut():
    assert kpk.clean("a\r\nb\x00c\x1b", 10) == "a\nbc"
    cut = kpk.clean("x" * 50, 10)
    assert len(cut) == 10 and cut.endswith("…")
    assert kpk.export_time(datetime(2026, 1, 2, 3, 4, tzinfo=UTC)) == "2026-01-02 03:04+00:00"
