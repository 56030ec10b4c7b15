"""Staff keys in real Chromium: PBKDF2 derivation, wrapping, unwrapping, re-wrapping, floor."""

from __future__ import annotations

import hashlib
import unicodedata
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

pytest_plugins = ["tests.browser.fixtures"]
pytestmark = pytest.mark.browser

PASSPHRASE = "Ｋata sandi ﬁrst 2024"  # full-width K and the fi ligature change under NFKC


def _login_secret(passphrase: str, salt: bytes, iterations: int) -> str:
    """The doc's derivation, computed independently of both libraries."""
    data = unicodedata.normalize("NFKC", passphrase).encode()
    master = hashlib.pbkdf2_hmac("sha256", data, salt, iterations, 32)
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"wbs/v1/login")
    return hkdf.derive(master).hex()


async def test_enrol_unwrap_and_open_a_report(crypto_page: Any) -> None:
    result = await crypto_page.evaluate(
        """async (pass) => {
          const W = window.wbs, { b64uDecode, toHex } = W.encoding;
          const staff = await W.createStaffKey(pass);
          const reporter = await W.generateKeyPair();
          const { envelope } = await W.sealReport({ unit: "DEMO", channel: "gratifikasi",
            reportId: crypto.randomUUID(), content: { uraian: "hadiah" },
            recipients: [staff.publicKey], reporterKey: W.encodePublicKey(reporter.publicKey) });
          const nfkc = pass.normalize("NFKC");
          const asText = JSON.stringify(staff.wrapped);
          const { keyPair, loginSecret } = await W.unwrapPrivateKey(asText, nfkc);
          const opened = await W.openReport(envelope, keyPair);
          let extractable;
          try { await crypto.subtle.exportKey("pkcs8", keyPair.privateKey); extractable = true; }
          catch { extractable = false; }
          return { wrapped: staff.wrapped, loginSecret: staff.loginSecret, again: loginSecret,
                   content: opened.content, extractable,
                   salt: toHex(b64uDecode(staff.wrapped.kdf.salt)) };
        }""",
        PASSPHRASE,
    )
    wrapped = result["wrapped"]
    assert set(wrapped) == {"v", "suite", "kdf", "public", "wrapped"}
    assert wrapped["v"] == 1 and wrapped["suite"] == 1
    assert wrapped["kdf"]["name"] == "pbkdf2-sha256"
    assert wrapped["kdf"]["iterations"] >= 600_000
    assert result["content"] == {"uraian": "hadiah"}
    assert result["extractable"] is False
    assert result["loginSecret"] == result["again"]
    salt = bytes.fromhex(result["salt"])
    assert len(salt) == 16
    expected = _login_secret(PASSPHRASE, salt, wrapped["kdf"]["iterations"])
    assert result["loginSecret"] == expected
    assert PASSPHRASE not in str(wrapped)


