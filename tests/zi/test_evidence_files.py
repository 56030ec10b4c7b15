"""Evidence files (data dukung) on SQLite and PostgreSQL: upload, download, limits, access."""

from __future__ import annotations

import io
import re
import zipfile
from hashlib import sha256
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import select

from tests.conftest import csrf_from, login
from wbs.audit.models import AuditEvent
from wbs.zi import documents, evidence
from wbs.zi.models import Evidence

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


DOCX = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
ODS = _zip(
    {
        "mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
        "content.xml": b"<office:document-content/>",
    }
)


async def _assessment(client: httpx.AsyncClient, unit: str) -> int:
    token = await csrf_from(client, f"/zi/units/{unit}")
    response = await client.post(
        f"/zi/units/{unit}/assessments",
        data={"csrf_token": token, "year": "2026", "assessor": "unit", "rules": "lke-2021"},
    )
    assert response.status_code == 303, response.text
    found = re.search(r"/zi/assessments/(\d+)$", response.headers["location"])
    assert found
    page = f"/zi/assessments/{found.group(1)}"
    token = await csrf_from(client, page)
    saved = await client.post(
        f"{page}/answers", data={"csrf_token": token, "a.PPA1A": "Y", "a.PPA1B": "A"}
    )
    assert saved.status_code == 303
    return int(found.group(1))


async def _api_headers(client: httpx.AsyncClient) -> dict[str, str]:
    return {"X-CSRF-Token": await csrf_from(client, "/staff")}


def _evidence_dir(app: Any) -> Path:
    return Path(app.state.settings.data_dir) / "evidence"


def _leftovers(app: Any) -> list[str]:
    """Temp files left in the evidence directory (there must never be any)."""
    root = _evidence_dir(app)
    return sorted(p.name for p in root.iterdir() if p.name.startswith(".")) if root.exists() else []


async def test_upload_on_the_page_download_and_completeness(
    app, client, make_unit, make_staff, db
) -> None:
    unit = await make_unit("ZIEV1")
    admin = await make_staff(unit, "admin")
    assert (await login(client, admin)).status_code == 303
    assessment_id = await _assessment(client, "ZIEV1")
    page = f"/zi/assessments/{assessment_id}"
    before = (await client.get(f"/api/v1/zi/assessments/{assessment_id}")).json()
    assert before["missing_evidence"] == ["PPA1A", "PPA1B"]
    html = (await client.get(page)).text
    assert 'enctype="multipart/form-data"' in html and f"{page}/evidence/files" in html
    assert "paling besar 20 MiB" in html

    token = await csrf_from(client, page)
    response = await client.post(
        f"{page}/evidence/files",
        data={"csrf_token": token, "code": "ppa1a", "note": "SK Tim"},
        files={"file": ("C:\\Dokumen\\SK Tim ZI.pdf", PDF, "application/octet-stream")},
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"].endswith("#data-dukung")

    # Listed on the page with a download link, its size and note; counted as evidence.
    html = (await client.get(page)).text
    row = await db.scalar(select(Evidence).where(Evidence.assessment_id == assessment_id))
    assert row is not None and row.file_name == "SK Tim ZI.pdf"
    assert row.content_type == "application/pdf" and row.size_bytes == len(PDF)
    assert row.sha256 == sha256(PDF).hexdigest() and row.link is None
    assert f'href="/zi/evidence/{row.id}/file"' in html and "SK Tim ZI.pdf" in html
    assert f"({len(PDF)} B)" in html and "SK Tim" in html
    after = (await client.get(f"/api/v1/zi/assessments/{assessment_id}")).json()
    assert after["missing_evidence"] == ["PPA1B"]
    assert after["evidence"] == [
        {
            "id": row.id,
            "code": "PPA1A",
            "link": None,
            "file_ref": None,
            "note": "SK Tim",
            "file": {
                "name": "SK Tim ZI.pdf",
                "content_type": "application/pdf",
                "size": len(PDF),
                "sha256": sha256(PDF).hexdigest(),
                "url": f"/zi/evidence/{row.id}/file",
            },
        }
    ]

    # Stored under the data dir by its digest, nothing left behind.
    stored = _evidence_dir(app) / sha256(PDF).hexdigest()
    assert stored.read_bytes() == PDF and _leftovers(app) == []

    download = await client.get(f"/zi/evidence/{row.id}/file")
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"SK Tim ZI.pdf\"; filename*=UTF-8''SK%20Tim%20ZI.pdf"
    )
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-security-policy"] == "sandbox"

    # Audited like the other evidence: name, size and digest, never the content.
    event = await db.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "zi.evidence.upload", AuditEvent.object_id == str(assessment_id)
        )
    )
    assert event is not None and event.actor == admin.email
    assert event.details == {
        "code": "PPA1A",
        "evidence": row.id,
        "kind": "upload",
        "name": "SK Tim ZI.pdf",
        "content_type": "application/pdf",
        "size": len(PDF),
        "sha256": sha256(PDF).hexdigest(),
    }
    history = (await client.get(f"/api/v1/zi/assessments/{assessment_id}/history")).json()
    assert history[-1]["action"] == "zi.evidence.upload"


