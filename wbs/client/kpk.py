"""A gratifikasi case in the fields of KPK's Formulir Laporan Gratifikasi, as XLSX and PDF.

Runs on the officer's device (the server cannot read the report): it takes what the device
decrypted, the identity when released, and the case data the server holds, and fills the
form's sections (UU 30/2002 art. 16; Peraturan KPK 2/2019 as amended by 1/2026). Fields wbs
does not collect stay empty, marked as such. Pure: no network, writes nothing, logs nothing.
Every value is cleaned and capped as the report form caps it; the same input gives the same
bytes.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple


class Label(NamedTuple):
    """A label in Bahasa Indonesia and English."""

    id: str
    en: str

    def both(self) -> str:
        return self.id if self.id == self.en else f"{self.id} / {self.en}"


NOT_COLLECTED = Label("tidak dikumpulkan oleh wbs", "not collected")
NOT_GIVEN = Label("tidak diisi pelapor", "not given by the reporter")
NOT_RECORDED = Label("belum dicatat petugas", "not recorded by an officer yet")
IDENTITY_WITHHELD = Label(
    "Identitas belum dibuka (permintaan ke kustodian)",
    "Identity not released (request it from the custodian)",
)
TITLE = Label(
    "Formulir Laporan Gratifikasi (isian untuk KPK)", "Gratification report form (fields for KPK)"
)
SOURCE_NOTE = Label(
    "Bagian formulir menurut UU 30/2002 Pasal 16 dan Peraturan KPK 2/2019 jo. Peraturan KPK "
    "1/2026 (isi minimum laporan: identitas penerima, pemberi, jabatan, tempat dan waktu, "
    "jenis dan nilai, kronologi, bukti). Salin ke formulir KPK (GOL) yang berlaku.",
    "Form sections after Law 30/2002 art. 16 and KPK Regulation 2/2019 as amended by 1/2026 "
    "(minimum content: recipient, giver, position, place and time, type and value, chronology, "
    "evidence). Copy into the KPK form (GOL) in force.",
)


@dataclass(frozen=True)
class ContentField:
    """A field of wbs's gratifikasi report form (`wbs/reporting/fields.py`, GRATIFIKASI)."""

    label: Label
    max_length: int
    choices: Mapping[str, Label] | None = None
    money: bool = False


# Mirrors wbs.reporting.fields.GRATIFIKASI (the client imports no server code; a test keeps
# the two equal). `text` is the free text `wbs client submit --text-file` adds.
CONTENT: Mapping[str, ContentField] = {
    "penerima": ContentField(Label("Penerima dan jabatannya", "Recipient and position"), 300),
    "pemberi": ContentField(Label("Nama dan alamat pemberi", "Giver's name and address"), 1_000),
    "hubungan": ContentField(Label("Hubungan dengan pemberi", "Relation to the giver"), 300),
    "jenis": ContentField(
        Label("Jenis pemberian", "Type of gift"),
        40,
        {
            "uang": Label("Uang", "Money"),
            "barang": Label("Barang", "Goods"),
            "makanan": Label("Makanan/minuman", "Food or drink"),
            "fasilitas": Label(
                "Fasilitas, perjalanan, atau hiburan", "Facilities, travel or entertainment"
            ),
            "lainnya": Label("Lainnya", "Other"),
        },
    ),
    "uraian": ContentField(Label("Uraian pemberian", "Description of the gift"), 5_000),
    "nilai": ContentField(Label("Perkiraan nilai (Rp)", "Estimated value (Rp)"), 100, money=True),
    "tanggal": ContentField(Label("Tanggal penerimaan", "Date received"), 10),
    "tempat": ContentField(Label("Tempat penerimaan", "Place received"), 300),
    "kronologi": ContentField(Label("Kronologi", "Chronology"), 20_000),
    "status": ContentField(
        Label("Status pemberian", "What happened to the gift"),
        40,
        {
            "ditolak": Label("Ditolak", "Refused"),
            "dititipkan": Label("Dititipkan ke UPG", "Deposited with the UPG"),
            "disimpan": Label("Masih disimpan penerima", "Still kept by the recipient"),
            "disalurkan": Label("Disalurkan (makanan mudah rusak)", "Donated (perishable food)"),
        },
    ),
    "text": ContentField(Label("Teks laporan", "Report text"), 20_000),
}
# wbs.reporting.fields.IDENTITY: name -> (label, max length).
IDENTITY: Mapping[str, ContentField] = {
    "nama": ContentField(Label("Nama lengkap", "Full name"), 300),
    "nik": ContentField(Label("NIK", "National identity number (NIK)"), 16),
    "jabatan": ContentField(Label("Jabatan / pekerjaan", "Position or occupation"), 300),
    "alamat": ContentField(Label("Alamat", "Address"), 1_000),
    "telepon": ContentField(Label("Nomor telepon", "Phone number"), 30),
    "email": ContentField(Label("E-mail", "E-mail"), 254),
}
OTHER_MAX = 2_000  # a content field the form does not define (an older or other client)
MAX_OTHER_FIELDS = 20
MAX_ATTACHMENTS = 100
NAME_MAX = 255  # an attachment name
SHORT_MAX = 500  # case number, unit, labels and values of facts


