"""Reporter, officer and poster pages rendered by the real app (no browser): content,
languages, privacy headers, access policy, the form definitions and the English catalog."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from tests.conftest import login
from tests.reporting.helpers import form_tokens, form_tokens_in
from wbs.core.i18n import LOCALE_DIR
from wbs.core.templating import TEMPLATE_DIR, make_environment
from wbs.reporting import fields
from wbs.units.models import CaseType

CHANNELS_ID = (
    "Pengaduan Masyarakat",
    "Whistle-Blowing System",
    "Laporan Gratifikasi",
    "Benturan Kepentingan",
)


def assert_private(response) -> None:
    """Reporter pages: no cookie, no caching, no referrer."""
    assert "set-cookie" not in response.headers
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]


async def test_landing_lists_four_channels_in_indonesian_then_english(client, make_unit):
    unit = await make_unit(name="Kantor Uji Coba")
    page = await client.get(f"/lapor/{unit.code}")
    assert page.status_code == 200
    assert_private(page)
    for name in CHANNELS_ID:
        assert name in page.text
    assert "Apa yang terjadi dengan laporan Anda" in page.text
    assert "Bagaimana kerahasiaan Anda dijaga" in page.text
    assert '<html lang="id">' in page.text
    # No directory signed yet: the channels say so instead of offering a form.
    assert "belum siap menerima laporan" in page.text
    english = await client.get(f"/lapor/{unit.code.lower()}?lang=en")
    assert english.status_code == 200 and '<html lang="en">' in english.text
    assert "Public Complaints" in english.text and "How your anonymity is protected" in english.text
    assert_private(english)
    assert (await client.get("/lapor/TIDAKADA")).status_code == 404


async def test_index_links_every_unit(client, make_unit):
    unit = await make_unit(name="Kantor Indeks")
    page = await client.get("/")
    assert page.status_code == 200 and f'href="/lapor/{unit.code}"' in page.text
    assert_private(page)


@pytest.mark.parametrize("case_type", list(CaseType))
async def test_every_form_renders_its_fields_with_limits(client, make_unit, case_type):
    unit = await make_unit()
    page = await client.get(f"/lapor/{unit.code}/{case_type.value}")
    assert page.status_code == 200
    assert_private(page)
    form = fields.form_for(case_type)
    for f in form.fields:
        assert f'name="isi.{f.name}"' in page.text
        if f.kind is not fields.Kind.select:
            assert re.search(rf'id="{f.input_id}"[^>]*maxlength="{f.max_length}"', page.text)
    for f in fields.IDENTITY:
        assert f'name="identitas.{f.name}"' in page.text
    assert 'enctype="multipart/form-data"' in page.text
    assert 'src="/static/js/report.js"' in page.text and "<noscript>" in page.text
    required_nik = re.search(r'<input id="i-nik"[^>]*>', page.text)
    assert required_nik is not None
    assert (" required" in required_nik.group(0)) == (case_type is CaseType.gratifikasi)
    assert (await client.get(f"/lapor/{unit.code}/lainnya")).status_code == 404


def test_whistleblowing_form_asks_4w1h_and_how_much():
    names = [f.name for f in fields.form_for(CaseType.wbs).fields]
    assert names == ["apa", "siapa", "di_mana", "kapan", "bagaimana", "berapa"]


def test_clean_checks_required_lengths_choices_and_named_reports():
    ok = fields.clean(
        CaseType.wbs,
        {
            "isi.apa": " Pungutan liar \r\n di loket ",
            "isi.siapa": "Petugas loket",
            "isi.di_mana": "Loket 3",
            "isi.kapan": "Maret 2026",
            "isi.bagaimana": "Meminta uang",
        },
    )
    assert ok.ok and ok.identity is None
    assert ok.fields["apa"] == "Pungutan liar \n di loket"
    missing = fields.clean(CaseType.wbs, {"isi.apa": "x"})
    assert set(missing.errors) == {"f-siapa", "f-di_mana", "f-kapan", "f-bagaimana"}
    too_long = fields.clean(CaseType.wbs, {"isi.di_mana": "x" * 301})
    assert too_long.errors["f-di_mana"].en == "At most 300 characters."
    gift = fields.clean(CaseType.gratifikasi, {"isi.jenis": "mobil", "identitas.nik": "123"})
    assert gift.errors["f-jenis"].id == "Pilih salah satu pilihan."
    assert gift.errors["i-nik"].en == "A NIK has 16 digits."
    assert {"i-nama", "i-jabatan", "i-alamat", "i-telepon"} <= set(gift.errors)
    partial = fields.clean(CaseType.pengaduan, {"identitas.telepon": "0812"})
    assert partial.errors["i-nama"].en == "Give a name if you include your identity."


async def test_poster_page_and_pdf(client, make_unit):
    unit = await make_unit(name="Kantor Poster")
    page = await client.get(f"/lapor/{unit.code}/poster")
    assert page.status_code == 200
    assert f"/lapor/{unit.code}" in page.text and 'src="data:image/svg+xml' in page.text
    assert "Kunci unit belum ditandatangani." in page.text
    pdf = await client.get(f"/lapor/{unit.code}/poster.pdf?lang=en")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-") and len(pdf.content) > 2000


async def test_mailbox_page_sets_no_cookie(client):
    page = await client.get("/kotak-surat")
    assert page.status_code == 200 and 'name="tanda_terima"' in page.text
    assert_private(page)


async def test_no_js_post_needs_csrf(client, make_unit):
    unit = await make_unit()
    response = await client.post(f"/lapor/{unit.code}/wbs", data={"isi.apa": "x"})
    assert response.status_code == 403


async def test_no_js_post_with_missing_fields_keeps_values_and_marks_errors(client, make_unit):
    unit = await make_unit()
    token = await _csrf(client, f"/lapor/{unit.code}/wbs")
    response = await client.post(
        f"/lapor/{unit.code}/wbs", data={**token, "isi.apa": "Pungli <b>loket</b>"}
    )
    assert response.status_code == 422
    assert "Periksa kembali isian yang ditandai." in response.text
    assert "Pungli &lt;b&gt;loket&lt;/b&gt;" in response.text  # kept, escaped
    assert 'id="f-siapa-error"' in response.text and 'aria-invalid="true"' in response.text
    assert '<a href="#f-siapa">Siapa yang terlibat</a>: Wajib diisi.' in response.text


async def _csrf(client, path: str) -> dict[str, str]:
    """The no-JavaScript form's hidden fields (CSRF token and signed challenge)."""
    return await form_tokens(client, path)