async def test_upload_through_the_api(app, client, make_unit, make_staff, db) -> None:
    unit = await make_unit("ZIEV2")
    auditor = await make_staff(unit, "auditor")
    assert (await login(client, auditor)).status_code == 303
    assessment_id = await _assessment(client, "ZIEV2")
    url = f"/api/v1/zi/assessments/{assessment_id}/evidence/files"
    headers = await _api_headers(client)
    name = "Laporan «Triwulan»\u202e.docx"  # a right-to-left override is dropped from the name
    response = await client.post(
        url, headers=headers, data={"code": "PPA1B", "note": "TW I"}, files={"file": (name, DOCX)}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["code"] == "PPA1B" and body["note"] == "TW I"
    assert body["file"]["name"] == "Laporan «Triwulan».docx"
    assert body["file"]["content_type"] == documents.TYPES[".docx"].content_type
    assert body["file"]["size"] == len(DOCX)

    download = await client.get(body["file"]["url"])
    assert download.content == DOCX
    assert download.headers["content-type"] == documents.TYPES[".docx"].content_type
    disposition = download.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="Laporan Triwulan.docx"; ')
    assert disposition.endswith("filename*=UTF-8''" + quote("Laporan «Triwulan».docx", safe=""))

    second = await client.post(
        url, headers=headers, data={"code": "ppa1a"}, files={"file": ("rekap.ods", ODS)}
    )
    assert second.status_code == 201, second.text
    view = (await client.get(f"/api/v1/zi/assessments/{assessment_id}")).json()
    assert view["missing_evidence"] == []
    assert [e["file"]["name"] for e in view["evidence"]] == ["Laporan «Triwulan».docx", "rekap.ods"]
    assert _leftovers(app) == []

    # Without the CSRF token: refused, nothing stored.
    refused = await client.post(url, data={"code": "PPA1A"}, files={"file": ("a.pdf", PDF)})
    assert refused.status_code == 403
    count = len(
        list(await db.scalars(select(Evidence).where(Evidence.assessment_id == assessment_id)))
    )
    assert count == 2


async def test_too_large_is_refused(
    app, client, make_unit, make_staff, db, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WBS_ZI_EVIDENCE_MAX_BYTES", "1024")
    app.state.evidence = evidence.Evidence.build(settings)  # read once, as create_app does
    unit = await make_unit("ZIEV3")
    admin = await make_staff(unit, "admin")
    assert (await login(client, admin)).status_code == 303
    assessment_id = await _assessment(client, "ZIEV3")
    url = f"/api/v1/zi/assessments/{assessment_id}/evidence/files"
    headers = await _api_headers(client)
    fits = PDF + b"%" * (1024 - len(PDF))
    assert (
        await client.post(
            url, headers=headers, data={"code": "PPA1A"}, files={"file": ("ok.pdf", fits)}
        )
    ).status_code == 201
    # Over the limit while arriving, and announced too large by Content-Length.
    for size in (1025, 1024 + evidence.FORM_OVERHEAD + 1):
        response = await client.post(
            url,
            headers=headers,
            data={"code": "PPA1B"},
            files={"file": ("big.pdf", PDF + b"%" * (size - len(PDF)))},
        )
        assert response.status_code == 413, response.text
        body = response.json()
        assert body["error"] == "zi_evidence_too_large"
        assert body["message_id"] == "Berkas data dukung terlalu besar (paling besar 1 KiB)."
        assert body["message_en"] == "The evidence file is too large (at most 1 KiB)."

    page = f"/zi/assessments/{assessment_id}"
    token = await csrf_from(client, page)
    response = await client.post(
        f"{page}/evidence/files",
        data={"csrf_token": token, "code": "PPA1B"},
        files={"file": ("big.pdf", PDF + b"%" * 2048)},
    )
    assert response.status_code == 413 and "terlalu besar (paling besar 1 KiB)" in response.text
    assert "paling besar 1 KiB" in response.text  # the form states the limit

    rows = list(await db.scalars(select(Evidence).where(Evidence.assessment_id == assessment_id)))
    assert [r.file_name for r in rows] == ["ok.pdf"]
    assert sorted(p.name for p in _evidence_dir(app).iterdir()) == [sha256(fits).hexdigest()]


@pytest.mark.parametrize(
    ("name", "data", "problem"),
    [
        ("setup.exe", b"MZ\x90\x00", "'.exe' tidak diterima"),
        ("tanpa-ekstensi", PDF, "tidak diterima"),
        ("halaman.html", b"<script>alert(1)</script>", "'.html' tidak diterima"),
        ("gambar.svg", b"<svg/>", "'.svg' tidak diterima"),
        ("menyamar.pdf", PNG, "bukan PDF"),
        ("foto.jpg", PDF, "bukan JPEG"),
        ("arsip.docx", _zip({"isi.txt": b"x"}), "bukan DOCX"),
        ("lembar.xlsx", DOCX, "bukan XLSX"),
        ("teks.odt", ODS, "bukan ODT"),
        ("catatan.txt", b"abc\x00def", "bukan TXT"),
        ("data.csv", PDF, "bukan CSV"),
        ("kosong.pdf", b"", "kosong"),
    ],
)
async def test_wrong_type_is_refused(
    app, client, make_unit, make_staff, db, name, data, problem
) -> None:
    unit = await make_unit()
    admin = await make_staff(unit, "admin")
    assert (await login(client, admin)).status_code == 303
    assessment_id = await _assessment(client, unit.code)
    url = f"/api/v1/zi/assessments/{assessment_id}/evidence/files"
    response = await client.post(
        url,
        headers=await _api_headers(client),
        data={"code": "PPA1A"},
        files={"file": (name, data, "application/pdf")},
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "zi_evidence_file"
    assert problem in response.json()["message_id"]
    assert await db.scalar(select(Evidence).where(Evidence.assessment_id == assessment_id)) is None
    assert _leftovers(app) == [] and not any(_evidence_dir(app).glob("[0-9a-f]*"))


async def test_page_shows_the_reason_and_form_errors(
    app, client, make_unit, make_staff, db
) -> None:
    unit = await make_unit("ZIEV4")
    admin = await make_staff(unit, "admin")
    assert (await login(client, admin)).status_code == 303
    assessment_id = await _assessment(client, "ZIEV4")
    page = f"/zi/assessments/{assessment_id}"
    token = await csrf_from(client, page)
    wrong = await client.post(
        f"{page}/evidence/files",
        data={"csrf_token": token, "code": "PPA1A"},
        files={"file": ("makro.docm", DOCX)},
    )
    assert wrong.status_code == 422 and "Jenis berkas &#39;.docm&#39; tidak diterima" in wrong.text
    unknown = await client.post(
        f"{page}/evidence/files",
        data={"csrf_token": token, "code": "X9"},
        files={"file": ("sk.pdf", PDF)},
    )
    assert unknown.status_code == 422 and "X9: kode butir tidak dikenal" in unknown.text
    missing = await client.post(
        f"{page}/evidence/files",
        data={"csrf_token": token, "code": "PPA1A"},
        files={"file": ("", b"")},
    )
    assert missing.status_code == 422 and "Pilih berkas data dukung." in missing.text
    not_multipart = await client.post(
        f"{page}/evidence/files", data={"csrf_token": token, "code": "PPA1A"}
    )
    assert not_multipart.status_code == 422
    no_token = await client.post(
        f"{page}/evidence/files", data={"code": "PPA1A"}, files={"file": ("sk.pdf", PDF)}
    )
    assert no_token.status_code == 403
    assert await db.scalar(select(Evidence).where(Evidence.assessment_id == assessment_id)) is None
    assert _leftovers(app) == [] and not any(_evidence_dir(app).glob("[0-9a-f]*"))


async def test_who_may_upload_and_download(app, client, make_unit, make_staff, db) -> None:
    unit = await make_unit("ZIEV5")
    other = await make_unit("ZIEV5X")
    admin = await make_staff(unit, "admin")
    assert (await login(client, admin)).status_code == 303
    assessment_id = await _assessment(client, "ZIEV5")
    url = f"/api/v1/zi/assessments/{assessment_id}/evidence/files"
    made = await client.post(
        url,
        headers=await _api_headers(client),
        data={"code": "PPA1A"},
        files={"file": ("foto.png", PNG)},
    )
    assert made.status_code == 201
    download = made.json()["file"]["url"]

    async def as_(role: str, home: Any) -> tuple[int, int, int]:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as c:
            assert (await login(c, await make_staff(home, role))).status_code == 303
            got = await c.get(download)
            if got.status_code == 200:
                assert got.content == PNG
            posted = await c.post(
                url,
                headers=await _api_headers(c),
                data={"code": "PPA1B"},
                files={"file": ("b.png", PNG)},
            )
            page = await c.get(f"/zi/assessments/{assessment_id}")
            return got.status_code, posted.status_code, page.status_code

    # The unit's verifikator reads (and downloads) but does not upload.
    assert await as_("verifikator", unit) == (200, 404, 200)
    # Staff of another unit, even its auditor, see nothing: 404, as if it did not exist.
    assert await as_("auditor", other) == (404, 404, 404)
    assert await as_("verifikator", other) == (404, 404, 404)
    # Signed out: the page redirects to sign-in, the API says 401.
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as anon:
        assert (await anon.get(download)).status_code == 303
    # A link-only evidence row has no file to download.
    page = f"/zi/assessments/{assessment_id}"
    token = await csrf_from(client, page)
    await client.post(
        f"{page}/evidence",
        data={"csrf_token": token, "code": "PPA1B", "link": "https://example.go.id/sk.pdf"},
    )
    link_row = await db.scalar(
        select(Evidence).where(Evidence.assessment_id == assessment_id, Evidence.link.is_not(None))
    )
    assert link_row is not None
    assert (await client.get(f"/zi/evidence/{link_row.id}/file")).status_code == 404


def test_names_are_cleaned() -> None:
    assert documents.clean_name("../../etc/passwd.txt") == "passwd.txt"
    assert documents.clean_name("C:\\Users\\a\\SK.pdf") == "SK.pdf"
    assert documents.clean_name('a"b<c>|d?.pdf') == "a_b_c__d_.pdf"
    assert documents.clean_name("  .hidden.pdf ") == "hidden.pdf"
    assert documents.clean_name("baris\nbaru\tdan\u202eRTL.pdf") == "baris baru danRTL.pdf"
    long = documents.clean_name("x" * 300 + ".xlsx")
    assert len(long) == 200 and long.endswith("x.xlsx")
    assert documents.content_disposition("Ünduh résumé.pdf") == (
        'attachment; filename="Unduh resume.pdf"; '
        "filename*=UTF-8''%C3%9Cnduh%20r%C3%A9sum%C3%A9.pdf"
    )
    assert documents.content_disposition("文件.pdf").startswith(
        'attachment; filename="data-dukung.pdf"; '
    )
    assert [documents.size_text(n) for n in (0, 512, 1536, 20 * 2**20)] == [
        "0 B",
        "512 B",
        "1.5 KiB",
        "20 MiB",
    ]


async def test_ids_out_of_bigint_range_are_refused_before_the_database(
    client, make_unit, make_staff
):
    account = await make_staff(await make_unit(), "auditor")
    assert (await login(client, account)).status_code == 303
    for url in (
        "/zi/assessments/99999999999999999999",
        "/zi/evidence/99999999999999999999/file",
        "/api/v1/zi/assessments/99999999999999999999",
    ):
        assert (await client.get(url)).status_code == 422, url