@dataclass(frozen=True)
class KpkField:
    """One field of the KPK form and where wbs has it: `isi:<name>` (report content),
    `identitas:<name>`, `fakta:<name>` (a case fact), `kasus:<what>`, or "" (not collected)."""

    section: Label
    label: Label
    source: str
    note: Label | None = None
    only_when_present: bool = False


REPORTER = Label("A. Identitas pelapor (penerima gratifikasi)", "Reporter (the recipient)")
GIFT = Label("B. Data penerimaan atau penolakan gratifikasi", "The gift received or refused")
GIVER = Label("C. Data pemberi gratifikasi", "The giver")
CHRONOLOGY = Label("D. Kronologi", "Chronology")
ATTACHMENTS = Label("E. Lampiran", "Attachments")
CASE = Label("F. Data kasus di wbs (UPG)", "wbs case data (UPG)")
OTHER = Label("G. Isian lain dalam laporan", "Other fields in the report")

FORM: tuple[KpkField, ...] = (
    KpkField(REPORTER, Label("Nama lengkap", "Full name"), "identitas:nama"),
    KpkField(REPORTER, Label("NIK", "National identity number (NIK)"), "identitas:nik"),
    KpkField(REPORTER, Label("Tempat dan tanggal lahir", "Place and date of birth"), ""),
    KpkField(
        REPORTER,
        Label("Jabatan / pangkat / golongan", "Position, rank and grade"),
        "identitas:jabatan",
        Label("wbs menanyakan jabatan atau pekerjaan", "wbs asks for position or occupation"),
    ),
    KpkField(
        REPORTER,
        Label("Instansi", "Agency"),
        "kasus:unit",
        Label("kode unit wbs yang menerima laporan", "code of the wbs unit that got the report"),
    ),
    KpkField(REPORTER, Label("Unit kerja", "Work unit"), ""),
    KpkField(REPORTER, Label("Alamat", "Address"), "identitas:alamat"),
    KpkField(REPORTER, Label("Nomor telepon", "Phone number"), "identitas:telepon"),
    KpkField(REPORTER, Label("E-mail", "E-mail"), "identitas:email"),
    KpkField(GIFT, Label("Jenis laporan", "Kind of report"), "fakta:jenis_laporan"),
    KpkField(
        GIFT,
        Label("Penerima dan jabatannya (isi laporan)", "Recipient and position (report)"),
        "isi:penerima",
    ),
    KpkField(GIFT, Label("Jenis / bentuk gratifikasi", "Type or form of the gift"), "isi:jenis"),
    KpkField(
        GIFT, Label("Nilai / taksiran harga (Rp)", "Value or estimated price (Rp)"), "isi:nilai"
    ),
    KpkField(
        GIFT,
        Label("Kisaran nilai (dicatat UPG)", "Value band (recorded by the UPG)"),
        "fakta:nilai_estimasi",
    ),
    KpkField(GIFT, Label("Peristiwa terkait pemberian", "Occasion of the gift"), ""),
    KpkField(GIFT, Label("Tempat penerimaan", "Place received"), "isi:tempat"),
    KpkField(GIFT, Label("Tanggal penerimaan", "Date received"), "isi:tanggal"),
    KpkField(
        GIFT,
        Label("Tanggal penerimaan (dicatat UPG)", "Date received (recorded by the UPG)"),
        "fakta:tanggal_terima",
    ),
    KpkField(GIFT, Label("Uraian gratifikasi", "Description of the gift"), "isi:uraian"),
    KpkField(GIFT, Label("Status pemberian", "What happened to the gift"), "isi:status"),
    KpkField(
        GIVER,
        Label("Nama dan alamat pemberi", "Giver's name and address"),
        "isi:pemberi",
        Label(
            "KPK menanyakan nama dan alamat terpisah; wbs dalam satu isian",
            "KPK asks name and address apart; wbs in one field",
        ),
    ),
    KpkField(GIVER, Label("Pekerjaan / jabatan pemberi", "Giver's occupation or position"), ""),
    KpkField(GIVER, Label("Hubungan dengan pemberi", "Relation to the giver"), "isi:hubungan"),
    KpkField(GIVER, Label("Alasan pemberian", "Reason for the gift"), ""),
    KpkField(CHRONOLOGY, Label("Kronologi penerimaan", "Chronology"), "isi:kronologi"),
    KpkField(
        CHRONOLOGY,
        Label("Teks laporan lainnya", "Other report text"),
        "isi:text",
        only_when_present=True,
    ),
    KpkField(
        ATTACHMENTS,
        Label("Berkas lampiran", "Attached files"),
        "kasus:lampiran",
        Label(
            "nama berkas; berkas dibuka di perangkat petugas dan dilampirkan terpisah",
            "file names; the files are opened on the officer's device and sent apart",
        ),
    ),
    KpkField(CASE, Label("Nomor kasus wbs", "wbs case number"), "kasus:nomor"),
    KpkField(CASE, Label("Unit", "Unit"), "kasus:unit"),
    KpkField(CASE, Label("Laporan diterima wbs", "Report received by wbs"), "kasus:diterima"),
    KpkField(CASE, Label("Tahap penanganan", "Stage"), "kasus:tahap"),
    KpkField(CASE, Label("Aturan yang berlaku", "Rule in force"), "kasus:aturan"),
    KpkField(
        CASE,
        Label("Nomor registrasi laporan di KPK", "KPK registration number"),
        "fakta:nomor_laporan_kpk",
        only_when_present=True,
    ),
    KpkField(
        CASE,
        Label("Dasar tidak wajib lapor", "Exemption from reporting"),
        "fakta:kode_pengecualian",
        only_when_present=True,
    ),
    KpkField(
        CASE, Label("Penetapan KPK", "KPK decision"), "fakta:keputusan_kpk", only_when_present=True
    ),
    KpkField(
        CASE,
        Label("Nomor SK penetapan KPK", "Number of the KPK decision letter"),
        "fakta:nomor_sk",
        only_when_present=True,
    ),
    KpkField(CASE, Label("Waktu ekspor", "Exported at"), "kasus:ekspor"),
)
CASE_DATA: Mapping[str, Label] = {
    "nomor": Label("nomor kasus", "case number"),
    "unit": Label("kode unit", "unit code"),
    "diterima": Label("waktu laporan masuk", "time the report came in"),
    "tahap": Label("tahap alur kerja", "workflow stage"),
    "aturan": Label("versi aturan menurut tanggal_terima", "rule version by the date received"),
    "lampiran": Label(
        "nama lampiran (didekripsi di perangkat)", "attachment names (decrypted here)"
    ),
    "ekspor": Label("waktu ekspor di perangkat ini", "time of the export on this device"),
}


