"""A small deterministic HPKE (RFC 9180) used only to check the test vectors.

`cryptography`'s HPKE API is single shot with a random ephemeral key, so the key schedule,
later sequence numbers and the secret exporter cannot be checked through it. This reference
builds them from primitives (X25519, HKDF-SHA256, AES-GCM, ChaCha20-Poly1305, ML-KEM-768,
SHA3-256) for DHKEM(X25519, HKDF-SHA256) in all four modes and for X-Wing (base mode).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import mlkem, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

MODE_BASE, MODE_PSK, MODE_AUTH, MODE_AUTH_PSK = 0, 1, 2, 3
KEM_X25519, KEM_XWING = 0x0020, 0x647A
KDF_HKDF_SHA256 = 0x0001
EXPORT_ONLY = 0xFFFF
AEADS = {0x0001: (AESGCM, 16), 0x0002: (AESGCM, 32), 0x0003: (ChaCha20Poly1305, 32)}
XWING_LABEL = b"\\.//^\\"


def i2osp(value: int, length: int) -> bytes:
    return value.to_bytes(length, "big")


def extract(salt: bytes, ikm: bytes) -> bytes:
    return hmac.new(salt or bytes(32), ikm, hashlib.sha256).digest()


def expand(prk: bytes, info: bytes, length: int) -> bytes:
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def labeled_extract(suite_id: bytes, salt: bytes, label: bytes, ikm: bytes) -> bytes:
    return extract(salt, b"HPKE-v1" + suite_id + label + ikm)


def labeled_expand(suite_id: bytes, prk: bytes, label: bytes, info: bytes, length: int) -> bytes:
    return expand(prk, i2osp(length, 2) + b"HPKE-v1" + suite_id + label + info, length)


# ---------------------------------------------------------------- DHKEM(X25519, HKDF-SHA256)

KEM_SUITE_ID = b"KEM" + i2osp(KEM_X25519, 2)


def derive_key_pair(ikm: bytes) -> tuple[bytes, bytes]:
    prk = labeled_extract(KEM_SUITE_ID, b"", b"dkp_prk", ikm)
    sk = labeled_expand(KEM_SUITE_ID, prk, b"sk", b"", 32)
    return sk, x25519_public(sk)


def x25519_public(sk: bytes) -> bytes:
    return x25519.X25519PrivateKey.from_private_bytes(sk).public_key().public_bytes_raw()


def dh(sk: bytes, pk: bytes) -> bytes:
    key = x25519.X25519PrivateKey.from_private_bytes(sk)
    return key.exchange(x25519.X25519PublicKey.from_public_bytes(pk))


def extract_and_expand(dh_value: bytes, kem_context: bytes) -> bytes:
    eae_prk = labeled_extract(KEM_SUITE_ID, b"", b"eae_prk", dh_value)
    return labeled_expand(KEM_SUITE_ID, eae_prk, b"shared_secret", kem_context, 32)


def encap(pk_r: bytes, sk_e: bytes, sk_s: bytes | None = None) -> tuple[bytes, bytes]:
    """(shared_secret, enc) with a given ephemeral key (and sender key for auth modes)."""
    enc = x25519_public(sk_e)
    dh_value = dh(sk_e, pk_r)
    kem_context = enc + pk_r
    if sk_s is not None:
        dh_value += dh(sk_s, pk_r)
        kem_context += x25519_public(sk_s)
    return extract_and_expand(dh_value, kem_context), enc


def decap(enc: bytes, sk_r: bytes, pk_s: bytes | None = None) -> bytes:
    pk_r = x25519_public(sk_r)
    dh_value = dh(sk_r, enc)
    kem_context = enc + pk_r
    if pk_s is not None:
        dh_value += dh(sk_r, pk_s)
        kem_context += pk_s
    return extract_and_expand(dh_value, kem_context)


# ---------------------------------------------------------------- X-Wing (base mode only)


def xwing_expand(seed: bytes) -> tuple[mlkem.MLKEM768PrivateKey, bytes]:
    expanded = hashlib.shake_256(seed).digest(96)
    return mlkem.MLKEM768PrivateKey.from_seed_bytes(expanded[:64]), expanded[64:]


def xwing_public(seed: bytes) -> bytes:
    m, sk_x = xwing_expand(seed)
    return m.public_key().public_bytes_raw() + x25519_public(sk_x)


def xwing_decap(enc: bytes, seed: bytes) -> bytes:
    m, sk_x = xwing_expand(seed)
    ct_m, ct_x = enc[:1088], enc[1088:]
    ss_m = m.decapsulate(ct_m)
    ss_x = dh(sk_x, ct_x)
    return hashlib.sha3_256(ss_m + ss_x + ct_x + x25519_public(sk_x) + XWING_LABEL).digest()


# ---------------------------------------------------------------- key schedule and context


@dataclass
class Context:
    suite_id: bytes
    aead_id: int
    key: bytes
    base_nonce: bytes
    exporter_secret: bytes
    seq: int = 0

    def _nonce(self) -> bytes:
        seq = i2osp(self.seq, len(self.base_nonce))
        return bytes(a ^ b for a, b in zip(self.base_nonce, seq, strict=True))

    def seal(self, aad: bytes, pt: bytes) -> bytes:
        cls, _ = AEADS[self.aead_id]
        ct = cls(self.key).encrypt(self._nonce(), pt, aad)
        self.seq += 1
        return ct

    def open(self, aad: bytes, ct: bytes) -> bytes:
        cls, _ = AEADS[self.aead_id]
        pt = cls(self.key).decrypt(self._nonce(), ct, aad)
        self.seq += 1
        return pt

    def export(self, exporter_context: bytes, length: int) -> bytes:
        return labeled_expand(self.suite_id, self.exporter_secret, b"sec", exporter_context, length)


def key_schedule(
    kem_id: int,
    aead_id: int,
    mode: int,
    shared_secret: bytes,
    info: bytes,
    psk: bytes = b"",
    psk_id: bytes = b"",
) -> tuple[Context, bytes, bytes]:
    """(context, key_schedule_context, secret) for HKDF-SHA256."""
    suite_id = b"HPKE" + i2osp(kem_id, 2) + i2osp(KDF_HKDF_SHA256, 2) + i2osp(aead_id, 2)
    psk_id_hash = labeled_extract(suite_id, b"", b"psk_id_hash", psk_id)
    info_hash = labeled_extract(suite_id, b"", b"info_hash", info)
    ks_context = bytes([mode]) + psk_id_hash + info_hash
    secret = labeled_extract(suite_id, shared_secret, b"secret", psk)
    nk = AEADS[aead_id][1] if aead_id != EXPORT_ONLY else 0
    key = labeled_expand(suite_id, secret, b"key", ks_context, nk) if nk else b""
    nonce = labeled_expand(suite_id, secret, b"base_nonce", ks_context, 12) if nk else b""
    exporter = labeled_expand(suite_id, secret, b"exp", ks_context, 32)
    return Context(suite_id, aead_id, key, nonce, exporter), ks_context, secret


def seal_base(pk_r: bytes, info: bytes, pt: bytes, sk_e: bytes, aead_id: int = 0x0002) -> bytes:
    """Single-shot base-mode seal with a chosen ephemeral key: `enc || ct` (aad empty)."""
    shared, enc = encap(pk_r, sk_e)
    ctx, _, _ = key_schedule(KEM_X25519, aead_id, MODE_BASE, shared, info)
    return enc + ctx.seal(b"", pt)
