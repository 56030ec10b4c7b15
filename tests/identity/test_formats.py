"""The two format additions identity release needs, in Python and in the browser module:
a directory's `custodians` list (verified like the channels) and the v2 envelope "served
without identity" (identity null and no identity wraps, together)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crypto import directory as lib_directory
from crypto import envelope as lib_envelope
from crypto.encoding import b64u_encode
from crypto.errors import DecryptError, FormatError, SignatureError
from crypto.keys import KeyPair

pytest_plugins = ["tests.browser.fixtures"]

OFFICER, CUSTODIAN, REPORTER = KeyPair.generate(), KeyPair.generate(), KeyPair.generate()
IDENTITY = {"nama": "Pelapor Uji"}


def entry(key: KeyPair, name: str) -> dict[str, str]:
    return {"key_id": key.public.key_id_hex, "public_key": key.public.text, "name": name}


def signed(custodians: list[dict[str, str]] | None) -> dict[str, str]:
    document: dict[str, Any] = {
        "v": 1,
        "unit": "UJI",
        "version": 2,
        "channels": {"wbs": [entry(OFFICER, "Petugas")]},
    }
    if custodians is not None:
        document["custodians"] = custodians
    return lib_directory.sign_directory(Ed25519PrivateKey.generate(), document)


def test_directory_custodians_are_verified_like_recipients() -> None:
    found = lib_directory.verify_signed_directory(signed([entry(CUSTODIAN, "Penjaga")]))
    assert [c.key_id for c in found.custodians] == [CUSTODIAN.public.key_id_hex]
    assert found.custodian_keys() == [CUSTODIAN.public]
    assert found.recipients("wbs") == [OFFICER.public]  # custodians are no recipients
    assert lib_directory.verify_signed_directory(signed(None)).custodians == ()
    lying = dict(entry(CUSTODIAN, "Penjaga"), key_id=OFFICER.public.key_id_hex)
    with pytest.raises(SignatureError):
        lib_directory.verify_signed_directory(signed([lying]))
    with pytest.raises(SignatureError):
        lib_directory.verify_signed_directory(signed({"x": 1}))  # type: ignore[arg-type]


def sealed_v2() -> lib_envelope.SealedReport:
    return lib_envelope.seal_report(
        unit="UJI",
        channel="wbs",
        report_id="4b0f3f52-6e1c-4b8e-9a55-2d0f1f6c9a11",
        content={"uraian": "isi"},
        recipients=[OFFICER.public],
        reporter_key=REPORTER.public,
        identity=IDENTITY,
        identity_recipients=[CUSTODIAN.public],
    )


def withheld(data: dict[str, Any]) -> dict[str, Any]:
    return dict(data, identity=None, identity_wraps=[])


def test_a_v2_envelope_served_without_identity_still_opens_its_content() -> None:
    sealed = sealed_v2()
    data = withheld(sealed.envelope.to_json())
    opened = lib_envelope.open_report(data, OFFICER)
    assert opened.content == {"uraian": "isi"} and opened.identity is None
    assert lib_envelope.ReportEnvelope.from_json(data).to_json() == data
    release = lib_envelope.release_identity(sealed.envelope, CUSTODIAN, OFFICER.public)
    for attempt in (
        lambda: lib_envelope.release_identity(data, CUSTODIAN, OFFICER.public),
        lambda: lib_envelope.open_released_identity(data, release, OFFICER),
        lambda: lib_envelope.open_report_identity(data, CUSTODIAN),
    ):
        with pytest.raises(DecryptError):
            attempt()
    # As sealed, the release opens for the requester only.
    assert lib_envelope.open_released_identity(sealed.envelope, release, OFFICER) == IDENTITY
    # Half withheld stays malformed.
    full = sealed.envelope.to_json()
    for half in (dict(full, identity=None), dict(full, identity_wraps=[])):
        with pytest.raises(FormatError):
            lib_envelope.ReportEnvelope.from_json(half)


BROWSER = """async ([signedDir, envelope, seed]) => {
  const dir = await window.wbs.verifyDirectory(signedDir, { unit: "UJI" });
  const keyPair = await window.wbs.keyPairFrom(window.wbs.encoding.b64uDecode(seed));
  const opened = await window.wbs.openReport(envelope, keyPair);
  let half = "opened";
  try {
    await window.wbs.openReport({ ...envelope, identity_wraps: ["x"] }, keyPair);
  } catch (err) { half = err.name; }
  return { custodians: dir.custodians.map((c) => c.keyId), content: opened.content,
           identity: opened.identity, half };
}"""


@pytest.mark.browser
async def test_browser_module_reads_custodians_and_the_withheld_form(crypto_page: Any) -> None:
    data = withheld(sealed_v2().envelope.to_json())
    seed = b64u_encode(OFFICER.private_bytes())
    got = await crypto_page.evaluate(
        BROWSER, [signed([entry(CUSTODIAN, "Penjaga")]), json.loads(json.dumps(data)), seed]
    )
    assert got == {
        "custodians": [CUSTODIAN.public.key_id_hex],
        "content": {"uraian": "isi"},
        "identity": None,
        "half": "DecryptError",
    }