@dataclass(frozen=True)
class CaseFact:
    """A fact an officer recorded, with its label and its value as shown."""

    name: str
    label: Label
    shown: Label


@dataclass(frozen=True)
class GratifikasiCase:
    """What the export is made from: decrypted here, or case data the server holds."""

    case_number: str
    unit: str
    content: Mapping[str, Any]
    identity: Mapping[str, Any] | None  # None: not released to this officer
    exported_at: datetime
    state: Label | None = None
    facts: Sequence[CaseFact] = ()
    rule_version: Label | None = None
    attachments: Sequence[str] = ()
    submitted_at: str = ""


@dataclass(frozen=True)
class Filled:
    """One row of the filled form: value "" with a note when wbs has nothing for it."""

    section: Label
    label: Label
    value: str
    note: str


_UNSAFE = re.compile("[\ufffe\uffff]")


def clean(value: Any, cap: int) -> str:
    """A value safe for XML and PDF text: LF line ends, no control characters (tab and
    newline kept), no surrogates, at most `cap` characters (an ellipsis marks a cut)."""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(c for c in text if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cs"))
    text = _UNSAFE.sub("", text).strip()
    if len(text) > cap:
        text = text[: cap - 1].rstrip() + "…"
    return text


def _money(raw: str) -> str:
    digits = raw.replace(".", "").replace(",", "")
    if digits.isdigit() and len(digits) <= 18:
        return "Rp" + f"{int(digits):,}".replace(",", ".")
    return raw


def _content_value(name: str, content: Mapping[str, Any]) -> str:
    spec = CONTENT[name]
    raw = clean(content.get(name, ""), spec.max_length)
    if raw and spec.choices is not None and raw in spec.choices:
        return spec.choices[raw].both()
    if raw and spec.money:
        return _money(raw)
    return raw


def _case_value(what: str, case: GratifikasiCase) -> str:
    if what == "nomor":
        return clean(case.case_number, SHORT_MAX)
    if what == "unit":
        return clean(case.unit, SHORT_MAX)
    if what == "diterima":
        return clean(case.submitted_at, SHORT_MAX)
    if what == "tahap":
        return clean(case.state.both(), SHORT_MAX) if case.state else ""
    if what == "aturan":
        return clean(case.rule_version.both(), SHORT_MAX) if case.rule_version else ""
    if what == "lampiran":
        names = [clean(n, NAME_MAX) for n in case.attachments[:MAX_ATTACHMENTS]]
        more = len(case.attachments) - MAX_ATTACHMENTS
        if more > 0:
            names.append(f"(+{more})")
        return "\n".join(n for n in names if n)
    if what == "ekspor":
        return export_time(case.exported_at)
    raise ValueError(what)


def export_time(at: datetime) -> str:
    """The export time as printed: ISO minutes with the offset of the officer's clock."""
    return at.isoformat(timespec="minutes").replace("T", " ")


def _fill(f: KpkField, case: GratifikasiCase, facts: Mapping[str, CaseFact]) -> Filled | None:
    kind, _, name = f.source.partition(":")
    note = f.note.both() if f.note else ""
    missing = NOT_GIVEN
    if kind == "":
        return Filled(f.section, f.label, "", NOT_COLLECTED.both())
    if kind == "identitas":
        if case.identity is None:
            return Filled(f.section, f.label, "", IDENTITY_WITHHELD.both())
        value = clean(case.identity.get(name, ""), IDENTITY[name].max_length)
    elif kind == "isi":
        value = _content_value(name, case.content)
    elif kind == "fakta":
        fact = facts.get(name)
        value = clean(fact.shown.both(), SHORT_MAX) if fact else ""
        missing = NOT_RECORDED
    else:
        value = _case_value(name, case)
        missing = NOT_RECORDED
    if not value:
        if f.only_when_present:
            return None
        return Filled(f.section, f.label, "", missing.both())
    return Filled(f.section, f.label, value, note)


def filled(case: GratifikasiCase) -> list[Filled]:
    """The form's rows for this case, in the form's order; then fields the form does not
    define (at most MAX_OTHER_FIELDS), so nothing the reporter wrote is left out."""
    facts = {f.name: f for f in case.facts}
    rows = [row for f in FORM if (row := _fill(f, case, facts)) is not None]
    others = sorted(str(k) for k in case.content if str(k) not in CONTENT)
    for key in others[:MAX_OTHER_FIELDS]:
        name = clean(key, 48)
        value = clean(case.content.get(key, ""), OTHER_MAX)
        if name and value:
            rows.append(Filled(OTHER, Label(name, name), value, ""))
    if len(others) > MAX_OTHER_FIELDS:
        more = Label("Isian lain tidak dimuat", "Further fields left out")
        rows.append(Filled(OTHER, more, str(len(others) - MAX_OTHER_FIELDS), ""))
    return rows


def source_of(f: KpkField) -> str:
    """Where wbs has a KPK field, for the mapping sheet and the docs."""
    kind, _, name = f.source.partition(":")
    if kind == "isi":
        spec = CONTENT[name].label
        return (
            f"Isi laporan (terenkripsi): {name}, {spec.id} / "
            f"Report content (encrypted): {name}, {spec.en}"
        )
    if kind == "identitas":
        spec = IDENTITY[name].label
        return (
            f"Identitas pelapor (terenkripsi, dibuka lewat kustodian): {name}, {spec.id} / "
            f"Reporter identity (encrypted, released through the custodian): {name}, {spec.en}"
        )
    if kind == "fakta":
        return f"Fakta kasus yang dicatat UPG: {name} / Case fact recorded by the UPG: {name}"
    if kind == "kasus":
        what = CASE_DATA[name]
        return f"Data kasus: {what.id} / Case data: {what.en}"
    return NOT_COLLECTED.both()


# --------------------------------------------------------------------------- XLSX

HEADERS = (
    Label("Bagian", "Section"),
    Label("Isian", "Field"),
    Label("Nilai", "Value"),
    Label("Keterangan", "Note"),
)
SOURCE_HEADERS = (
    Label("Bagian", "Section"),
    Label("Isian formulir KPK", "KPK form field"),
    Label("Sumber di wbs", "Source in wbs"),
    Label("Keterangan", "Note"),
)
ZIP_TIME = (2000, 1, 1, 0, 0, 0)


def _put(sheet: Any, row: list[str]) -> None:
    """Append a row as text cells (never formulas, whatever the reporter typed)."""
    sheet.append([value or None for value in row])
    for cell in sheet[sheet.max_row]:
        if cell.value is not None:
            cell.data_type = "s"


def to_xlsx(case: GratifikasiCase) -> bytes:
    """The form as a workbook: sheet 1 the filled form, sheet 2 where each field comes from."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    form = book.active
    form.title = "Formulir KPK"
    _put(form, [TITLE.both()])
    form["A1"].font = Font(bold=True, size=13)
    _put(form, [Label("Nomor kasus", "Case number").both(), clean(case.case_number, SHORT_MAX)])
    _put(form, [Label("Waktu ekspor", "Exported at").both(), export_time(case.exported_at)])
    _put(form, [])
    _put(form, [h.both() for h in HEADERS])
    for cell in form[form.max_row]:
        cell.font = Font(bold=True)
    for row in filled(case):
        _put(form, [row.section.both(), row.label.both(), row.value, row.note])
    wrap = Alignment(wrap_text=True, vertical="top")
    for line in form.iter_rows(min_row=6):
        for cell in line:
            cell.alignment = wrap
    for letter, width in zip("ABCD", (34, 34, 70, 40), strict=True):
        form.column_dimensions[letter].width = width

    sources = book.create_sheet("Sumber data")
    _put(sources, [SOURCE_NOTE.id])
    _put(sources, [SOURCE_NOTE.en])
    _put(sources, [])
    _put(sources, [h.both() for h in SOURCE_HEADERS])
    for cell in sources[sources.max_row]:
        cell.font = Font(bold=True)
    for f in FORM:
        _put(
            sources,
            [f.section.both(), f.label.both(), source_of(f), f.note.both() if f.note else ""],
        )
    for letter, width in zip("ABCD", (34, 34, 70, 40), strict=True):
        sources.column_dimensions[letter].width = width

    at = case.exported_at.astimezone(UTC).replace(tzinfo=None, microsecond=0)
    book.properties.created = at
    book.properties.modified = at
    book.properties.creator = "wbs"
    book.properties.title = f"{TITLE.id} {clean(case.case_number, SHORT_MAX)}"
    raw = io.BytesIO()
    book.save(raw)
    return _fixed_zip_times(raw.getvalue())


def _fixed_zip_times(data: bytes) -> bytes:
    """The same archive with every member dated ZIP_TIME (zipfile stamps the clock)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            member.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(member, src.read(info.filename))
    return out.getvalue()


# --------------------------------------------------------------------------- PDF

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/local/share/fonts/dejavu"),
    Path("/Library/Fonts"),
)


