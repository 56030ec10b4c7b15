"""The fixtures written by the Python library (tests/crypto/make_fixtures.py) open in Chromium."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["tests.browser.fixtures"]
pytestmark = pytest.mark.browser

FIXTURES = Path(__file__).parent / "fixtures"

PRELUDE = """
const W = window.wbs;
const { b64uDecode, b64uEncode, fromHex, toHex, utf8, fromUtf8 } = W.encoding;
const ctxOf = (c) => ({ unit: c.unit, channel: c.channel, reportId: c.report_id });
const pairOf = (k) => W.keyPairFrom(fromHex(k.seed));
async function outcome(attempt) {
  try { return await attempt(); } catch (err) { return `${err.name}: ${err.message}`; }
}
"""


@cache
def load(name: str) -> dict[str, Any]:
    data = json.loads((FIXTURES / name).read_text())
    assert data["made_by"] == "python" and data["format"] in (1, 2)
    return data


async def run(page: Any, body: str, fixture: str) -> Any:
    return await page.evaluate(f"async (f) => {{ {PRELUDE}\n{body} }}", load(fixture))


async def test_keys(crypto_page: Any) -> None:
    result = await run(
        crypto_page,
        """
        const out = [];
        for (const k of f.keys) {
          const pk = k.suite === 1 ? (await pairOf(k)).publicKey : W.decodePublicKey(k.public_key);
          out.push({ public_key: pk.text, key_id: await W.keyIdHex(pk),
                     fingerprint: await W.fingerprint(pk.text), suite: pk.suite });
        }
        return out;
        """,
        "keys.json",
    )
    expected = [{k: v for k, v in key.items() if k != "seed"} for key in load("keys.json")["keys"]]
    assert result == expected
    assert {k["suite"] for k in result} == {1, 2}


async def test_envelope(crypto_page: Any) -> None:
    f = load("envelope.json")
    result = await run(
        crypto_page,
        """
        const open = async (env, kp) => outcome(async () => {
          const r = await W.openReport(env, kp);
          return { content: r.content, identity: r.identity, dk: toHex(r.dataKey) };
        });
        const out = { officers: [] };
        for (const k of f.officers) out.officers.push(await open(f.envelope, await pairOf(k)));
        out.reporter = await open(f.envelope, (await W.deriveFromReceipt(f.receipt)).keyPair);
        out.late = await open(f.escalated, await pairOf(f.late));
        out.lateOnOriginal = await open(f.envelope, await pairOf(f.late));
        out.outsider = await open(f.escalated, await pairOf(f.outsider));
        const pq = f.pq_officer;
        out.pq = await outcome(() => W.keyPairFrom(fromHex(pq.seed), pq.public_key));
        out.wrapSuites = f.envelope.wraps.map((w) => W.wrapHeader(b64uDecode(w)).suite);
        return out;
        """,
        "envelope.json",
    )
    opened = {"content": f["content"], "identity": f["identity"], "dk": f["data_key"]}
    assert result["officers"] == [opened, opened]
    assert result["reporter"] == opened
    assert result["late"] == opened
    assert result["lateOnOriginal"] == "DecryptError: cannot decrypt"
    assert result["outsider"] == "DecryptError: cannot decrypt"
    assert result["pq"] == "UnsupportedError: browser opens suite 1 only"
    assert result["wrapSuites"] == [1, 1, 2, 1]  # a report may carry both kinds of recipient


async def test_messages_and_notes(crypto_page: Any) -> None:
    result = await run(
        crypto_page,
        """
        const dk = fromHex(f.data_key), ctx = ctxOf(f.context);
        const messages = [], notes = [], swapped = [];
        for (const m of f.messages) {
          const ids = { senderRole: m.sender_role, messageId: m.message_id };
          messages.push(await W.openMessage(dk, ctx, ids, b64uDecode(m.box)));
          const flip = m.sender_role === "reporter" ? "officer" : "reporter";
          const other = { ...ids, senderRole: flip };
          swapped.push(await outcome(() => W.openMessage(dk, ctx, other, b64uDecode(m.box))));
        }
        for (const n of f.notes) {
          const ids = { authorKeyId: n.author_key_id, noteId: n.note_id };
          notes.push(await W.openNote(dk, ctx, ids, b64uDecode(n.box)));
        }
        return { messages, notes, swapped };
        """,
        "messages.json",
    )
    f = load("messages.json")
    assert result["messages"] == [m["text"] for m in f["messages"]]
    assert result["notes"] == [n["text"] for n in f["notes"]]
    assert result["swapped"] == ["DecryptError: cannot decrypt"] * len(f["messages"])


async def test_staff_keys(crypto_page: Any) -> None:
    f = load("staffkeys.json")
    result = await run(
        crypto_page,
        """
        const u = await W.unwrapPrivateKey(JSON.stringify(f.wrapped), f.passphrase);
        const r = await W.unwrapWithRecoveryKey(f.recovery_wrapped, f.recovery_key.toLowerCase());
        const mine = await W.keyPairFrom(fromHex(f.seed));
        return {
          public: u.keyPair.publicKey.text, login: u.loginSecret,
          loginOnly: await W.loginSecret(f.passphrase, f.wrapped.kdf),
          recovered: r.keyPair.publicKey.text, fromSeed: mine.publicKey.text,
          wrong: await outcome(() => W.unwrapPrivateKey(f.wrapped, f.passphrase + " ")),
          argon: await outcome(() => W.unwrapPrivateKey(f.argon2id.wrapped, f.passphrase)),
          pq: await outcome(() => W.unwrapPrivateKey(f.pq.wrapped, f.passphrase)),
        };
        """,
        "staffkeys.json",
    )
    assert result["public"] == result["recovered"] == result["fromSeed"] == f["public_key"]
    assert result["login"] == result["loginOnly"] == f["login_secret"]
    assert result["wrong"] == "DecryptError: cannot decrypt"
    assert result["argon"].startswith("UnsupportedError: key derivation argon2id")
    assert result["pq"].startswith("UnsupportedError:")


async def test_receipts(crypto_page: Any) -> None:
    f = load("receipts.json")
    result = await run(
        crypto_page,
        """
        const valid = [];
        for (const v of f.valid) {
          const d = await W.deriveFromReceipt(v.receipt);
          valid.push({ canonical: W.normaliseReceipt(v.receipt), lookup: d.lookupB64u,
                       key: d.reporterPublicKey,
                       fromSeed: (await W.keyPairFrom(fromHex(v.reporter_seed))).publicKey.text });
        }
        const invalid = f.invalid.map((x) => {
          try { W.normaliseReceipt(x.input); return "accepted"; } catch (err) { return err.reason; }
        });
        const accepted = f.accepted.map((x) => W.normaliseReceipt(x.input));
        return { valid, invalid, accepted };
        """,
        "receipts.json",
    )
    assert result["valid"] == [
        {
            "canonical": v["canonical"],
            "lookup": v["lookup"],
            "key": v["reporter_public_key"],
            "fromSeed": v["reporter_public_key"],
        }
        for v in f["valid"]
    ]
    assert result["invalid"] == [x["reason"] for x in f["invalid"]]
    assert result["accepted"] == [x["canonical"] for x in f["accepted"]]


async def test_directory_and_directory_key(crypto_page: Any) -> None:
    f = load("directory.json")
    result = await run(
        crypto_page,
        """
        const d = await W.verifyDirectory(f.signed, { unit: "DEMO",
          fingerprint: f.unit_key_fingerprint.toUpperCase(), minVersion: 3 });
        const admin = await pairOf(f.admin);
        const unitKey = await W.unwrapDirectoryKey(f.directory_key_wrap, admin);
        const resigned = await W.signDirectory({ ...JSON.parse(f.signed.document), version: 4 },
                                               unitKey.privateKey);
        const again = await W.verifyDirectory({ ...resigned, public_key: unitKey.publicKey },
                                              { publicKey: f.signed.public_key });
        return {
          version: d.version, wbs: d.channels.wbs.map((e) => [e.keyId, e.name]),
          fp: await W.signingKeyFingerprint(f.signed.public_key),
          samePublic: unitKey.publicKey === f.signed.public_key, again: again.version,
          otherFp: await outcome(() => W.verifyDirectory(f.signed,
            { fingerprint: "aaaa aaaa aaaa aaaa aaaa aaaa aaaa aaaa" })),
          rollback: await outcome(() => W.verifyDirectory(f.signed, { minVersion: 4 })),
          outsider: await outcome(async () => W.unwrapDirectoryKey(f.directory_key_wrap,
            await W.keyPairFrom(W.generateDataKey()))),
        };
        """,
        "directory.json",
    )
    doc = json.loads(f["signed"]["document"])
    assert result["version"] == 3
    assert result["wbs"] == [[e["key_id"], e["name"]] for e in doc["channels"]["wbs"]]
    assert result["fp"] == f["unit_key_fingerprint"]
    assert result["samePublic"] is True and result["again"] == 4
    assert result["otherFp"] == "SignatureError: unit key differs from the poster's fingerprint"
    assert result["rollback"] == "SignatureError: directory older than one already seen"
    assert result["outsider"] == "DecryptError: cannot decrypt"


async def test_proof(crypto_page: Any) -> None:
    result = await run(
        crypto_page,
        """
        return {
          ok: await W.verifyProof(f.proof,
                                  { envelope: f.envelope, publicKey: f.server_public_key }),
          hash: await W.envelopeSha256(f.envelope),
          fp: await W.signingKeyFingerprint(f.server_public_key),
          tampered: await outcome(() => W.verifyProof({ ...f.proof, unit: "LAIN" }, {})),
        };
        """,
        "proof.json",
    )
    proof = load("proof.json")["proof"]
    assert result["ok"] == {
        "caseNumber": proof["case_number"],
        "unit": proof["unit"],
        "submittedAt": proof["submitted_at"],
    }
    assert result["hash"] == proof["envelope_sha256"]
    assert result["tampered"] == "SignatureError: signature not valid"


async def test_attachments(crypto_page: Any) -> None:
    f = load("attachment.json")
    result = await run(
        crypto_page,
        """
        const dk = fromHex(f.data_key), ctx = ctxOf(f.context), out = [];
        for (const a of f.attachments) {
          const blob = await W.decryptAttachment(dk, ctx, a.attachment_id, fromHex(a.stream));
          const box = b64uDecode(a.metadata);
          const meta = await W.openAttachmentMetadata(dk, ctx, a.attachment_id, box);
          const cut = fromHex(a.stream).slice(0, -1);
          out.push({ plaintext: toHex(new Uint8Array(await blob.arrayBuffer())), meta,
                     cut: await outcome(() =>
                       W.decryptAttachment(dk, ctx, a.attachment_id, cut)) });
        }
        return out;
        """,
        "attachment.json",
    )
    assert result == [
        {
            "plaintext": a["plaintext"],
            "meta": {"name": a["name"], "contentType": a["content_type"]},
            "cut": "DecryptError: cannot decrypt",
        }
        for a in f["attachments"]
    ]


async def test_identity_v2(crypto_page: Any) -> None:
    f = load("identity.json")
    result = await run(
        crypto_page,
        """
        const env = f.envelope;
        const open = async (kp) => outcome(async () => {
          const r = await W.openReport(env, kp);
          return { content: r.content, identity: r.identity, dk: toHex(r.dataKey) };
        });
        const out = { officers: [] };
        for (const k of f.officers) out.officers.push(await open(await pairOf(k)));
        const reporter = (await W.deriveFromReceipt(f.receipt)).keyPair;
        out.reporter = await open(reporter);
        out.reporterIdentity = await outcome(() => W.openReportIdentity(env, reporter));
        const custodian = await pairOf(f.custodian);
        out.custodian = await W.openReportIdentity(env, custodian);
        out.ik = (await W.envelopeIdentityKey(env, custodian)).bytes();
        out.ik = toHex(out.ik);
        const officer = await pairOf(f.officers[0]);
        out.released = await W.openReleasedIdentity(env, f.release, officer);
        out.otherOfficer = await outcome(async () =>
          W.openReleasedIdentity(env, f.release, await pairOf(f.officers[1])));
        out.outsider = await outcome(async () =>
          W.openReportIdentity(env, await pairOf(f.outsider)));
        out.identitySuites = env.identity_wraps.map(
          (w) => W.identityWrapHeader(b64uDecode(w)).suite);
        return out;
        """,
        "identity.json",
    )
    opened = {"content": f["content"], "identity": None, "dk": f["data_key"]}
    assert result["officers"] == [opened, opened]
    assert result["reporter"] == opened
    assert result["reporterIdentity"] == "DecryptError: cannot decrypt"
    assert result["custodian"] == f["identity"]
    assert result["ik"] == f["identity_key"]
    assert result["released"] == f["identity"]
    assert result["otherOfficer"] == "DecryptError: cannot decrypt"
    assert result["outsider"] == "DecryptError: cannot decrypt"
    assert result["identitySuites"] == [1, 2]
