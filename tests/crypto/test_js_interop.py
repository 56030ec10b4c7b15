"""Interop both ways between the browser module (real Chromium) and the Python `crypto` library.

Everything made in Chromium is opened by Python and everything made by Python is opened in
Chromium: public keys, key ids, fingerprints, boxes (content, identity, messages, notes,
attachment metadata), data-key wraps, whole envelopes, attachment streams, wrapped staff
keys, receipts, directories and proofs.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crypto.boxes import DataKey, Kind, Label, ReportContext, open_box, seal_box
from crypto.encoding import b64u_decode, b64u_encode
from crypto.errors import DecryptError
from crypto.keys import KeyPair, PublicKey

pytest_plugins = ["tests.browser.fixtures"]
pytestmark = pytest.mark.browser

CANARY = "KANARI-interop-5b2f"

PRELUDE = """
const W = window.wbs;
const { b64uDecode, b64uEncode, fromHex, toHex, utf8, fromUtf8 } = W.encoding;
const ctxOf = (a) => ({ unit: a.unit, channel: a.channel, reportId: a.reportId });
async function outcome(attempt) {
  try { return await attempt(); } catch (err) { return `${err.name}: ${err.message}`; }
}
"""


async def run(page: Any, body: str, arg: Any = None) -> Any:
    return await page.evaluate(f"async (a) => {{ {PRELUDE}\n{body} }}", arg)


def new_context() -> ReportContext:
    return ReportContext(unit="DEMO", channel="wbs", report_id=str(uuid.uuid4()))


def ctx_arg(ctx: ReportContext, **extra: Any) -> dict[str, Any]:
    return {"unit": ctx.unit, "channel": ctx.channel, "reportId": ctx.report_id, **extra}


async def test_public_keys_key_ids_and_fingerprints_agree(crypto_page: Any) -> None:
    pairs = [KeyPair.generate() for _ in range(8)]
    result = await run(
        crypto_page,
        """
        const out = [];
        for (const seed of a.seeds) {
          const kp = await W.keyPairFrom(fromHex(seed));
          out.push({ text: kp.publicKey.text, kid: await W.keyIdHex(kp.publicKey),
                     fp: await W.fingerprint(kp.publicKey.text) });
        }
        return out;
        """,
        {"seeds": [p.private_bytes().hex() for p in pairs]},
    )
    assert result == [
        {"text": p.public.text, "kid": p.public.key_id_hex, "fp": p.public.fingerprint}
        for p in pairs
    ]


BOX_CASES = [
    (Kind.CONTENT, Label.CONTENT, (), "content"),
    (Kind.IDENTITY, Label.IDENTITY, (), "identity"),
    (Kind.MESSAGE, Label.MESSAGE, ("reporter", "m-1"), "message"),
    (Kind.MESSAGE, Label.MESSAGE, ("officer", "m-2"), "message"),
    (Kind.NOTE, Label.NOTE, ("0123456789abcdef0123456789abcdef", "n-1"), "note"),
]

OPEN_IN_JS = """
const dk = fromHex(a.dk), ctx = ctxOf(a), box = fromHex(a.box), [x, y] = a.extra;
switch (a.what) {
  case "content": return JSON.stringify(await W.openContent(dk, ctx, box));
  case "identity": return JSON.stringify(await W.openIdentity(dk, ctx, box));
  case "message": return W.openMessage(dk, ctx, { senderRole: x, messageId: y }, box);
  case "note": return W.openNote(dk, ctx, { authorKeyId: x, noteId: y }, box);
}
"""

SEAL_IN_JS = """
const dk = fromHex(a.dk), ctx = ctxOf(a), [x, y] = a.extra;
let box;
switch (a.what) {
  case "content": box = await W.sealContent(dk, ctx, JSON.parse(a.text)); break;
  case "identity": box = await W.sealIdentity(dk, ctx, JSON.parse(a.text)); break;
  case "message":
    box = await W.sealMessage(dk, ctx, { senderRole: x, messageId: y, text: a.text });
    break;
  case "note": box = await W.sealNote(dk, ctx, { authorKeyId: x, noteId: y, text: a.text }); break;
}
return toHex(box);
"""


@pytest.mark.parametrize(("kind", "label", "extra", "what"), BOX_CASES)
async def test_boxes_both_ways(
    crypto_page: Any, kind: Kind, label: str, extra: tuple[str, ...], what: str
) -> None:
    dk, ctx = DataKey.generate(), new_context()
    text = '{"uraian":"' + CANARY + ' ü"}' if what in ("content", "identity") else CANARY + " ü"
    fields = (*ctx.fields, *extra)
    arg = ctx_arg(ctx, dk=dk.secret.hex(), extra=list(extra), what=what, text=text)

    python_box = seal_box(dk, kind, label, fields, text.encode())
    opened = await run(crypto_page, OPEN_IN_JS, dict(arg, box=python_box.hex()))
    assert opened == text

    js_box = bytes.fromhex(await run(crypto_page, SEAL_IN_JS, arg))
    assert js_box[:2] == bytes([1, kind])
    assert open_box(dk, kind, label, fields, js_box) == text.encode()
    assert CANARY.encode() not in js_box
    flipped = bytearray(js_box)
    flipped[len(js_box) // 2] ^= 1
    with pytest.raises(DecryptError):
        open_box(dk, kind, label, fields, bytes(flipped))

    other = "officer" if extra[:1] == ("reporter",) else "reporter"
    if what == "message":
        with pytest.raises(DecryptError):
            open_box(dk, kind, label, (*ctx.fields, other, extra[1]), js_box)
    flipped_py = bytearray(python_box)
    flipped_py[-1] ^= 1
    refused = await run(
        crypto_page,
        "return outcome(async () => { " + OPEN_IN_JS + " });",
        dict(arg, box=bytes(flipped_py).hex()),
    )
    assert refused == "DecryptError: cannot decrypt"


async def test_public_key_text_round_trips(crypto_page: Any) -> None:
    pair = KeyPair.generate()
    text = await run(
        crypto_page, "return W.decodePublicKey(a.text).text;", {"text": pair.public.text}
    )
    assert PublicKey.from_text(text) == pair.public
    assert b64u_encode(b64u_decode(text)) == text


SEAL_ENVELOPE_IN_JS = """
const { envelope, dataKey } = await W.sealReport({ ...ctxOf(a), content: a.content,
  identity: a.identity, recipients: a.recipients, reporterKey: a.reporterKey });