def _fonts() -> tuple[str, str]:
    """DejaVu Sans (regular, bold) when this machine has it, else the built-in Helvetica."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "WbsDejaVu" in pdfmetrics.getRegisteredFontNames():
        return "WbsDejaVu", "WbsDejaVu-Bold"
    for folder in FONT_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            pdfmetrics.registerFont(TTFont("WbsDejaVu", str(regular)))
            pdfmetrics.registerFont(TTFont("WbsDejaVu-Bold", str(bold)))
            return "WbsDejaVu", "WbsDejaVu-Bold"
    return "Helvetica", "Helvetica-Bold"


def _markup(text: str, latin_only: bool) -> str:
    from xml.sax.saxutils import escape

    if latin_only:  # Helvetica has Latin-1 glyphs only
        text = "".join(c if ord(c) < 256 else "?" for c in text)
    return escape(text).replace("\t", " ").replace("\n", "<br/>")


def _footer_canvas(footer: Callable[[int, int], str], font: str) -> type[Any]:
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    class Numbered(canvas.Canvas):  # type: ignore[misc]
        """Holds the pages back until the count is known, then prints 'page n of N'."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._held: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 - reportlab's name
            self._held.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._held)
            for number, state in enumerate(self._held, start=1):
                self.__dict__.update(state)
                self.setFont(font, 8)
                self.drawString(18 * mm, 10 * mm, footer(number, total))
                super().showPage()
            super().save()

    return Numbered


