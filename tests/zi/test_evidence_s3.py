"""Evidence files on S3 (a moto server): the ZIP check reads the upload back by ranges,
the download streams from the bucket, a refused file leaves nothing there."""

from __future__ import annotations

import pytest

from tests.conftest import login, make_settings
from tests.s3 import s3_endpoint, s3_overrides
from tests.zi.test_evidence_files import DOCX, PDF, _api_headers, _assessment
from wbs.core.blobs import S3Store

__all__ = ["s3_endpoint"]


@pytest.fixture
def settings(tmp_path, db_url, s3_endpoint):
    return make_settings(tmp_path / "var", db_url, **s3_overrides(s3_endpoint))


async def test_evidence_upload_check_and_download_on_s3(app, client, make_unit, make_staff):
    store = app.state.evidence.store
    assert isinstance(store, S3Store)
    unit = await make_unit("ZIS3")
    auditor = await make_staff(unit, "auditor")
    assert (await login(client, auditor)).status_code == 303
    assessment_id = await _assessment(client, "ZIS3")
    url = f"/api/v1/zi/assessments/{assessment_id}/evidence/files"
    headers = await _api_headers(client)
    made = await client.post(
        url, headers=headers, data={"code": "PPA1B"}, files={"file": ("laporan.docx", DOCX)}
    )
    assert made.status_code == 201, made.text
    download = await client.get(made.json()["file"]["url"])
    assert download.status_code == 200 and download.content == DOCX
    assert download.headers["content-disposition"].startswith("attachment;")

    fake = await client.post(  # a PDF named .docx: the ZIP check refuses it
        url, headers=headers, data={"code": "PPA1A"}, files={"file": ("rekap.docx", PDF)}
    )
    assert fake.status_code == 422 and fake.json()["error"] == "zi_evidence_file"
    assert len(list(store.names())) == 1
    temp = store.client.list_objects_v2(Bucket=store.bucket, Prefix=store.temp_prefix)
    assert temp.get("KeyCount", 0) == 0
    assert not (app.state.settings.data_dir / "evidence").exists()