async def test_officer_pages_need_sign_in_and_show_metadata_only(client, make_unit, make_staff):
    unit = await make_unit()
    officer = await make_staff(unit, "verifikator")
    for path in ("/staff/cases", "/staff/key", f"/admin/units/{unit.code}/keys"):
        assert (await client.get(path)).status_code in (303, 401)
    await login(client, officer)
    inbox = await client.get("/staff/cases")
    assert inbox.status_code == 200 and "Belum ada kasus untuk Anda." in inbox.text
    assert "Kunci perangkat Anda belum disetujui" in inbox.text
    key = await client.get("/staff/key")
    assert key.status_code == 200 and 'data-status="none"' in key.text
    assert 'src="/static/js/officer-key.js"' in key.text
    assert (await client.get(f"/admin/units/{unit.code}/keys")).status_code == 404
    unknown = "00000000-0000-4000-8000-000000000000"
    assert (await client.get(f"/staff/cases/{unknown}")).status_code == 404


async def test_admin_key_page(client, make_unit, make_staff):
    unit = await make_unit()
    other = await make_unit()
    admin = await make_staff(unit, "admin")
    await login(client, admin)
    page = await client.get(f"/admin/units/{unit.code}/keys")
    assert page.status_code == 200 and f'data-unit="{unit.code}"' in page.text
    assert (await client.get(f"/admin/units/{other.code}/keys")).status_code == 404


def _template_strings() -> dict[str, str]:
    env = make_environment()
    found: dict[str, str] = {}
    for path in sorted(TEMPLATE_DIR.rglob("*.html")):
        for _line, _func, message in env.extract_translations(path.read_text()):
            if isinstance(message, str):
                found.setdefault(message, str(path.relative_to(TEMPLATE_DIR)))
    return found


def test_english_catalog_translates_every_template_string():
    with (LOCALE_DIR / "en" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="en")
    translated = {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}
    strings = _template_strings()
    assert len(strings) > 100
    missing = {s: where for s, where in strings.items() if s not in translated}
    assert not missing, f"strings without an English translation: {missing}"
    for source, english in translated.items():
        if "%(" in source:
            assert re.findall(r"%\(\w+\)s", source) == re.findall(r"%\(\w+\)s", english)


def test_templates_have_no_inline_script_or_style():
    for path in TEMPLATE_DIR.rglob("*.html"):
        text = path.read_text()
        assert " style=" not in text and "<style" not in text, path
        assert re.search(r"<script(?![^>]*\bsrc=)", text) is None, path
        assert re.search(r"\son[a-z]+=", text) is None, path


async def test_no_js_mailbox_asks_for_the_receipt(client):
    token = await _csrf(client, "/kotak-surat")
    empty = await client.post("/kotak-surat", data={**token, "tanda_terima": " "})
    assert empty.status_code == 422 and "Masukkan tanda terima Anda." in empty.text
    assert_private(empty)
    token = form_tokens_in(empty.text)  # the page comes back with a fresh challenge
    reply = await client.post(
        "/kotak-surat/pesan", data={**token, "tanda_terima": "", "pesan": "x"}
    )
    assert reply.status_code == 422


async def test_signed_in_staff_can_use_the_public_form_token(client, make_unit, make_staff):
    unit = await make_unit()
    await login(client, await make_staff(unit, "verifikator"))
    token = await _csrf(client, f"/lapor/{unit.code}/pengaduan")
    response = await client.post(f"/lapor/{unit.code}/pengaduan", data=token)
    assert response.status_code == 422  # the token matched; the empty form did not


async def test_no_js_upload_over_the_file_limit_is_refused_while_arriving(
    app, client, make_unit, settings
):
    from wbs.reporting.context import Reporting
    from wbs.reporting.limits import ReportingLimits

    app.state.reporting = Reporting.build(
        settings, settings.secret_bytes(), ReportingLimits(report_max_file_bytes=1024)
    )
    unit = await make_unit()
    token = await _csrf(client, f"/lapor/{unit.code}/wbs")
    response = await client.post(
        f"/lapor/{unit.code}/wbs",
        data=token,
        files={"lampiran": ("besar.bin", b"x" * 4096, "application/octet-stream")},
    )
    assert response.status_code == 413
    assert "Lampiran terlalu besar" in response.text
