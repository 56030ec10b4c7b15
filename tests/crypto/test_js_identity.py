"""Envelope v2 (identity key) interop between Chromium and Python, both ways: sealing,
custodian opening, identity release (re-wrap) and the refusals."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from crypto.encoding import b64u_decode, b64u_encode
from crypto.envelope import (
    ReportEnvelope,
    open_released_identity,
    open_report,
    open_report_identity,
    release_identity,
    seal_report,
)
from crypto.errors import DecryptError
from crypto.identity import identity_commitment, unwrap_identity_key
from crypto.keys import KeyPair

pytest_plugins = ["tests.browser.fixtures"]
pytestmark = pytest.mark.browser

CANARY = "KANARI-identity-7c1d"
REFUSED = "DecryptError: cannot decrypt"

PRELUDE = """
const W = window.wbs;
const { b64uDecode, b64uEncode, fromHex, toHex } = W.encoding;
async function outcome(attempt) {
  try { return await attempt(); } catch (err) { return `${err.name}: ${err.message}`; }
}
"""


async def run(page: Any, body: str, arg: Any = None) -> Any:
    return await page.evaluate(f"async (a) => {{ {PRELUDE}\n{body} }}", arg)


async def test_v2_envelope_sealed_in_chromium_opens_in_python(crypto_page: Any) -> None:
    officers = [KeyPair.generate() for _ in range(2)]
    reporter, custodian, custodian2 = KeyPair.generate(), KeyPair.generate(), KeyPair.generate()
    content = {"uraian": CANARY + " isi ü"}
    identity = {"nama": "Rahasia " + CANARY, "telepon": "0812"}
    made = await run(
        crypto_page,
        """
        const { envelope, dataKey, identityKey } = await W.sealReport({
          unit: "DEMO", channel: "gratifikasi", reportId: a.reportId, content: a.content,
          identity: a.identity, recipients: a.recipients, reporterKey: a.reporter,
          identityRecipients: a.custodians });
        return { envelope, dk: toHex(dataKey), ik: toHex(identityKey.bytes()),
                 ikText: String(identityKey), ikJson: JSON.stringify({ k: identityKey }) };
        """,
        {
            "reportId": str(uuid.uuid4()),
            "content": content,
            "identity": identity,
            "recipients": [o.public.text for o in officers],
            "reporter": reporter.public.text,
            "custodians": [custodian.public.text, custodian2.public.text],
        },
    )
    env = made["envelope"]
    assert made["ikText"] == "IdentityKey(***)" and made["ikJson"] == '{"k":"IdentityKey(***)"}'
    parsed = ReportEnvelope.from_json(env)
    assert parsed.v == 2 and parsed.to_json() == env
    assert parsed.identity_wrap_key_ids == [
        custodian.public.key_id_hex,
        custodian2.public.key_id_hex,
    ]
    assert parsed.identity_commitment == identity_commitment(bytes.fromhex(made["ik"]))
    assert CANARY not in str(env)
    for holder in (*officers, reporter):
        opened = open_report(env, holder)
        assert opened.content == content and opened.identity is None
        assert opened.data_key.secret.hex() == made["dk"]
        with pytest.raises(DecryptError):
            open_report_identity(env, holder)
    for c, wrap in zip((custodian, custodian2), parsed.identity_wraps, strict=True):
        assert open_report_identity(env, c) == identity
        assert unwrap_identity_key(wrap, parsed.context, c).secret.hex() == made["ik"]
    # release in Python by a custodian, opened in Python by the requester
    wrap = release_identity(env, custodian2, officers[1].public)
    assert open_released_identity(env, wrap, officers[1]) == identity
    with pytest.raises(DecryptError):
        open_released_identity(env, wrap, officers[0])


async def test_v2_envelope_sealed_in_python_opens_in_chromium(crypto_page: Any) -> None:
    officer, other, reporter, custodian = (KeyPair.generate() for _ in range(4))
    identity = {"nama": "Anonim " + CANARY}
    sealed = seal_report(
        unit="DEMO",
        channel="wbs",
        report_id=str(uuid.uuid4()),
        content={"uraian": CANARY},
        identity=identity,
        recipients=[officer.public, other.public],
        reporter_key=reporter.public,
        identity_recipients=[custodian.public],
    )
    env = sealed.envelope.to_json()
    result = await run(
        crypto_page,
        """
        const kp = async (seed) => W.keyPairFrom(fromHex(seed));
        const open = async (seed) => outcome(async () => {
          const r = await W.openReport(a.env, await kp(seed));
          return { content: r.content, identity: r.identity, dk: toHex(r.dataKey) };
        });
        const custodian = await kp(a.custodian);
        return {
          officer: await open(a.officer), reporter: await open(a.reporter),
          custodianIdentity: await W.openReportIdentity(a.env, custodian),
          officerIdentity: await outcome(async () =>
            W.openReportIdentity(a.env, await kp(a.officer))),
          dkAsIk: await outcome(() => W.openIdentity(new W.IdentityKey(fromHex(a.dk)),
            { unit: a.env.unit, channel: a.env.channel, reportId: a.env.report_id },
            b64uDecode(a.env.identity))),
          dkAsV1: await outcome(() => W.openIdentity(fromHex(a.dk),
            { unit: a.env.unit, channel: a.env.channel, reportId: a.env.report_id },
            b64uDecode(a.env.identity))),
          identityWrapAsDataKeyWrap: await outcome(() => W.unwrapDataKey(
            b64uDecode(a.env.identity_wraps[0]),
            { unit: a.env.unit, channel: a.env.channel, reportId: a.env.report_id }, custodian)),
          custodianHasNoDataKey: await outcome(() => W.openReport(a.env, custodian)),
          release: await W.releaseIdentity(a.env, custodian, a.requester),
        };
        """,
        {
            "env": env,
            "officer": officer.private_bytes().hex(),
            "reporter": reporter.private_bytes().hex(),
            "custodian": custodian.private_bytes().hex(),
            "requester": other.public.text,
            "dk": sealed.data_key.secret.hex(),
        },
    )
    expected = {"content": {"uraian": CANARY}, "identity": None, "dk": sealed.data_key.secret.hex()}
    assert result["officer"] == expected and result["reporter"] == expected
    assert result["custodianIdentity"] == identity
    for name in (
        "officerIdentity",
        "dkAsIk",
        "dkAsV1",
        "identityWrapAsDataKeyWrap",
        "custodianHasNoDataKey",
    ):
        assert result[name] == REFUSED, name
    # a re-wrap made in Chromium opens in Python for the requester only
    release = b64u_decode(result["release"])
    assert release[:2] == b"\x01\x08"
    assert open_released_identity(env, release, other) == identity
    for wrong in (officer, reporter, custodian):
        with pytest.raises(DecryptError):
            open_released_identity(env, release, wrong)


async def test_release_made_in_python_opens_in_chromium(crypto_page: Any) -> None:
    officer, requester, reporter, custodian = (KeyPair.generate() for _ in range(4))
    identity = {"nama": "Pelapor " + CANARY}
    sealed = seal_report(
        unit="DEMO",
        channel="wbs",
        report_id=str(uuid.uuid4()),
        content={"uraian": "isi"},
        identity=identity,
        recipients=[officer.public, requester.public],
        reporter_key=reporter.public,
        identity_recipients=[custodian.public],
    )
    env = sealed.envelope.to_json()
    release = b64u_encode(release_identity(env, custodian, requester.public))
    result = await run(
        crypto_page,
        """
        const kp = async (seed) => W.keyPairFrom(fromHex(seed));
        const requester = await kp(a.requester);
        const ctx = { unit: a.env.unit, channel: a.env.channel, reportId: a.env.report_id };
        const ik = await W.unwrapIdentityKey(b64uDecode(a.release), ctx, requester);
        const bad = b64uDecode(a.release); bad[bad.length - 1] ^= 1;
        const flipped = [];
        const wrap = b64uDecode(a.release);
        for (let i = 0; i < wrap.length; i++) {
          const w = wrap.slice(); w[i] ^= 0x01;
          flipped.push(await outcome(() => W.openReleasedIdentity(a.env, w, requester)));
        }
        return {
          opened: await W.openReleasedIdentity(a.env, a.release, requester),
          ik: toHex(ik.bytes()),
          commitment: toHex(await W.identityCommitment(ik)),
          officer: await outcome(async () =>
            W.openReleasedIdentity(a.env, a.release, await kp(a.officer))),
          flipped: [...new Set(flipped)], positions: flipped.length,
          swapped: await outcome(() => W.openReleasedIdentity(
            { ...a.env, identity_commitment: b64uEncode(new Uint8Array(32)) }, a.release,
            requester)),
        };
        """,
        {
            "env": env,
            "release": release,
            "requester": requester.private_bytes().hex(),
            "officer": officer.private_bytes().hex(),
        },
    )
    assert sealed.identity_key is not None
    assert result["opened"] == identity
    assert result["ik"] == sealed.identity_key.secret.hex()
    assert bytes.fromhex(result["commitment"]) == identity_commitment(sealed.identity_key)
    assert result["officer"] == REFUSED
    assert result["flipped"] == [REFUSED]
    assert result["positions"] == len(b64u_decode(release))
    assert result["swapped"] == REFUSED


async def test_v1_sealed_in_chromium_is_unchanged(crypto_page: Any) -> None:
    """Identity without custodians in the browser: still envelope v1, opened as before."""
    officer, reporter = KeyPair.generate(), KeyPair.generate()
    made = await run(
        crypto_page,
        """
        const { envelope, identityKey } = await W.sealReport({
          unit: "DEMO", channel: "wbs", reportId: a.reportId, content: { a: "b" },
          identity: { nama: "x" }, recipients: [a.officer], reporterKey: a.reporter });
        return { envelope, identityKey, keys: Object.keys(envelope) };
        """,
        {
            "reportId": str(uuid.uuid4()),
            "officer": officer.public.text,
            "reporter": reporter.public.text,
        },
    )
    assert made["identityKey"] is None
    assert made["keys"] == [
        "v",
        "unit",
        "channel",
        "report_id",
        "content",
        "identity",
        "wraps",
        "reporter_key",
    ]
    assert made["envelope"]["v"] == 1
    assert open_report(made["envelope"], officer).identity == {"nama": "x"}
