"""Receipts in real Chromium: generation, the typing check, normalisation and derivations."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

pytest_plugins = ["tests.browser.fixtures"]
pytestmark = pytest.mark.browser

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def _derive(canonical: str, info: bytes) -> bytes:
    """The doc's receipt derivation, computed independently of both libraries."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"wbs/v1/receipt", info=info)
    return hkdf.derive(canonical.encode())


async def test_generated_receipts_and_typing_check(crypto_page: Any) -> None:
    result = await crypto_page.evaluate(
        """async (alphabet) => {
          const W = window.wbs;
          const receipts = Array.from({ length: 1000 }, () => W.generateReceipt());
          const c = W.normaliseReceipt(receipts[0]);
          let substitutionsMissed = 0, substitutions = 0, swapsMissed = 0, swaps = 0;
          for (let i = 0; i < c.length; i++) {
            for (const ch of alphabet) {
              if (ch === c[i]) continue;
              substitutions++;
              if (W.isValidReceipt(c.slice(0, i) + ch + c.slice(i + 1))) substitutionsMissed++;
            }
            if (i + 1 < c.length && c[i] !== c[i + 1]) {
              swaps++;
              if (W.isValidReceipt(c.slice(0, i) + c[i + 1] + c[i] + c.slice(i + 2))) swapsMissed++;
            }
          }
          const reasons = [];
          for (const bad of [c.slice(1), c + "2", c.slice(0, -1) + "0", c.slice(0, -1) + "I"]) {
            try { W.normaliseReceipt(bad); reasons.push("accepted"); }
            catch (err) { reasons.push(`${err.name}:${err.reason}`); }
          }
          const messy = ` ${c.toLowerCase().match(/.{5}/g).join(" - ")}\\n`;
          return { receipts, canonical: c, substitutions, substitutionsMissed, swaps, swapsMissed,
                   reasons, messy: W.normaliseReceipt(messy), formatted: W.formatReceipt(messy) };
        }""",
        ALPHABET,
    )
    receipts = result["receipts"]
    assert len(set(receipts)) == 1000
    for r in receipts:
        groups = r.split("-")
        assert [len(g) for g in groups] == [4] * 5
        assert set("".join(groups)) <= set(ALPHABET)
    assert result["substitutions"] == 20 * 30
    assert result["substitutionsMissed"] == 0
    assert result["swapsMissed"] == 0 and result["swaps"] > 0
    assert result["reasons"] == [
        "ReceiptError:length",
        "ReceiptError:length",
        "ReceiptError:character",
        "ReceiptError:character",
    ]
    assert result["messy"] == result["canonical"]
    assert result["formatted"].replace("-", "") == result["canonical"]
    # 1000 receipts use the whole alphabet in the first position (P(miss) < 1e-12 when uniform)
    assert {r.replace("-", "")[0] for r in receipts} == set(ALPHABET)


async def test_receipt_derivations_and_reporter_mailbox(crypto_page: Any) -> None:
    result = await crypto_page.evaluate(
        """async () => {
          const W = window.wbs;
          const receipt = W.generateReceipt();
          const mine = await W.deriveFromReceipt(receipt);
          const officer = await W.generateKeyPair();
          const { envelope } = await W.sealReport({ unit: "DEMO", channel: "pengaduan",
            reportId: crypto.randomUUID(), content: { uraian: "pungli" },
            recipients: [W.encodePublicKey(officer.publicKey)],
            reporterKey: mine.reporterPublicKey });
          // later, on the same device: the receipt typed again in lower case with spaces
          const again = await W.deriveFromReceipt(receipt.toLowerCase().replaceAll("-", " "));
          const opened = await W.openReport(envelope, again.keyPair);
          const other = await W.deriveFromReceipt(W.generateReceipt());
          let otherOpened;
          try { await W.openReport(envelope, other.keyPair); otherOpened = "opened"; }
          catch (err) { otherOpened = err.message; }
          return { receipt, lookup: mine.lookupB64u, again: again.lookupB64u,
                   lookupHex: W.encoding.toHex(await W.receiptLookup(receipt)),
                   reporterKey: mine.reporterPublicKey, content: opened.content, otherOpened,
                   envelope: JSON.stringify(envelope) };
        }"""
    )
    canonical = result["receipt"].replace("-", "")
    lookup = _derive(canonical, b"lookup")
    assert result["lookupHex"] == lookup.hex()
    assert result["lookup"] == result["again"]
    assert result["lookup"] == base64.urlsafe_b64encode(lookup).rstrip(b"=").decode()
    sk = X25519PrivateKey.from_private_bytes(_derive(canonical, b"reporter-x25519"))
    wire = b"\x00\x01" + sk.public_key().public_bytes_raw()
    assert result["reporterKey"] == base64.urlsafe_b64encode(wire).rstrip(b"=").decode()
    assert result["content"] == {"uraian": "pungli"}
    assert result["otherOpened"] == "cannot decrypt"
    assert canonical not in result["envelope"] and result["receipt"] not in result["envelope"]
    assert result["lookup"] not in result["envelope"]
