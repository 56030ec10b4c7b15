"""wbs formats in real Chromium: round trips, tampering, exclusion, attachment stream attacks."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest_plugins = ["tests.browser.fixtures"]
pytestmark = pytest.mark.browser

PAGE_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
CANARY = "KANARI-7c1d2e-RAHASIA"

# Helpers evaluated in the page before each script: a report context, key pairs, and a
# function that flips every byte of a ciphertext in turn and reports which still opened.
PRELUDE = """
const W = window.wbs;
const { b64uDecode, b64uEncode, fromHex, toHex, utf8, fromUtf8 } = W.encoding;
const ctxOf = (a) => ({ unit: a.unit, channel: a.channel, reportId: a.reportId });
async function pair() {
  const kp = await W.generateKeyPair();
  return { kp: await W.keyPairFrom(kp.privateKey), text: W.encodePublicKey(kp.publicKey) };
}
async function flipAll(bytes, open) {
  const opened = [], other = [];
  for (let i = 0; i < bytes.length; i++) {
    const bad = bytes.slice(); bad[i] ^= 0x80;
    try {
      await open(bad);
      opened.push(i);
    } catch (err) {
      if (!(err instanceof W.DecryptError) || err.message !== "cannot decrypt") {
        other.push(`${i}: ${err}`);
      }
    }
  }
  return { opened, other };
}
async function outcome(attempt) {
  try { await attempt(); return "opened"; } catch (err) { return err.message; }
}
const blobBytes = async (blob) => new Uint8Array(await blob.arrayBuffer());
"""


async def run(page: Any, body: str, arg: Any = None) -> Any:
    return await page.evaluate(f"async (a) => {{ {PRELUDE}\n{body} }}", arg)


def report_arg(**extra: Any) -> dict[str, Any]:
    return {"unit": "DEMO", "channel": "wbs", "reportId": str(uuid.uuid4()), **extra}


text_values = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=200
)
fields = st.dictionaries(st.text(min_size=1, max_size=20), text_values, max_size=6)


@given(content=fields, identity=st.none() | fields)
@PAGE_SETTINGS
async def test_envelope_round_trip(crypto_page: Any, content: dict, identity: dict | None) -> None:
    result = await run(
        crypto_page,
        """
        const officer = await pair(), reporter = await pair();
        const { envelope } = await W.sealReport({ ...ctxOf(a), content: a.content,
          identity: a.identity, recipients: [officer.text], reporterKey: reporter.text });
        const o = await W.openReport(envelope, officer.kp);
        const r = await W.openReport(JSON.parse(JSON.stringify(envelope)), reporter.kp);
        return { o, r: { content: r.content, identity: r.identity }, wraps: envelope.wraps.length };
        """,
        report_arg(content=content, identity=identity),
    )
    assert result["o"]["content"] == content
    assert result["o"]["identity"] == identity
    assert result["r"] == {"content": content, "identity": identity}
    assert result["wraps"] == 2


async def test_envelope_every_byte_flip_and_exclusion(crypto_page: Any) -> None:
    result = await run(
        crypto_page,
        """
        const officer = await pair(), second = await pair(), excluded = await pair();
        const reporter = await pair();
        const { envelope, dataKey } = await W.sealReport({ ...ctxOf(a),
          content: { isi: a.canary }, identity: { nama: a.canary },
          recipients: [officer.text, second.text], reporterKey: reporter.text });
        const ctx = ctxOf(a);
        const content = b64uDecode(envelope.content), identity = b64uDecode(envelope.identity);
        const wrap = b64uDecode(envelope.wraps[0]);
        const out = {};
        out.content = await flipAll(content, (b) => W.openContent(dataKey, ctx, b));
        out.identity = await flipAll(identity, (b) => W.openIdentity(dataKey, ctx, b));
        out.wrap = await flipAll(wrap, (b) => W.unwrapDataKey(b, ctx, officer.kp));
        try { await W.openReport(envelope, excluded.kp); out.excluded = "opened"; }
        catch (err) { out.excluded = err.message; }
        // the same ciphertexts under another report id or unit must not open
        const moved = [];
        for (const c of [{ ...ctx, reportId: crypto.randomUUID() }, { ...ctx, unit: "LAIN" },
                         { ...ctx, channel: "pengaduan" }]) {
          try { await W.openContent(dataKey, c, content); moved.push("content"); } catch {}
          try { await W.unwrapDataKey(wrap, c, officer.kp); moved.push("wrap"); } catch {}
        }
        out.moved = moved;
        // the identity box does not open as content (kind and label are bound)
        try { await W.openContent(dataKey, ctx, identity); out.swap = "opened"; }
        catch (err) { out.swap = err.message; }
        out.second = (await W.openReport(envelope, second.kp)).content.isi;
        out.json = JSON.stringify(envelope);
        return out;
        """,
        report_arg(canary=CANARY),
    )
    for name in ("content", "identity", "wrap"):
        assert result[name] == {"opened": [], "other": []}, name
    assert result["excluded"] == "cannot decrypt"
    assert result["moved"] == []
    assert result["swap"] == "cannot decrypt"
    assert result["second"] == CANARY
    assert CANARY not in result["json"]


@given(text=text_values, role=st.sampled_from(["reporter", "officer"]))
@PAGE_SETTINGS
async def test_message_and_note_round_trip(crypto_page: Any, text: str, role: str) -> None:
    result = await run(
        crypto_page,
        """
        const dk = W.generateDataKey(), ctx = ctxOf(a), author = await pair();
        const authorKeyId = await W.keyIdHex(author.text);
        const m = await W.sealMessage(dk, ctx,
                                      { senderRole: a.role, messageId: a.id, text: a.text });
        const n = await W.sealNote(dk, ctx, { authorKeyId, noteId: a.id, text: a.text });
        return {
          m: await W.openMessage(dk, ctx, { senderRole: a.role, messageId: a.id }, m),
          n: await W.openNote(dk, ctx, { authorKeyId, noteId: a.id }, n),
        };
        """,
        report_arg(text=text, role=role, id=str(uuid.uuid4())),
    )
    assert result == {"m": text, "n": text}


async def test_message_and_note_bindings(crypto_page: Any) -> None:
    result = await run(
        crypto_page,
        """
        const dk = W.generateDataKey(), ctx = ctxOf(a), author = await pair();
        const authorKeyId = await W.keyIdHex(author.text);
        const otherKeyId = await W.keyIdHex((await pair()).text);
        const asReporter = { senderRole: "reporter", messageId: "m-1" };
        const m = await W.sealMessage(dk, ctx, { ...asReporter, text: a.canary });
        const n = await W.sealNote(dk, ctx, { authorKeyId, noteId: "n-1", text: a.canary });
        const out = {
          m: await flipAll(m, (b) => W.openMessage(dk, ctx, asReporter, b)),
          n: await flipAll(n, (b) => W.openNote(dk, ctx, { authorKeyId, noteId: "n-1" }, b)),
          refused: [],
        };
        const attempts = [
          () => W.openMessage(dk, ctx, { senderRole: "officer", messageId: "m-1" }, m),
          () => W.openMessage(dk, ctx, { senderRole: "reporter", messageId: "m-2" }, m),
          () => W.openNote(dk, ctx, { authorKeyId: otherKeyId, noteId: "n-1" }, n),
          () => W.openNote(dk, ctx, { authorKeyId, noteId: "m-1" }, m),
          () => W.openMessage(W.generateDataKey(), ctx, asReporter, m),
        ];
        for (const attempt of attempts) out.refused.push(await outcome(attempt));
        out.hex = toHex(m) + toHex(n);
        return out;
        """,
        report_arg(canary=CANARY),
    )
    assert result["m"] == {"opened": [], "other": []}
    assert result["n"] == {"opened": [], "other": []}
    assert result["refused"] == ["cannot decrypt"] * 5
    assert CANARY.encode().hex() not in result["hex"]


@given(size=st.integers(0, 5000), chunk=st.sampled_from([1, 7, 64, 1000, 4096, 65536]))
@PAGE_SETTINGS
async def test_attachment_round_trip(crypto_page: Any, size: int, chunk: int) -> None:
    result = await run(
        crypto_page,
        """
        const dk = W.generateDataKey(), ctx = ctxOf(a);
        const data = new Uint8Array(a.size).map((_, i) => (i * 131 + 7) % 256);
        const blob = await W.encryptAttachment(dk, ctx, "lampiran-1", new Blob([data]),
                                               { chunkSize: a.chunk });
        const back = await blobBytes(await W.decryptAttachment(dk, ctx, "lampiran-1", blob));
        const chunks = Math.max(1, Math.ceil(a.size / a.chunk));
        return { same: back.length === data.length && back.every((v, i) => v === data[i]),
                 size: blob.size, expected: 13 + a.size + 16 * chunks };
        """,
        report_arg(size=size, chunk=chunk),
    )
    assert result["same"] is True
    assert result["size"] == result["expected"]


async def test_attachment_stream_attacks(crypto_page: Any) -> None:
    result = await run(
        crypto_page,
        """
        const dk = W.generateDataKey(), ctx = ctxOf(a), cs = 64, cc = cs + 16;
        const data = utf8(a.canary.repeat(20));  // 420 bytes: 7 chunks, the last one short
        const cat = W.encoding.concat;
        const enc = async (id, bytes = data) =>
          blobBytes(await W.encryptAttachment(dk, ctx, id, bytes, { chunkSize: cs }));
        const open = async (bytes, id = "f1", c = ctx) =>
          blobBytes(await W.decryptAttachment(dk, c, id, bytes));
        const s1 = await enc("f1"), s2 = await enc("f2");
        const chunk = (s, i) => s.slice(13 + i * cc, 13 + (i + 1) * cc);
        const n = Math.ceil(data.length / cs);
        const cases = {
          truncatedLastChunk: s1.slice(0, 13 + (n - 1) * cc),
          truncatedMidChunk: s1.slice(0, s1.length - 5),
          headerOnly: s1.slice(0, 13),
          shortHeader: s1.slice(0, 9),
          empty: new Uint8Array(0),
          reordered: cat(s1.slice(0, 13), chunk(s1, 1), chunk(s1, 0), s1.slice(13 + 2 * cc)),
          duplicated: cat(s1.slice(0, 13 + cc), s1.slice(13)),
          spliced: cat(s1.slice(0, 13 + cc), chunk(s2, 1), s1.slice(13 + 2 * cc)),
          otherHeader: cat(s2.slice(0, 13), s1.slice(13)),
          appended: cat(s1, chunk(s1, 0)),
          chunkSizeChanged: (() => { const b = s1.slice(); b[12] ^= 1; return b; })(),
        };
        const out = { results: {}, ok: fromUtf8(await open(s1)) === a.canary.repeat(20) };
        for (const [name, bytes] of Object.entries(cases)) {
          out.results[name] = await outcome(() => open(bytes));
        }
        out.results.otherId = await outcome(() => open(s2));
        const otherReport = { ...ctx, reportId: crypto.randomUUID() };
        out.results.otherReport = await outcome(() => open(s1, "f1", otherReport));
        const tail = s1.slice(13 + 2 * cc);
        out.flips = await flipAll(s1.slice(0, 13 + 2 * cc), (b) => open(cat(b, tail)));
        // an exact multiple of the chunk size ends with a full chunk flagged last
        const exact = await enc("f3", data.slice(0, 2 * cs));
        out.exactLen = exact.length;
        out.exactCut = await outcome(() => open(exact.slice(0, 13 + cc), "f3"));
        out.meta = toHex(s1).includes(toHex(utf8(a.canary)));
        return out;
        """,
        report_arg(canary=CANARY),
    )
    assert result["ok"] is True
    assert result["results"] == dict.fromkeys(result["results"], "cannot decrypt")
    assert len(result["results"]) == 13
    assert result["flips"] == {"opened": [], "other": []}
    assert result["exactLen"] == 13 + 2 * 80
    assert result["exactCut"] == "cannot decrypt"
    assert result["meta"] is False


async def test_attachment_metadata_box(crypto_page: Any) -> None:
    result = await run(
        crypto_page,
        """
        const dk = W.generateDataKey(), ctx = ctxOf(a);
        const meta = { name: a.canary + ".pdf", contentType: "application/pdf" };
        const box = await W.sealAttachmentMetadata(dk, ctx, "f1", meta);
        const out = { meta: await W.openAttachmentMetadata(dk, ctx, "f1", box) };
        out.other = await outcome(() => W.openAttachmentMetadata(dk, ctx, "f2", box));
        out.flips = await flipAll(box, (b) => W.openAttachmentMetadata(dk, ctx, "f1", b));
        out.kind = box[1];
        return out;
        """,
        report_arg(canary=CANARY),
    )
    assert result["meta"] == {"name": CANARY + ".pdf", "contentType": "application/pdf"}
    assert result["other"] == "cannot decrypt"
    assert result["flips"] == {"opened": [], "other": []}
    assert result["kind"] == 6


async def test_public_key_encoding_key_id_fingerprint(crypto_page: Any) -> None:
    result = await run(
        crypto_page,
        """
        const raw = fromHex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
        const text = W.encodePublicKey(raw);
        const refused = [];
        const suite9 = b64uEncode(new Uint8Array([0, 9, ...raw]));
        for (const bad of ["AAE", W.encodePublicKey(raw).slice(0, -2), suite9]) {
          try {
            W.decodePublicKey(bad);
            refused.push("accepted");
          } catch (err) {
            refused.push(err.name);
          }
        }
        return { text, kid: toHex(await W.keyId(text)), fp: await W.fingerprint(text), refused,
                 round: toHex(W.decodePublicKey(text).raw) };
        """,
    )
    assert result["round"] == "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
    assert result["refused"] == ["FormatError", "FormatError", "UnsupportedError"]
    # Independent computation of the doc's definitions in Python.
    import base64
    import hashlib

    wire = bytes.fromhex("0001de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
    assert result["text"] == base64.urlsafe_b64encode(wire).rstrip(b"=").decode()
    assert result["kid"] == hashlib.sha256(b"wbs/v1/key-id" + wire).digest()[:16].hex()
    fp = (
        base64.b32encode(hashlib.sha256(b"wbs/v1/fingerprint" + wire).digest()[:20])
        .decode()
        .lower()
    )
    assert result["fp"] == " ".join(fp[i : i + 4] for i in range(0, 32, 4))