async def test_wrong_passphrase_tampering_and_rewrap(crypto_page: Any) -> None:
    result = await crypto_page.evaluate(
        """async (pass) => {
          const W = window.wbs, { b64uDecode, b64uEncode } = W.encoding;
          const outcome = async (f) => { try { await f(); return "opened"; }
                                         catch (err) { return `${err.name}: ${err.message}`; } };
          const staff = await W.createStaffKey(pass);
          const w = staff.wrapped;
          const out = {};
          out.wrong = await outcome(() => W.unwrapPrivateKey(w, pass + "!"));
          const box = b64uDecode(w.wrapped);
          out.flips = [];
          for (const i of [0, 5, 11, 12, 30, box.length - 1]) {
            const bad = box.slice(); bad[i] ^= 1;
            const altered = { ...w, wrapped: b64uEncode(bad) };
            out.flips.push(await outcome(() => W.unwrapPrivateKey(altered, pass)));
          }
          const other = await W.generateKeyPair();
          out.otherPublic = await outcome(() =>
            W.unwrapPrivateKey({ ...w, public: W.encodePublicKey(other.publicKey) }, pass));
          const salt = b64uDecode(w.kdf.salt); salt[0] ^= 1;
          out.otherSalt = await outcome(() =>
            W.unwrapPrivateKey({ ...w, kdf: { ...w.kdf, salt: b64uEncode(salt) } }, pass));
          out.moreIterations = await outcome(() =>
            W.unwrapPrivateKey({ ...w, kdf: { ...w.kdf, iterations: 600001 } }, pass));
          out.weak = await outcome(() =>
            W.unwrapPrivateKey({ ...w, kdf: { ...w.kdf, iterations: 599999 } }, pass));
          const argon = { name: "argon2id", m: 65536, t: 3, p: 1, salt: w.kdf.salt };
          out.argon = await outcome(() => W.unwrapPrivateKey({ ...w, kdf: argon }, pass));
          out.weakLogin = await outcome(() => W.loginSecret(pass, { ...w.kdf, iterations: 1000 }));
          const tooMany = { ...w.kdf, iterations: 20000001 };
          out.ceiling = await outcome(() => W.loginSecret(pass, tooMany));
          const salt15 = b64uEncode(new Uint8Array(15)), salt65 = b64uEncode(new Uint8Array(65));
          out.shortSalt = await outcome(() => W.loginSecret(pass, { ...w.kdf, salt: salt15 }));
          out.longSalt = await outcome(() => W.loginSecret(pass, { ...w.kdf, salt: salt65 }));
          const changed = await W.rewrapPrivateKey(w, pass, "frasa baru yang panjang");
          const re = changed.wrapped;
          out.samePublic = re.public === w.public;
          out.newSalt = re.kdf.salt !== w.kdf.salt;
          out.oldOnNew = await outcome(() => W.unwrapPrivateKey(re, pass));
          const back = await W.unwrapPrivateKey(re, "frasa baru yang panjang");
          out.backPublic = back.keyPair.publicKey.text === w.public;
          out.newLogin = back.loginSecret === changed.loginSecret &&
            back.loginSecret !== staff.loginSecret;
          return out;
        }""",
        PASSPHRASE,
    )
    cannot = "DecryptError: cannot decrypt"
    assert result["wrong"] == cannot
    assert result["flips"] == [cannot] * 6
    assert result["otherPublic"] == cannot
    assert result["otherSalt"] == cannot
    assert result["moreIterations"] == cannot
    assert result["weak"] == "WeakParametersError: PBKDF2 iterations below the floor of 600000"
    assert result["argon"].startswith("UnsupportedError:")
    assert result["weakLogin"].startswith("WeakParametersError:")
    assert result["ceiling"] == "FormatError: PBKDF2 iterations above the ceiling"
    assert result["shortSalt"] == "FormatError: salt must be 16 to 64 bytes"
    assert result["longSalt"] == "FormatError: salt must be 16 to 64 bytes"
    assert result["samePublic"] and result["newSalt"] and result["backPublic"]
    assert result["newLogin"] is True
    assert result["oldOnNew"] == cannot


async def test_recovery_key_opens_and_resets_the_passphrase(crypto_page: Any) -> None:
    result = await crypto_page.evaluate(
        """async (pass) => {
          const W = window.wbs;
          const outcome = async (f) => { try { return await f(); }
                                         catch (err) { return `${err.name}: ${err.message}`; } };
          const staff = await W.createStaffKey(pass);
          const rk = staff.recoveryKey, rw = staff.recoveryWrapped;
          const messy = rk.toLowerCase().replaceAll("-", " ");
          const opened = await W.unwrapWithRecoveryKey(JSON.stringify(rw), messy);
          const c = W.normaliseRecoveryKey(rk);
          const typo = c.slice(0, 5) + (c[5] === "2" ? "3" : "2") + c.slice(6);
          const other = W.generateRecoveryKey();
          const reset = await W.recoverPrivateKey(rw, rk, "frasa sandi baru sekali");
          const back = await W.unwrapPrivateKey(reset.wrapped, "frasa sandi baru sekali");
          return {
            rk, kdf: rw.kdf, samePublic: opened.keyPair.publicKey.text === staff.publicKey,
            typo: await outcome(() => W.unwrapWithRecoveryKey(rw, typo)),
            other: await outcome(() => W.unwrapWithRecoveryKey(rw, other)),
            passOnRecovery: await outcome(() => W.unwrapPrivateKey(rw, pass)),
            recoveryOnPass: await outcome(() => W.unwrapWithRecoveryKey(staff.wrapped, rk)),
            resetPublic: back.keyPair.publicKey.text === staff.publicKey,
            resetLogin: back.loginSecret === reset.loginSecret,
          };
        }""",
        PASSPHRASE,
    )
    groups = result["rk"].split("-")
    assert [len(g) for g in groups] == [4] * 7
    assert result["kdf"] == {"name": "recovery"}
    assert result["samePublic"] and result["resetPublic"] and result["resetLogin"]
    assert result["typo"].startswith("ReceiptError: ")
    assert result["other"] == "DecryptError: cannot decrypt"
    assert result["passOnRecovery"] == "DecryptError: cannot decrypt"
    assert result["recoveryOnPass"] == "DecryptError: cannot decrypt"