def to_pdf(case: GratifikasiCase, *, compress: bool = True) -> bytes:
    """The form as an A4 PDF: Indonesian labels first, English second; the case number, the
    export time and the page number on every page. Fixed metadata dates (reportlab's
    invariant mode), so the same input gives the same bytes."""
    from reportlab.lib.colors import grey
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    regular, bold = _fonts()
    latin_only = regular == "Helvetica"
    number = clean(case.case_number, SHORT_MAX)
    exported = export_time(case.exported_at)

    def footer(page: int, total: int) -> str:
        text = (
            f"{number} · diekspor / exported {exported} · "
            f"halaman {page} dari {total} / page {page} of {total}"
        )
        return text if not latin_only else text.replace("·", "-")

    title = ParagraphStyle("title", fontName=bold, fontSize=14, leading=18, spaceAfter=4)
    head = ParagraphStyle("head", fontName=bold, fontSize=11, leading=14, spaceBefore=8)
    label = ParagraphStyle("label", fontName=bold, fontSize=8.5, leading=11, spaceBefore=4)
    value = ParagraphStyle("value", fontName=regular, fontSize=9.5, leading=12.5)
    note = ParagraphStyle("note", fontName=regular, fontSize=8, leading=10, textColor=grey)

    def para(text: str, style: ParagraphStyle) -> Paragraph:
        return Paragraph(_markup(text, latin_only), style)

    story: list[Any] = [
        para(TITLE.id, title),
        para(TITLE.en, note),
        para(f"{Label('Nomor kasus', 'Case number').both()}: {number}", value),
        para(f"{Label('Waktu ekspor', 'Exported at').both()}: {exported}", value),
        para(SOURCE_NOTE.id, note),
        Spacer(1, 2 * mm),
    ]
    section: Label | None = None
    for row in filled(case):
        if row.section != section:
            section = row.section
            story.append(para(section.both(), head))
        story.append(para(row.label.both(), label))
        if row.value:
            story.append(para(row.value, value))
        if row.note:
            story.append(para(row.note, note))
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"{TITLE.id} {number}",
        author="wbs",
        creator="wbs",
        invariant=1,
        pageCompression=1 if compress else 0,
    )
    doc.build(story, canvasmaker=_footer_canvas(footer, regular))
    return out.getvalue()
