"""The committed interop fixtures open with the Python library, and their stable parts (keys,
receipts, login secrets) match what the library derives now."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from crypto.attachment import decrypt_attachment, open_attachment_metadata
from crypto.boxes import ReportContext
from crypto.directory import fingerprint, unwrap_signing_key, verify_signed_directory
from crypto.encoding import b64u_decode
from crypto.envelope import open_message, open_note, open_report
from crypto.errors import DecryptError, ReceiptError, UnsupportedError
from crypto.keys import KeyPair, Suite
from crypto.proof import verify_proof
from crypto.receipt import derive_from_receipt, normalise_receipt
from crypto.staffkeys import (
    login_secret,
    unwrap_private_key,
    unwrap_with_recovery_key,
)

FIXTURES = Path(__file__).parent / "fixtures"


@cache
def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def pair(data: dict[str, Any]) -> KeyPair:
    return KeyPair(Suite(data["suite"]), bytes.fromhex(data["seed"]))


def ctx_of(data: dict[str, str]) -> ReportContext:
    return ReportContext(data["unit"], data["channel"], data["report_id"])


def test_keys() -> None:
    for k in load("keys.json")["keys"]:
        p = pair(k)
        assert (p.public.text, p.public.key_id_hex, p.public.fingerprint) == (
            k["public_key"],
            k["key_id"],
            k["fingerprint"],
        )


def test_envelope() -> None:
    f = load("envelope.json")
    holders = [*map(pair, f["officers"]), pair(f["pq_officer"])]
    holders.append(derive_from_receipt(f["receipt"]).key_pair)
    for holder in holders:
        opened = open_report(f["envelope"], holder)
        assert opened.content == f["content"] and opened.identity == f["identity"]
        assert opened.data_key.secret.hex() == f["data_key"]
    assert open_report(f["escalated"], pair(f["late"])).content == f["content"]
    for who, env in (("late", "envelope"), ("outsider", "envelope"), ("outsider", "escalated")):
        with pytest.raises(DecryptError):
            open_report(f[env], pair(f[who]))


def test_messages_and_notes() -> None:
    f = load("messages.json")
    dk, ctx = bytes.fromhex(f["data_key"]), ctx_of(f["context"])
    for m in f["messages"]:
        box = b64u_decode(m["box"])
        assert open_message(dk, ctx, m["sender_role"], m["message_id"], box) == m["text"]
    for n in f["notes"]:
        box = b64u_decode(n["box"])
        assert open_note(dk, ctx, n["author_key_id"], n["note_id"], box) == n["text"]


def test_staff_keys() -> None:
    f = load("staffkeys.json")
    assert login_secret(f["passphrase"], f["wrapped"]["kdf"]) == f["login_secret"]
    assert unwrap_private_key(f["wrapped"], f["passphrase"]).private_bytes().hex() == f["seed"]
    pq = unwrap_private_key(f["pq"]["wrapped"], f["passphrase"])
    assert (
        pq.suite is Suite.MLKEM768X25519_AES256GCM and pq.private_bytes().hex() == f["pq"]["seed"]
    )
    argon = f["argon2id"]
    assert unwrap_private_key(argon["wrapped"], f["passphrase"]).private_bytes().hex() == f["seed"]
    assert login_secret(f["passphrase"], argon["wrapped"]["kdf"]) == argon["login_secret"]
    recovered = unwrap_with_recovery_key(f["recovery_wrapped"], f["recovery_key"])
    assert recovered.private_bytes().hex() == f["seed"]
    with pytest.raises(DecryptError):
        unwrap_private_key(f["wrapped"], f["passphrase"] + " ")


def test_receipts() -> None:
    f = load("receipts.json")
    for r in f["valid"]:
        keys = derive_from_receipt(r["receipt"])
        assert normalise_receipt(r["receipt"]) == r["canonical"]
        assert keys.lookup_b64u == r["lookup"]
        assert keys.reporter_public_key == r["reporter_public_key"]
    for r in f["invalid"]:
        with pytest.raises(ReceiptError) as info:
            normalise_receipt(r["input"])
        assert info.value.reason == r["reason"]
    for r in f["accepted"]:
        assert normalise_receipt(r["input"]) == r["canonical"]


def test_directory() -> None:
    f = load("directory.json")
    d = verify_signed_directory(f["signed"], unit="DEMO", min_version=3)
    assert len(d.recipients("wbs")) == 3
    assert fingerprint(b64u_decode(f["signed"]["public_key"])) == f["unit_key_fingerprint"]
    key = unwrap_signing_key(f["directory_key_wrap"], pair(f["admin"]))
    assert key.private_bytes_raw().hex() == f["unit_key_seed"]


def test_proof() -> None:
    f = load("proof.json")
    facts = verify_proof(f["proof"], envelope=f["envelope"], public_key=f["server_public_key"])
    assert facts.case_number == "WBS-DEMO-2026-000001"


def test_attachments() -> None:
    f = load("attachment.json")
    dk, ctx = bytes.fromhex(f["data_key"]), ctx_of(f["context"])
    for a in f["attachments"]:
        stream = bytes.fromhex(a["stream"])
        assert decrypt_attachment(dk, ctx, a["attachment_id"], stream).hex() == a["plaintext"]
        meta = open_attachment_metadata(dk, ctx, a["attachment_id"], b64u_decode(a["metadata"]))
        assert (meta.name, meta.content_type) == (a["name"], a["content_type"])
        with pytest.raises(DecryptError):
            decrypt_attachment(dk, ctx, a["attachment_id"], stream[:-1])


def test_suite_ids_are_the_documented_ones() -> None:
    assert [int(s) for s in Suite] == [1, 2]
    with pytest.raises(UnsupportedError):
        KeyPair.generate(Suite(1)).public.from_wire(b"\x00\x03" + bytes(32))


def test_identity_v2() -> None:
    from crypto.envelope import (
        envelope_identity_key,
        open_released_identity,
        open_report_identity,
    )

    f = load("identity.json")
    assert f["format"] == 2 and f["envelope"]["v"] == 2
    env = f["envelope"]
    holders = [*map(pair, f["officers"]), derive_from_receipt(f["receipt"]).key_pair]
    for holder in holders:
        opened = open_report(env, holder)
        assert opened.content == f["content"] and opened.identity is None
        assert opened.data_key.secret.hex() == f["data_key"]
        with pytest.raises(DecryptError):
            open_report_identity(env, holder)
    for custodian in (pair(f["custodian"]), pair(f["pq_custodian"])):
        assert open_report_identity(env, custodian) == f["identity"]
        assert envelope_identity_key(env, custodian).secret.hex() == f["identity_key"]
    release = b64u_decode(f["release"])
    assert open_released_identity(env, release, pair(f["officers"][0])) == f["identity"]
    for other in (pair(f["officers"][1]), pair(f["outsider"])):
        with pytest.raises(DecryptError):
            open_released_identity(env, release, other)