return { envelope, dk: toHex(dataKey) };
"""

OPEN_ENVELOPE_IN_JS = """
const kp = await W.keyPairFrom(fromHex(a.seed));
return outcome(async () => {
  const r = await W.openReport(a.envelope, kp);
  return { content: r.content, identity: r.identity, dk: toHex(r.dataKey) };
});
"""


async def test_envelope_sealed_in_chromium_opens_in_python(crypto_page: Any) -> None:
    from crypto.envelope import ReportEnvelope, add_recipient, open_report

    officers = [KeyPair.generate() for _ in range(3)]
    excluded, reporter, late = KeyPair.generate(), KeyPair.generate(), KeyPair.generate()
    ctx = new_context()
    content = {"judul": "Pungutan liar", "uraian": CANARY + " dana BOS ü"}
    identity = {"nama": "Rahasia " + CANARY}
    sealed = await run(
        crypto_page,
        SEAL_ENVELOPE_IN_JS,
        ctx_arg(
            ctx,
            content=content,
            identity=identity,
            recipients=[o.public.text for o in officers],
            reporterKey=reporter.public.text,
        ),
    )
    envelope = sealed["envelope"]
    parsed = ReportEnvelope.from_json(envelope)
    assert parsed.to_json() == envelope
    assert parsed.wrap_key_ids == [k.public.key_id_hex for k in [*officers, reporter]]
    for holder in [*officers, reporter]:
        opened = open_report(envelope, holder)
        assert opened.content == content
        assert opened.identity == identity
        assert opened.data_key.secret.hex() == sealed["dk"]
    assert open_report(envelope, officers[0], identity=False).identity is None
    with pytest.raises(DecryptError):
        open_report(envelope, excluded)
    assert CANARY not in str(envelope)
    # escalation in Chromium by an officer who opened it there; the new officer opens in Python
    wrap = await run(
        crypto_page,
        """
        const kp = await W.keyPairFrom(fromHex(a.seed));
        const { dataKey } = await W.openReport(a.envelope, kp);
        return W.addRecipient(a.envelope, dataKey, a.late);
        """,
        {"seed": officers[1].private_bytes().hex(), "envelope": envelope, "late": late.public.text},
    )
    escalated = parsed.with_wrap(b64u_decode(wrap))
    assert open_report(escalated, late).content == content
    # and escalation in Python for an officer who then opens in Chromium
    by_python = add_recipient(envelope, open_report(envelope, reporter).data_key, [excluded.public])
    result = await run(
        crypto_page,
        OPEN_ENVELOPE_IN_JS,
        {"seed": excluded.private_bytes().hex(), "envelope": by_python.to_json()},
    )
    assert result["content"] == content


async def test_envelope_sealed_in_python_opens_in_chromium(crypto_page: Any) -> None:
    from crypto.envelope import seal_report

    officer, other, reporter = KeyPair.generate(), KeyPair.generate(), KeyPair.generate()
    content = {"uraian": CANARY + " — hadiah dari rekanan", "lokasi": "Jakarta"}
    sealed = seal_report(
        unit="DEMO",
        channel="gratifikasi",
        report_id=str(uuid.uuid4()),
        content=content,
        recipients=[officer.public],
        reporter_key=reporter.public,
        identity={"nama": "Anonim"},
    )
    envelope = sealed.envelope.to_json()
    for holder in (officer, reporter):
        result = await run(
            crypto_page,
            OPEN_ENVELOPE_IN_JS,
            {"seed": holder.private_bytes().hex(), "envelope": envelope},
        )
        assert result == {
            "content": content,
            "identity": {"nama": "Anonim"},
            "dk": sealed.data_key.secret.hex(),
        }
    refused = await run(
        crypto_page,
        OPEN_ENVELOPE_IN_JS,
        {"seed": other.private_bytes().hex(), "envelope": envelope},
    )
    assert refused == "DecryptError: cannot decrypt"


async def test_every_byte_of_python_envelope_flipped_fails_in_chromium(crypto_page: Any) -> None:
    from crypto.envelope import seal_report

    officer, reporter = KeyPair.generate(), KeyPair.generate()
    sealed = seal_report(
        unit="DEMO",
        channel="wbs",
        report_id=str(uuid.uuid4()),
        content={"uraian": CANARY},
        recipients=[officer.public],
        reporter_key=reporter.public,
    )
    envelope = sealed.envelope.to_json()
    result = await run(
        crypto_page,
        """
        const kp = await W.keyPairFrom(fromHex(a.seed));
        const out = { opened: [], other: [], positions: 0 };
        for (const field of ["content", "wraps"]) {
          const bytes = b64uDecode(field === "wraps" ? a.envelope.wraps[0] : a.envelope[field]);
          for (let i = 0; i < bytes.length; i++) {
            const bad = bytes.slice(); bad[i] ^= 0x01;
            const env = field === "wraps"
              ? { ...a.envelope, wraps: [b64uEncode(bad), a.envelope.wraps[1]] }
              : { ...a.envelope, [field]: b64uEncode(bad) };
            out.positions++;
            const r = await outcome(() => W.openReport(env, kp));
            if (typeof r !== "string") out.opened.push(`${field}:${i}`);
            else if (r !== "DecryptError: cannot decrypt") out.other.push(`${field}:${i} ${r}`);
          }
        }
        for (const [k, v] of [["unit", "LAIN"], ["channel", "pengaduan"], ["report_id", "x"]]) {
          const r = await outcome(() => W.openReport({ ...a.envelope, [k]: v }, kp));
          if (typeof r !== "string") out.opened.push(k);
        }
        return out;
        """,
        {"seed": officer.private_bytes().hex(), "envelope": envelope},
    )
    assert result["positions"] == len(b64u_decode(envelope["content"])) + len(
        b64u_decode(envelope["wraps"][0])
    )
    assert result["opened"] == []
    assert result["other"] == []


# ---------------------------------------------------------------- attachments

ENCRYPT_IN_JS = """
const data = fromHex(a.data);
const blob = await W.encryptAttachment(fromHex(a.dk), ctxOf(a), a.id, new Blob([data]),
                                       { chunkSize: a.chunk });
