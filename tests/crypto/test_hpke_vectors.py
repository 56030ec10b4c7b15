"""RFC 9180 test vectors (cryptography_vectors): the reference key schedule matches every
DHKEM(X25519, HKDF-SHA256) vector and the X-Wing HKDF-SHA256 vector completely, and
`cryptography`'s own HPKE (what `crypto.keys` uses) opens what the vectors let it open."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cryptography_vectors
import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.bindings._rust import openssl as rust_openssl
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import x25519

from crypto.keys import KeyPair, PublicKey, Suite, hpke_seal
from tests.crypto import hpke_reference as ref

HPKE_DIR = Path(cryptography_vectors.__file__).parent / "HPKE"
VECTORS: list[dict[str, Any]] = json.loads((HPKE_DIR / "test-vectors.json").read_text())
PQ_VECTORS: list[dict[str, Any]] = json.loads((HPKE_DIR / "hpke-pq-test-vectors.json").read_text())

X25519_SHA256 = [v for v in VECTORS if v["kem_id"] == ref.KEM_X25519 and v["kdf_id"] == 1]
DEFAULT_SUITE = [v for v in X25519_SHA256 if v["aead_id"] == 2 and v["mode"] == 0]
XWING = [v for v in PQ_VECTORS if v["kem_id"] == ref.KEM_XWING]
AEAD_OF = {1: hpke.AEAD.AES_128_GCM, 2: hpke.AEAD.AES_256_GCM, 3: hpke.AEAD.CHACHA20_POLY1305}
KDF_OF = {1: hpke.KDF.HKDF_SHA256, 16: hpke.KDF.SHAKE128, 17: hpke.KDF.SHAKE256}


def h(value: str) -> bytes:
    return bytes.fromhex(value)


def vector_id(v: dict[str, Any]) -> str:
    return f"mode{v['mode']}-kem{v['kem_id']:#06x}-kdf{v['kdf_id']}-aead{v['aead_id']:#06x}"


def test_vector_selection_is_not_empty() -> None:
    assert len(DEFAULT_SUITE) == 1
    assert len(X25519_SHA256) == 16  # 4 modes x 4 AEADs (incl. export-only)
    assert {(v["kdf_id"], v["aead_id"]) for v in XWING} == {(1, 3), (17, 3)}


@pytest.mark.parametrize("v", X25519_SHA256, ids=vector_id)
def test_x25519_key_schedule_and_every_encryption(v: dict[str, Any]) -> None:
    sk_r, pk_r = ref.derive_key_pair(h(v["ikmR"]))
    sk_e, pk_e = ref.derive_key_pair(h(v["ikmE"]))
    assert (sk_r.hex(), pk_r.hex(), sk_e.hex(), pk_e.hex()) == (
        v["skRm"],
        v["pkRm"],
        v["skEm"],
        v["pkEm"],
    )
    auth = v["mode"] in (ref.MODE_AUTH, ref.MODE_AUTH_PSK)
    sk_s = ref.derive_key_pair(h(v["ikmS"]))[0] if auth else None
    shared, enc = ref.encap(pk_r, sk_e, sk_s)
    assert enc.hex() == v["enc"]
    assert shared.hex() == v["shared_secret"]
    assert ref.decap(enc, sk_r, h(v["pkSm"]) if auth else None) == shared
    psk = h(v.get("psk", ""))
    psk_id = h(v.get("psk_id", ""))
    sender, ks_context, secret = ref.key_schedule(
        v["kem_id"], v["aead_id"], v["mode"], shared, h(v["info"]), psk, psk_id
    )
    receiver, _, _ = ref.key_schedule(
        v["kem_id"], v["aead_id"], v["mode"], shared, h(v["info"]), psk, psk_id
    )
    assert ks_context.hex() == v["key_schedule_context"]
    assert secret.hex() == v["secret"]
    assert sender.key.hex() == v["key"]
    assert sender.base_nonce.hex() == v["base_nonce"]
    assert sender.exporter_secret.hex() == v["exporter_secret"]
    for e in v["encryptions"]:
        assert sender._nonce().hex() == e["nonce"]
        assert sender.seal(h(e["aad"]), h(e["pt"])).hex() == e["ct"]
        assert receiver.open(h(e["aad"]), h(e["ct"])).hex() == e["pt"]
    for x in v["exports"]:
        assert sender.export(h(x["exporter_context"]), x["L"]).hex() == x["exported_value"]
    assert v["encryptions"] or v["aead_id"] == ref.EXPORT_ONLY


@pytest.mark.parametrize("v", [v for v in XWING if v["kdf_id"] == 1], ids=vector_id)
def test_xwing_key_schedule_and_every_encryption(v: dict[str, Any]) -> None:
    seed = h(v["skRm"])
    assert ref.xwing_public(seed).hex() == v["pkRm"]
    shared = ref.xwing_decap(h(v["enc"]), seed)
    assert shared.hex() == v["shared_secret"]
    ctx, _, _ = ref.key_schedule(v["kem_id"], v["aead_id"], 0, shared, h(v["info"]))
    assert (ctx.key.hex(), ctx.base_nonce.hex(), ctx.exporter_secret.hex()) == (
        v["key"],
        v["base_nonce"],
        v["exporter_secret"],
    )
    assert ctx.suite_id.hex() == v["suite_id"]
    for e in v["encryptions"]:
        assert ctx.open(h(e["aad"]), h(e["ct"])).hex() == e["pt"]
    for x in v["exports"]:
        assert ctx.export(h(x["exporter_context"]), x["L"]).hex() == x["exported_value"]


def _x25519_private(v: dict[str, Any]) -> x25519.X25519PrivateKey:
    return x25519.X25519PrivateKey.from_private_bytes(h(v["skRm"]))


@pytest.mark.parametrize(
    "v", [v for v in X25519_SHA256 if v["mode"] == 0 and v["aead_id"] != 0xFFFF], ids=vector_id
)
def test_cryptography_opens_first_encryption_of_x25519_vectors(v: dict[str, Any]) -> None:
    """Single-shot open covers sequence 0; the vectors' aad "Count-0" needs the aad-taking
    internal entry point, and an empty-aad ciphertext made by the reference with the vector's
    ephemeral key goes through the public `Suite.decrypt` (and `crypto.keys`)."""
    suite = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, AEAD_OF[v["aead_id"]])
    first = v["encryptions"][0]
    sealed = h(v["enc"]) + h(first["ct"])
    if hasattr(rust_openssl.hpke, "_decrypt_with_aad"):
        opened = rust_openssl.hpke._decrypt_with_aad(
            suite, sealed, _x25519_private(v), h(v["info"]), h(first["aad"])
        )
        assert opened.hex() == first["pt"]
    with pytest.raises(InvalidTag):
        suite.decrypt(sealed, _x25519_private(v), h(v["info"]))  # aad differs: must fail
    sk_e = h(v["skEm"])
    reference = ref.seal_base(h(v["pkRm"]), h(v["info"]), h(first["pt"]), sk_e, v["aead_id"])
    assert suite.decrypt(reference, _x25519_private(v), h(v["info"])).hex() == first["pt"]
    if v["aead_id"] == 2:  # the wbs default suite, through crypto.keys
        pair = KeyPair(Suite.X25519_AES256GCM, h(v["skRm"]))
        assert pair.public.raw.hex() == v["pkRm"]
        assert pair.hpke_open(reference, h(v["info"])).hex() == first["pt"]


def test_crypto_keys_seal_opens_in_reference() -> None:
    """What `crypto.keys.hpke_seal` makes is RFC 9180 base mode: the reference opens it."""
    sk_r, pk_r = ref.derive_key_pair(b"wbs reference recipient ikm 32b!")
    sealed = hpke_seal(PublicKey(Suite.X25519_AES256GCM, pk_r), b"wbs info", b"plaintext")
    enc, ct = sealed[:32], sealed[32:]
    ctx, _, _ = ref.key_schedule(ref.KEM_X25519, 2, 0, ref.decap(enc, sk_r), b"wbs info")
    assert ctx.open(b"", ct) == b"plaintext"


@pytest.mark.parametrize("v", XWING, ids=vector_id)
def test_cryptography_opens_first_encryption_of_xwing_vectors(v: dict[str, Any]) -> None:
    seed = h(v["skRm"])
    pair = KeyPair(Suite.MLKEM768X25519_AES256GCM, seed)
    assert pair.public.raw.hex() == v["pkRm"]  # crypto.keys expands seeds as X-Wing does
    if not hasattr(rust_openssl.hpke, "_decrypt_with_aad"):
        pytest.skip("this cryptography has no aad-taking HPKE entry point")
    suite = hpke.Suite(hpke.KEM.MLKEM768_X25519, KDF_OF[v["kdf_id"]], AEAD_OF[v["aead_id"]])
    first = v["encryptions"][0]
    opened = rust_openssl.hpke._decrypt_with_aad(
        suite, h(v["enc"]) + h(first["ct"]), pair._hpke_private, h(v["info"]), h(first["aad"])
    )
    assert opened.hex() == first["pt"]


def test_xwing_suite_round_trip_and_reference_decap() -> None:
    """A wbs suite-2 seal decapsulates with the reference X-Wing and opens via the schedule."""
    pair = KeyPair.generate(Suite.MLKEM768X25519_AES256GCM)
    sealed = hpke_seal(pair.public, b"info", b"data key 32 bytes...............")
    enc, ct = sealed[:1120], sealed[1120:]
    shared = ref.xwing_decap(enc, pair.private_bytes())
    ctx, _, _ = ref.key_schedule(ref.KEM_XWING, 2, 0, shared, b"info")
    assert ctx.open(b"", ct) == b"data key 32 bytes..............."
    assert pair.hpke_open(sealed, b"info") == b"data key 32 bytes..............."
