"""RFC 9180 HPKE in real Chromium: the published vectors, and interop with `cryptography`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cryptography_vectors
import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.hpke import AEAD, KDF, KEM, Suite

pytest_plugins = ["tests.browser.fixtures"]
pytestmark = pytest.mark.browser

VECTORS = Path(cryptography_vectors.__file__).parent / "HPKE" / "test-vectors.json"


def _vectors() -> list[dict[str, Any]]:
    vectors = json.loads(VECTORS.read_text())
    chosen = [
        v
        for v in vectors
        if v["mode"] == 0 and v["kem_id"] == 0x20 and v["kdf_id"] == 1 and v["aead_id"] in (1, 2)
    ]
    assert {v["aead_id"] for v in chosen} == {1, 2}, "RFC 9180 vectors for suite 0x0001 missing"
    return chosen


CHECK_VECTOR = """
async (v) => {
  const { hpkeSuite, deriveKeyPair, encap, decap, keySchedule, setupBaseS, setupBaseR,
          encoding: { fromHex, toHex } } = window.wbs;
  const bad = [];
  const expect = (name, got, want) => { if (toHex(got) !== want) bad.push(name); };
  const suite = hpkeSuite(v.aead_id);
  const info = fromHex(v.info);
  const r = await deriveKeyPair(fromHex(v.ikmR));
  expect("skRm", r.privateKey, v.skRm);
  expect("pkRm", r.publicKey, v.pkRm);
  const e = await deriveKeyPair(fromHex(v.ikmE));
  expect("skEm", e.privateKey, v.skEm);
  expect("pkEm", e.publicKey, v.pkEm);
  const { sharedSecret, enc } = await encap(r.publicKey, fromHex(v.ikmE));
  expect("enc", enc, v.enc);
  expect("shared_secret", sharedSecret, v.shared_secret);
  expect("decap", await decap(enc, r.privateKey), v.shared_secret);
  const ks = await keySchedule(suite, sharedSecret, info);
  expect("key", ks.key, v.key);
  expect("base_nonce", ks.baseNonce, v.base_nonce);
  expect("exporter_secret", ks.exporterSecret, v.exporter_secret);
  const sender = (await setupBaseS(suite, r.publicKey, info, fromHex(v.ikmE))).context;
  const receiver = await setupBaseR(suite, enc, r.privateKey, info);
  let checked = 0;
  for (const [seq, x] of v.encryptions.entries()) {
    if (sender.seq !== seq || receiver.seq !== seq) bad.push(`seq ${seq}`);
    expect(`seal ${seq}`, await sender.seal(fromHex(x.pt), fromHex(x.aad)), x.ct);
    expect(`open ${seq}`, await receiver.open(fromHex(x.ct), fromHex(x.aad)), x.pt);
    checked += 1;
  }
  for (const [i, x] of v.exports.entries()) {
    const ctx = fromHex(x.exporter_context);
    expect(`export ${i}`, await sender.export(ctx, x.L), x.exported_value);
    expect(`export r ${i}`, await receiver.export(ctx, x.L), x.exported_value);
  }
  return { bad, checked };
}
"""


@pytest.mark.parametrize("vector", _vectors(), ids=lambda v: f"aead{v['aead_id']}")
async def test_rfc9180_vectors_in_chromium(crypto_page: Any, vector: dict[str, Any]) -> None:
    result = await crypto_page.evaluate(CHECK_VECTOR, vector)
    assert result["bad"] == []
    assert result["checked"] == len(vector["encryptions"]) == 257


def _suite() -> Suite:
    return Suite(KEM.X25519, KDF.HKDF_SHA256, AEAD.AES_256_GCM)


async def test_chromium_seal_opens_in_python(crypto_page: Any) -> None:
    sk = X25519PrivateKey.generate()
    pk = sk.public_key().public_bytes_raw().hex()
    sealed = await crypto_page.evaluate(
        """async ([pk, pt]) => {
             const { sealBase, encoding: { fromHex, toHex, utf8 } } = window.wbs;
             const out = [];
             for (let i = 0; i < 3; i++) {
               out.push(toHex(await sealBase(fromHex(pk), utf8("wbs/test-info"), utf8(pt))));
             }
             return out;
           }""",
        [pk, "laporan rahasia / secret report"],
    )
    assert len(set(sealed)) == 3  # fresh ephemeral key each time
    for hex_ct in sealed:
        opened = _suite().decrypt(bytes.fromhex(hex_ct), sk, info=b"wbs/test-info")
        assert opened == b"laporan rahasia / secret report"


async def test_python_seal_opens_in_chromium_and_tamper_fails(crypto_page: Any) -> None:
    sk = X25519PrivateKey.generate()
    raw_sk = sk.private_bytes_raw().hex()
    sealed = _suite().encrypt(b"isi laporan", sk.public_key(), info=b"ctx")
    positions = sorted({0, 31, 32, 40, len(sealed) - 1})
    result = await crypto_page.evaluate(
        """async ([sk, ct, positions]) => {
             const { openBase, encoding: { fromHex, fromUtf8, utf8 } } = window.wbs;
             const good = fromUtf8(await openBase(fromHex(sk), utf8("ctx"), fromHex(ct)));
             const failures = [];
             for (const p of positions) {
               const bad = fromHex(ct); bad[p] ^= 0x01;
               try { await openBase(fromHex(sk), utf8("ctx"), bad); failures.push("opened"); }
               catch (err) { failures.push(`${err.name}: ${err.message}`); }
             }
             let wrongInfo;
             try { await openBase(fromHex(sk), utf8("other"), fromHex(ct)); wrongInfo = "opened"; }
             catch (err) { wrongInfo = err.message; }
             return { good, failures, wrongInfo };
           }""",
        [raw_sk, sealed.hex(), positions],
    )
    assert result["good"] == "isi laporan"
    assert result["failures"] == ["DecryptError: cannot decrypt"] * len(positions)
    assert result["wrongInfo"] == "cannot decrypt"
