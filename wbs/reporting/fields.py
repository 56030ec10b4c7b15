"""The report form of each case type, as data: fields, labels in both languages, limits.

One definition serves the HTML form, the browser's encryption (which reads the rendered
form), and the no-JavaScript path, where `clean()` checks the posted values before the
server seals them. Identity fields live in their own section and their own ciphertext.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from wbs.core.text import Text
from wbs.units.models import CaseType

NO_TEXT = Text("", "")  # a field without help, a form without an identity note


class Kind(StrEnum):
    text = "text"
    textarea = "textarea"
    date = "date"
    select = "select"
    money = "money"


@dataclass(frozen=True)
class Choice:
    value: str
    label: Text


@dataclass(frozen=True)
class Field:
    """One form field; `name` is the key in the encrypted content JSON."""

    name: str
    label: Text
    kind: Kind = Kind.text
    required: bool = False
    max_length: int = 200
    help: Text = NO_TEXT
    choices: tuple[Choice, ...] = ()

    @property
    def input_id(self) -> str:
        return f"f-{self.name}"


@dataclass(frozen=True)
class ReportForm:
    case_type: CaseType
    intro: Text
    fields: tuple[Field, ...]
    identity_required: bool = False
    identity_note: Text = NO_TEXT


@dataclass
class Cleaned:
    """Checked values of a posted form; `errors` maps a field name to its message."""

    fields: dict[str, str] = field(default_factory=dict)
    identity: dict[str, str] | None = None
    errors: dict[str, Text] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


LONG = 20_000  # characters of a narrative field; the content box limit is 256 KiB in all
SHORT = 300

_WHEN = Field(
    "kapan",
    Text("Kapan terjadi", "When it happened"),
    Kind.text,
    True,
    SHORT,
    Text(
        'Tanggal atau perkiraan waktu, misalnya "Maret 2026".',
        'A date or an estimate, for example "March 2026".',
    ),
)

WBS = ReportForm(
    CaseType.wbs,
    Text(
        "Laporkan dugaan pelanggaran oleh pegawai: apa yang terjadi, siapa yang terlibat, di mana, "
        "kapan, dan bagaimana. Identitas Anda tidak diperlukan.",
        "Report suspected wrongdoing by an employee: what happened, who was involved, where, when "
        "and how. Your identity is not needed.",
    ),
    (
        Field(
            "apa",
            Text("Apa yang terjadi", "What happened"),
            Kind.textarea,
            True,
            LONG,
            Text(
                "Perbuatan yang diduga melanggar, sejelas mungkin.",
                "The suspected act, as clearly as you can.",
            ),
        ),
        Field(
            "siapa",
            Text("Siapa yang terlibat", "Who was involved"),
            Kind.textarea,
            True,
            2_000,
            Text(
                "Nama, jabatan, atau unit kerja orang yang dilaporkan.",
                "Name, position or work unit of the person reported.",
            ),
        ),
        Field("di_mana", Text("Di mana", "Where"), Kind.text, True, SHORT),
        _WHEN,
        Field(
            "bagaimana",
            Text("Bagaimana caranya", "How it was done"),
            Kind.textarea,
            True,
            LONG,
            Text(
                "Cara perbuatan itu dilakukan dan bukti awal yang Anda ketahui.",
                "How it was done and any initial evidence you know of.",
            ),
        ),
        Field(
            "berapa",
            Text("Perkiraan nilai kerugian (jika ada)", "Estimated loss (if any)"),
            Kind.money,
            False,
            100,
            Text("Dalam rupiah.", "In rupiah."),
        ),
    ),
)

PENGADUAN = ReportForm(
    CaseType.pengaduan,
    Text(
        "Sampaikan keluhan atas layanan unit ini: layanan apa, apa yang tidak sesuai standar, "
        "kerugian yang Anda alami, dan penyelesaian yang Anda harapkan.",
        "Complain about a service of this unit: which service, what fell short of the service "
        "standard, what you lost, and the resolution you ask for.",
    ),
    (
        Field(
            "layanan",
            Text("Layanan", "Service"),
            Kind.text,
            True,
            SHORT,
            Text("Nama layanan yang Anda terima.", "The service you received."),
        ),
        Field(
            "masalah",
            Text("Apa yang tidak sesuai", "What went wrong"),
            Kind.textarea,
            True,
            LONG,
            Text(
                "Apa yang terjadi dan apa yang seharusnya menurut standar layanan.",
                "What happened and what the service standard says should have happened.",
            ),
        ),
        Field(
            "kerugian", Text("Kerugian yang dialami", "Loss suffered"), Kind.textarea, False, 5_000
        ),
        Field(
            "penyelesaian",
            Text("Penyelesaian yang diharapkan", "Resolution sought"),
            Kind.textarea,
            True,
            5_000,
        ),
        Field("tempat", Text("Tempat layanan", "Place of the service"), Kind.text, True, SHORT),
        Field(
            "waktu",
            Text("Waktu layanan", "Time of the service"),
            Kind.text,
            True,
            SHORT,
            Text(
                "Pengaduan dapat disampaikan paling lambat 30 hari setelah layanan.",
                "A complaint may be filed within 30 days of the service.",
            ),
        ),
    ),
)

GRATIFIKASI = ReportForm(
    CaseType.gratifikasi,
    Text(
        "Laporkan pemberian (gratifikasi) yang Anda terima atau tolak, paling lambat 10 hari kerja "
        "sejak diterima. Laporan gratifikasi wajib mencantumkan identitas pelapor; identitas tetap "
        "dienkripsi dan hanya dibuka oleh UPG.",
        "Report a gift (gratification) you received or refused, within 10 working days of "
        "receiving it. Gratification reports must name the reporter; the identity is still "
        "encrypted and opened only by the gratification control unit (UPG).",
    ),
    (
        Field(
            "penerima",
            Text("Penerima dan jabatannya", "Recipient and position"),
            Kind.text,
            True,
            SHORT,
        ),
        Field(
            "pemberi",
            Text("Nama dan alamat pemberi", "Giver's name and address"),
            Kind.textarea,
            True,
            1_000,
        ),
        Field(
            "hubungan",
            Text("Hubungan dengan pemberi", "Relation to the giver"),
            Kind.text,
            True,
            SHORT,
            Text(
                "Misalnya rekanan, pengguna layanan, keluarga, rekan kerja.",
                "For example supplier, service user, family, coworker.",
            ),
        ),
        Field(
            "jenis",
            Text("Jenis pemberian", "Type of gift"),
            Kind.select,
            True,
            40,
            choices=(
                Choice("uang", Text("Uang", "Money")),
                Choice("barang", Text("Barang", "Goods")),
                Choice("makanan", Text("Makanan/minuman", "Food or drink")),
                Choice(
                    "fasilitas",
                    Text(
                        "Fasilitas, perjalanan, atau hiburan", "Facilities, travel or entertainment"
                    ),
                ),
                Choice("lainnya", Text("Lainnya", "Other")),
            ),
        ),
        Field(
            "uraian",
            Text("Uraian pemberian", "Description of the gift"),
            Kind.textarea,
            True,
            5_000,
        ),
        Field("nilai", Text("Perkiraan nilai (Rp)", "Estimated value (Rp)"), Kind.money, True, 100),
        Field("tanggal", Text("Tanggal penerimaan", "Date received"), Kind.date, True, 10),
        Field("tempat", Text("Tempat penerimaan", "Place received"), Kind.text, True, SHORT),
        Field(
            "kronologi",
            Text("Kronologi", "Chronology"),
            Kind.textarea,
            True,
            LONG,
            Text("Bagaimana pemberian itu terjadi.", "How the gift came about."),
        ),
        Field(
            "status",
            Text("Status pemberian", "What happened to the gift"),
            Kind.select,
            True,
            40,
            choices=(
                Choice("ditolak", Text("Ditolak", "Refused")),
                Choice("dititipkan", Text("Dititipkan ke UPG", "Deposited with the UPG")),
                Choice("disimpan", Text("Masih disimpan penerima", "Still kept by the recipient")),
                Choice(
                    "disalurkan",
                    Text("Disalurkan (makanan mudah rusak)", "Donated (perishable food)"),
                ),
            ),
        ),
    ),
    identity_required=True,
    identity_note=Text(
        "Wajib untuk laporan gratifikasi (UU 30/2002 pasal 16).",
        "Required for gratification reports (Law 30/2002 art. 16).",
    ),
)

BENTURAN = ReportForm(
    CaseType.benturan_kepentingan,
    Text(
        "Nyatakan atau laporkan benturan kepentingan: kepentingan apa, keputusan apa yang "
        "dipengaruhi, dan siapa saja yang terlibat. Atasan yang berwenang akan menetapkan "
        "pengendaliannya.",
        "Declare or report a conflict of interest: what interest, which decision it affects, "
        "and who is involved. The competent superior decides how to control it.",
    ),
    (
        Field(
            "kepentingan",
            Text("Kepentingan", "The interest"),
            Kind.textarea,
            True,
            LONG,
            Text(
                "Misalnya kepentingan pribadi, bisnis, keluarga, atau hubungan dengan "
                "pihak tertentu.",
                "For example a personal, business or family interest, or ties to a party.",
            ),
        ),
        Field(
            "keputusan",
            Text("Keputusan yang dipengaruhi", "The decision at stake"),
            Kind.textarea,
            True,
            LONG,
        ),
        Field("pihak", Text("Pihak yang terlibat", "People involved"), Kind.textarea, True, 2_000),
        Field(
            "sifat",
            Text("Sifat benturan", "Kind of conflict"),
            Kind.select,
            True,
            40,
            choices=(
                Choice("aktual", Text("Aktual", "Actual")),
                Choice("potensial", Text("Potensial", "Potential")),
            ),
        ),
        Field(
            "kapan",
            Text("Kapan keputusan diambil", "When the decision is due"),
            Kind.text,
            False,
            SHORT,
        ),
    ),
)

FORMS: dict[CaseType, ReportForm] = {
    f.case_type: f for f in (PENGADUAN, WBS, GRATIFIKASI, BENTURAN)
}

IDENTITY: tuple[Field, ...] = (
    Field("nama", Text("Nama lengkap", "Full name"), Kind.text, True, SHORT),
    Field(
        "nik",
        Text("NIK", "National identity number (NIK)"),
        Kind.text,
        False,
        16,
        Text("16 angka.", "16 digits."),
    ),
    Field(
        "jabatan", Text("Jabatan / pekerjaan", "Position or occupation"), Kind.text, False, SHORT
    ),
    Field("alamat", Text("Alamat", "Address"), Kind.textarea, False, 1_000),
    Field("telepon", Text("Nomor telepon", "Phone number"), Kind.text, False, 30),
    Field("email", Text("E-mail", "E-mail"), Kind.text, False, 254),
)
# Gratification reports are named: these identity fields are then required too.
IDENTITY_REQUIRED_NAMED = frozenset({"nama", "nik", "jabatan", "alamat", "telepon"})

REQUIRED = Text("Wajib diisi.", "This field is required.")


def form_for(case_type: CaseType) -> ReportForm:
    return FORMS[case_type]


def identity_required(form: ReportForm, name: str) -> bool:
    return form.identity_required and name in IDENTITY_REQUIRED_NAMED


def _check(f: Field, value: str, required: bool) -> Text | None:
    if not value:
        return REQUIRED if required else None
    if len(value) > f.max_length:
        return Text(
            f"Paling banyak {f.max_length} karakter.", f"At most {f.max_length} characters."
        )
    if f.kind is Kind.select and value not in {c.value for c in f.choices}:
        return Text("Pilih salah satu pilihan.", "Choose one of the options.")
    if f.kind is Kind.money and not value.replace(".", "").replace(",", "").isdigit():
        return Text("Tulis angka saja, misalnya 1500000.", "Digits only, for example 1500000.")
    if f.kind is Kind.date and not _is_date(value):
        return Text("Tanggal tidak valid (TTTT-BB-HH).", "Not a valid date (YYYY-MM-DD).")
    if f.name == "nik" and not (value.isdigit() and len(value) == 16):
        return Text("NIK terdiri dari 16 angka.", "A NIK has 16 digits.")
    return None


def _is_date(value: str) -> bool:
    from datetime import date

    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def _normalise(value: str) -> str:
    # Browsers send CRLF in textareas; keep LF, strip surrounding blanks and NUL bytes.
    return value.replace("\r\n", "\n").replace("\x00", "").strip()


def clean(case_type: CaseType, posted: Mapping[str, str]) -> Cleaned:
    """Check a posted form (`isi.<name>` and `identitas.<name>` keys) against the definition."""
    form = form_for(case_type)
    out = Cleaned()
    for f in form.fields:
        value = _normalise(posted.get(f"isi.{f.name}", ""))
        problem = _check(f, value, f.required)
        if problem:
            out.errors[f.input_id] = problem
        elif value:
            out.fields[f.name] = value
    identity: dict[str, str] = {}
    for f in IDENTITY:
        value = _normalise(posted.get(f"identitas.{f.name}", ""))
        needed = identity_required(form, f.name)
        problem = _check(f, value, needed)
        if problem:
            out.errors[f"i-{f.name}"] = problem
        elif value:
            identity[f.name] = value
    if identity:
        missing_name = "nama" not in identity
        if missing_name and "i-nama" not in out.errors:
            out.errors["i-nama"] = Text(
                "Isi nama jika Anda mencantumkan identitas.",
                "Give a name if you include your identity.",
            )
        out.identity = identity
    return out