const meta = await W.sealAttachmentMetadata(fromHex(a.dk), ctxOf(a), a.id,
                                            { name: a.name, contentType: "image/jpeg" });
return { stream: toHex(new Uint8Array(await blob.arrayBuffer())), meta: toHex(meta) };
"""

DECRYPT_IN_JS = """
return outcome(async () => {
  const source = new Blob([fromHex(a.stream)]);
  const blob = await W.decryptAttachment(fromHex(a.dk), ctxOf(a), a.id, source);
  const meta = await W.openAttachmentMetadata(fromHex(a.dk), ctxOf(a), a.id, fromHex(a.meta));
  return { data: toHex(new Uint8Array(await blob.arrayBuffer())), meta };
});
"""


@pytest.mark.parametrize(
    ("size", "chunk"), [(0, 64), (1, 64), (128, 64), (1000, 64), (70000, 65536)]
)
async def test_attachments_both_ways(crypto_page: Any, size: int, chunk: int) -> None:
    from crypto.attachment import (
        ciphertext_size,
        decrypt_attachment,
        encrypt_attachment,
        open_attachment_metadata,
        seal_attachment_metadata,
    )

    dk, ctx = DataKey.generate(), new_context()
    data = bytes((i * 7 + 3) % 256 for i in range(size))
    name = f"{CANARY} foto ü.jpg"
    arg = ctx_arg(
        ctx, dk=dk.secret.hex(), id=str(uuid.uuid4()), data=data.hex(), chunk=chunk, name=name
    )

    made = await run(crypto_page, ENCRYPT_IN_JS, arg)
    stream = bytes.fromhex(made["stream"])
    assert len(stream) == ciphertext_size(size, chunk)
    assert decrypt_attachment(dk, ctx, arg["id"], stream) == data
    meta = open_attachment_metadata(dk, ctx, arg["id"], bytes.fromhex(made["meta"]))
    assert (meta.name, meta.content_type) == (name, "image/jpeg")
    assert CANARY.encode() not in stream + bytes.fromhex(made["meta"])

    py_stream = encrypt_attachment(dk, ctx, arg["id"], data, chunk_size=chunk)
    py_meta = seal_attachment_metadata(dk, ctx, arg["id"], name, "image/jpeg")
    opened = await run(
        crypto_page, DECRYPT_IN_JS, dict(arg, stream=py_stream.hex(), meta=py_meta.hex())
    )
    assert opened == {"data": data.hex(), "meta": {"name": name, "contentType": "image/jpeg"}}

    for cut in {len(py_stream) - 1, 13 + min(chunk, size) + 16 if size > chunk else 13}:
        refused = await run(
            crypto_page, DECRYPT_IN_JS, dict(arg, stream=py_stream[:cut].hex(), meta=py_meta.hex())
        )
        assert refused == "DecryptError: cannot decrypt", cut
    other = await run(
        crypto_page,
        DECRYPT_IN_JS,
        dict(arg, id=str(uuid.uuid4()), stream=py_stream.hex(), meta=py_meta.hex()),
    )
    assert other == "DecryptError: cannot decrypt"


# ---------------------------------------------------------------- receipts

RECEIPT_IN_JS = """
const out = [];
for (const text of a.texts) {
  try {
    const d = await W.deriveFromReceipt(text);
    out.push({ canonical: W.normaliseReceipt(text), lookup: d.lookupB64u, key: d.reporterPublicKey,
               formatted: W.formatReceipt(text) });
  } catch (err) { out.push({ error: err.name, reason: err.reason }); }
}
return out;
"""


def python_receipt_view(text: str) -> dict[str, Any]:
    from crypto.errors import ReceiptError
    from crypto.receipt import derive_from_receipt, format_receipt, normalise_receipt

    try:
        keys = derive_from_receipt(text)
    except ReceiptError as exc:
        return {"error": "ReceiptError", "reason": exc.reason}
    return {
        "canonical": normalise_receipt(text),
        "lookup": keys.lookup_b64u,
        "key": keys.reporter_public_key,
        "formatted": format_receipt(text),
    }


async def test_receipts_agree_both_ways(crypto_page: Any) -> None:
    from crypto.receipt import new_receipt

    js_made = await run(
        crypto_page, "return Array.from({ length: 10 }, () => W.generateReceipt());"
    )
    py_made = [new_receipt() for _ in range(10)]
    texts = js_made + py_made
    messy = [
        f" {py_made[0].lower().replace('-', ' ')}\u3000",
        py_made[1].replace("-", "\u001f"),  # Python's \\s has U+001F, JavaScript's does not
        py_made[2] + "\ufeff",  # JavaScript's \\s has U+FEFF, Python's does not
        py_made[3].replace("-", "\u0085"),
        "\uff17" + py_made[4][1:],  # full-width digit: NFKC
        py_made[5][:-1] + "0",
        py_made[6][:-2],
        py_made[7][:-1] + ("2" if py_made[7][-1] != "2" else "3"),
        "ß" * 10,
    ]
    result = await run(crypto_page, RECEIPT_IN_JS, {"texts": texts + messy})
    assert result == [python_receipt_view(t) for t in texts + messy]
    assert all("lookup" in r for r in result[:20])


receipt_noise = st.lists(
    st.sampled_from(list("23456789ABCDEFGHJKMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz -_.01ILOß"))
    | st.characters(codec="utf-8", exclude_categories=("Cs",)),
    min_size=15,
    max_size=30,
)


@given(batch=st.lists(receipt_noise.map("".join), min_size=20, max_size=20))
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
async def test_receipt_normalisation_agrees_on_arbitrary_input(
    crypto_page: Any, batch: list[str]
) -> None:
    from crypto.receipt import new_receipt

    # half of the inputs start from a valid receipt, so the check and derivations run too
    texts = (
        batch
        + [new_receipt() + t[:2] for t in batch[:10]]
        + [" ".join(new_receipt().lower()) for _ in range(5)]
    )
    result = await run(crypto_page, RECEIPT_IN_JS, {"texts": texts})
    assert result == [python_receipt_view(t) for t in texts]


# ---------------------------------------------------------------- staff keys


async def test_staff_key_made_in_chromium_opens_in_python(crypto_page: Any) -> None:
    from crypto.envelope import seal_report
    from crypto.staffkeys import login_secret, unwrap_private_key, unwrap_with_recovery_key

    passphrase = "Ｋata sandi petugas ﬁ 2026"
    made = await run(
        crypto_page,
        """
        const s = await W.createStaffKey(a.pass);
        return { ...s, wrapped: JSON.stringify(s.wrapped) };
        """,
        {"pass": passphrase},
    )
    pair = unwrap_private_key(made["wrapped"], passphrase)
    assert pair.public.text == made["publicKey"]
    assert login_secret(passphrase, json_kdf(made["wrapped"])) == made["loginSecret"]
    assert (
        unwrap_with_recovery_key(made["recoveryWrapped"], made["recoveryKey"]).public == pair.public
    )
    with pytest.raises(DecryptError):
        unwrap_private_key(made["wrapped"], passphrase + "!")
    # a report sealed in Python to that key opens with the Chromium-made wrap, in Chromium
    sealed = seal_report(
        unit="DEMO",
        channel="wbs",
        report_id=str(uuid.uuid4()),
        content={"isi": CANARY},
        recipients=[made["publicKey"]],
        reporter_key=KeyPair.generate().public,
    )
    opened = await run(
        crypto_page,
        """
        const { keyPair } = await W.unwrapPrivateKey(a.wrapped, a.pass);
        return (await W.openReport(a.envelope, keyPair)).content;
        """,
        {"wrapped": made["wrapped"], "pass": passphrase, "envelope": sealed.envelope.to_json()},
    )
    assert opened == {"isi": CANARY}


def json_kdf(wrapped: str) -> dict[str, Any]:
    import json

    return dict(json.loads(wrapped)["kdf"])


async def test_staff_key_wrapped_in_python_opens_in_chromium(crypto_page: Any) -> None:
    from crypto.staffkeys import create_staff_key, rewrap_private_key

    passphrase = "kata sandi yang cukup panjang"
    made = create_staff_key(passphrase)
    changed = rewrap_private_key(made.wrapped, passphrase, "frasa baru yang panjang juga")
    result = await run(
        crypto_page,
        """
        const a1 = await W.unwrapPrivateKey(a.wrapped, a.pass);
        const a2 = await W.unwrapPrivateKey(a.changed, "frasa baru yang panjang juga");
        const a3 = await W.unwrapWithRecoveryKey(a.recoveryWrapped, a.recoveryKey);
        return { p: [a1, a2, a3].map((x) => x.keyPair.publicKey.text), login: a1.loginSecret,
                 old: await outcome(() => W.unwrapPrivateKey(a.changed, a.pass)) };
        """,
        {
            "wrapped": made.wrapped.dumps(),
            "pass": passphrase,
            "changed": changed.to_json(),
            "recoveryWrapped": made.recovery_wrapped.to_json(),
            "recoveryKey": made.recovery_key,
        },
    )
    assert result["p"] == [made.public] * 3
    assert result["login"] == made.login_secret
    assert result["old"] == "DecryptError: cannot decrypt"


# ---------------------------------------------------------------- directories and proofs


async def test_directory_signed_in_chromium_verifies_in_python(crypto_page: Any) -> None:
    from crypto.directory import fingerprint, unwrap_signing_key, verify_signed_directory

    admin = KeyPair.generate()
    officers = [KeyPair.generate() for _ in range(2)]
    document = {
        "v": 1,
        "unit": "DEMO",
        "version": 1,
        "issued_at": "2026-11-23T01:00:00Z",
        "channels": {
            "wbs": [
                {
                    "key_id": o.public.key_id_hex,
                    "public_key": o.public.text,
                    "fingerprint": o.public.fingerprint,
                    "name": f"Petugas ü {i}",
                    "email": f"p{i}@x.id",
                }
                for i, o in enumerate(officers)
            ],
            "gratifikasi": [],
        },
    }
    made = await run(
        crypto_page,
        """
        const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
        const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
        const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
        const signed = await W.signDirectory(a.doc, pair.privateKey);
        return { ...signed, public_key: b64uEncode(raw),
                 fp: await W.signingKeyFingerprint(raw),
                 wrap: await W.wrapDirectoryKey(pkcs8.slice(-32), a.admin) };
        """,
        {"doc": document, "admin": admin.public.text},
    )
    directory = verify_signed_directory(made, unit="DEMO", public_key=made["public_key"])
    assert [e.public_key for e in directory.channels["wbs"]] == [o.public for o in officers]
    assert fingerprint(b64u_decode(made["public_key"])) == made["fp"]
    unit_key = unwrap_signing_key(made["wrap"], admin)
    assert b64u_encode(unit_key.public_key().public_bytes_raw()) == made["public_key"]
    with pytest.raises(DecryptError):
        unwrap_signing_key(made["wrap"], KeyPair.generate())


async def test_proof_signed_in_python_verifies_in_chromium(crypto_page: Any) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from crypto.envelope import seal_report
    from crypto.proof import envelope_sha256, sign_proof
    from crypto.signing import signing_fingerprint

    server = Ed25519PrivateKey.generate()
    envelope = seal_report(
        unit="DEMO",
        channel="benturan_kepentingan",
        report_id=str(uuid.uuid4()),
        content={"uraian": 'ü \n \u0001 \u2028 "kutip"'},
        recipients=[KeyPair.generate().public],
        reporter_key=KeyPair.generate().public,
    ).envelope.to_json()
    proof = sign_proof(
        server,
        case_number="BK-DEMO-2026-000007",
        unit="DEMO",
        submitted_at="2026-11-23T01:02:03Z",
        envelope_sha256=envelope_sha256(envelope),
    )
    result = await run(
        crypto_page,
        """
        return {
          facts: await W.verifyProof(a.proof,
                                     { envelope: a.envelope, publicKey: a.proof.public_key }),
          hash: await W.envelopeSha256(a.envelope),
          fp: await W.signingKeyFingerprint(a.proof.public_key),
          moved: await outcome(() =>
            W.verifyProof(a.proof, { envelope: { ...a.envelope, unit: "X" } })),
        };
        """,
        {"proof": proof, "envelope": envelope},
    )
    assert result["facts"]["caseNumber"] == "BK-DEMO-2026-000007"
    assert result["hash"] == proof["envelope_sha256"]
    assert result["fp"] == signing_fingerprint(server.public_key().public_bytes_raw())
    assert result["moved"] == "SignatureError: proof is for another envelope"
