"""Write the interop fixtures in tests/crypto/fixtures/ (JSON) for the browser tests.

Run: .venv/bin/python tests/crypto/make_fixtures.py [file.json ...]
(no argument: every file; with names: only those, e.g. `identity.json`, so that the
committed v1 fixtures stay exactly as they were).

Keys, data keys, receipts, passphrases and identifiers are fixed (derived from labels), so
key ids, fingerprints, receipt derivations and login secrets are stable across runs;
ciphertexts use fresh nonces and ephemeral keys and change on every run. Every fixture holds
the secrets needed to open it: these are test keys, never used anywhere else.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from crypto.attachment import encrypt_attachment, seal_attachment_metadata  # noqa: E402
from crypto.boxes import DataKey, ReportContext  # noqa: E402
from crypto.directory import fingerprint, sign_directory, wrap_signing_key  # noqa: E402
from crypto.encoding import b64u_encode  # noqa: E402
from crypto.envelope import (  # noqa: E402
    add_recipient,
    release_identity,
    seal_message,
    seal_note,
    seal_report,
)
from crypto.keys import KeyPair, Suite  # noqa: E402
from crypto.proof import envelope_sha256, sign_proof  # noqa: E402
from crypto.receipt import ALPHABET, check_symbol, derive_from_receipt, format_receipt  # noqa: E402
from crypto.staffkeys import (  # noqa: E402
    KdfParams,
    login_secret,
    wrap_private_key,
    wrap_with_recovery_key,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
UNIT, CHANNEL = "DEMO", "wbs"
REPORT_ID = "0f6b1c2e-3d4a-4b5c-8d9e-0a1b2c3d4e5f"
CANARY = "KANARI-fixture-RAHASIA"


def seed(label: str) -> bytes:
    return hashlib.sha256(b"wbs fixture " + label.encode()).digest()


def key(label: str, suite: Suite = Suite.X25519_AES256GCM) -> KeyPair:
    return KeyPair(suite, seed(label))


def receipt(label: str) -> str:
    values = [b % 31 for b in seed(label)[:19]]
    values.append(check_symbol(values))
    return format_receipt("".join(ALPHABET[v] for v in values))


def key_json(pair: KeyPair) -> dict[str, Any]:
    return {
        "suite": int(pair.suite),
        "seed": pair.private_bytes().hex(),
        "public_key": pair.public.text,
        "key_id": pair.public.key_id_hex,
        "fingerprint": pair.public.fingerprint,
    }


def ctx_json(ctx: ReportContext) -> dict[str, str]:
    return {"unit": ctx.unit, "channel": ctx.channel, "report_id": ctx.report_id}


def keys() -> dict[str, Any]:
    return {
        "keys": [key_json(key(f"key {i}")) for i in range(3)]
        + [key_json(key("pq key", Suite.MLKEM768X25519_AES256GCM))]
    }


def envelope() -> dict[str, Any]:
    officer, officer2 = key("officer 1"), key("officer 2")
    pq_officer = key("officer pq", Suite.MLKEM768X25519_AES256GCM)
    outsider, late = key("outsider"), key("late officer")
    rec = receipt("reporter receipt")
    reporter = derive_from_receipt(rec)
    content = {"judul": "Pungutan liar", "uraian": CANARY + " dana BOS ü"}
    identity = {"nama": "Pelapor", "telepon": "0812"}
    sealed = seal_report(
        unit=UNIT,
        channel=CHANNEL,
        report_id=REPORT_ID,
        content=content,
        identity=identity,
        recipients=[officer.public, officer2.public, pq_officer.public],
        reporter_key=reporter.reporter_public_key,
    )
    escalated = add_recipient(sealed.envelope, sealed.data_key, [late.public])
    return {
        "description": "a report to two X25519 officers and one X-Wing officer plus the "
        "reporter's receipt key; `escalated` adds `late`; `outsider` must fail",
        "envelope": sealed.envelope.to_json(),
        "escalated": escalated.to_json(),
        "data_key": sealed.data_key.secret.hex(),
        "content": content,
        "identity": identity,
        "receipt": rec,
        "officers": [key_json(officer), key_json(officer2)],
        "pq_officer": key_json(pq_officer),
        "late": key_json(late),
        "outsider": key_json(outsider),
    }


def identity() -> dict[str, Any]:
    """Envelope v2: the identity under IK, wrapped to two custodians (X25519 and X-Wing)."""
    officer, officer2 = key("officer 1"), key("officer 2")
    custodian = key("custodian")
    pq_custodian = key("custodian pq", Suite.MLKEM768X25519_AES256GCM)
    outsider = key("outsider")
    rec = receipt("reporter receipt v2")
    reporter = derive_from_receipt(rec)
    content = {"judul": "Gratifikasi", "uraian": CANARY + " hadiah ü"}
    ident = {"nama": "Pelapor Rahasia " + CANARY, "telepon": "0812"}
    sealed = seal_report(
        unit=UNIT,
        channel=CHANNEL,
        report_id="7a1c2e3d-4b5c-4d6e-8f70-8192a3b4c5d6",
        content=content,
        identity=ident,
        recipients=[officer.public, officer2.public],
        reporter_key=reporter.reporter_public_key,
        identity_recipients=[custodian.public, pq_custodian.public],
    )
    assert sealed.identity_key is not None
    release = release_identity(sealed.envelope, custodian, officer.public)
    return {
        "description": "envelope v2 to two officers and the reporter's receipt key; the "
        "identity key is wrapped to `custodian` and `pq_custodian` only; `release` is the "
        "identity wrap `custodian` made for `officers[0]`; officers, the reporter and "
        "`outsider` must not open the identity",
        "envelope": sealed.envelope.to_json(),
        "data_key": sealed.data_key.secret.hex(),
        "identity_key": sealed.identity_key.secret.hex(),
        "content": content,
        "identity": ident,
        "receipt": rec,
        "officers": [key_json(officer), key_json(officer2)],
        "custodian": key_json(custodian),
        "pq_custodian": key_json(pq_custodian),
        "outsider": key_json(outsider),
        "release": b64u_encode(release),
    }


def messages() -> dict[str, Any]:
    dk = DataKey(seed("message data key"))
    ctx = ReportContext(UNIT, CHANNEL, REPORT_ID)
    author = key("officer 1").public.key_id_hex
    msgs = [
        ("reporter", "6b0e8f7a-0000-4000-8000-000000000001", "Apakah laporan saya diterima?"),
        ("officer", "6b0e8f7a-0000-4000-8000-000000000002", "Ya, sedang diverifikasi. " + CANARY),
        ("reporter", "6b0e8f7a-0000-4000-8000-000000000003", ""),
    ]
    return {
        "data_key": dk.secret.hex(),
        "context": ctx_json(ctx),
        "messages": [
            {
                "sender_role": role,
                "message_id": mid,
                "text": text,
                "box": b64u_encode(seal_message(dk, ctx, role, mid, text)),
            }
            for role, mid, text in msgs
        ],
        "notes": [
            {
                "author_key_id": author,
                "note_id": "note-1",
                "text": "Catatan internal ü " + CANARY,
                "box": b64u_encode(
                    seal_note(dk, ctx, author, "note-1", "Catatan internal ü " + CANARY)
                ),
            }
        ],
    }


def staff_keys() -> dict[str, Any]:
    passphrase = "Kata sandi staf ü ﬁ 2026"
    pair = key("staff member")
    salt = seed("staff salt")[:16]
    params = KdfParams("pbkdf2-sha256", salt, 600_000)
    argon = KdfParams("argon2id", seed("staff argon salt")[:16], 3, 65_536, 1)
    values = [b % 31 for b in (seed("recovery") + seed("recovery 2"))[:27]]
    values.append(check_symbol(values))
    recovery = "-".join("".join(ALPHABET[v] for v in values)[i : i + 4] for i in range(0, 28, 4))
    return {
        "passphrase": passphrase,
        "seed": pair.private_bytes().hex(),
        "public_key": pair.public.text,
        "login_secret": login_secret(passphrase, params),
        "wrapped": wrap_private_key(pair, passphrase, params).to_json(),
        "argon2id": {
            "description": "Python-only profile: the browser must refuse it as unsupported",
            "wrapped": wrap_private_key(pair, passphrase, argon).to_json(),
            "login_secret": login_secret(passphrase, argon),
        },
        "recovery_key": recovery,
        "recovery_wrapped": wrap_with_recovery_key(pair, recovery).to_json(),
        "pq": {
            "seed": key("staff pq", Suite.MLKEM768X25519_AES256GCM).private_bytes().hex(),
            "wrapped": wrap_private_key(
                key("staff pq", Suite.MLKEM768X25519_AES256GCM), passphrase, params
            ).to_json(),
        },
    }


def receipts() -> dict[str, Any]:
    valid = []
    for i in range(6):
        text = receipt(f"receipt {i}")
        keys_ = derive_from_receipt(text)
        valid.append(
            {
                "receipt": text,
                "canonical": text.replace("-", ""),
                "lookup": keys_.lookup_b64u,
                "reporter_public_key": keys_.reporter_public_key,
                "reporter_seed": keys_.key_pair.private_bytes().hex(),
            }
        )
    base = valid[0]["canonical"]
    swapped = next(
        base[:i] + base[i + 1] + base[i] + base[i + 2 :]
        for i in range(19)
        if base[i] != base[i + 1]
    )
    typo = base[:7] + ("X" if base[7] != "X" else "Y") + base[8:]
    invalid = [
        {"input": base[:-1], "reason": "length"},
        {"input": base[:-1] + "O", "reason": "character"},
        {"input": typo, "reason": "check"},
        {"input": swapped, "reason": "check"},
    ]
    accepted = [
        {"input": valid[1]["receipt"].lower(), "canonical": valid[1]["canonical"]},
        {"input": " ".join(valid[2]["canonical"]), "canonical": valid[2]["canonical"]},
        {"input": valid[3]["receipt"].replace("-", "_") + "\n", "canonical": valid[3]["canonical"]},
    ]
    return {"valid": valid, "invalid": invalid, "accepted": accepted}


def directory() -> dict[str, Any]:
    unit_key = Ed25519PrivateKey.from_private_bytes(seed("unit directory key"))
    officers = [
        key("officer 1"),
        key("officer 2"),
        key("officer pq", Suite.MLKEM768X25519_AES256GCM),
    ]
    admin = key("admin")
    doc = {
        "v": 1,
        "unit": UNIT,
        "version": 3,
        "issued_at": "2026-11-23T00:00:00Z",
        "channels": {
            "wbs": [
                {
                    "key_id": k.public.key_id_hex,
                    "public_key": k.public.text,
                    "fingerprint": k.public.fingerprint,
                    "name": f"Petugas {i + 1}",
                }
                for i, k in enumerate(officers)
            ],
            "pengaduan": [],
        },
    }
    signed = sign_directory(unit_key, doc)
    raw = unit_key.public_key().public_bytes_raw()
    return {
        "signed": signed,
        "unit_key_fingerprint": fingerprint(raw),
        "admin": key_json(admin),
        "directory_key_wrap": wrap_signing_key(unit_key, admin.public),
        "unit_key_seed": seed("unit directory key").hex(),
    }


def proof() -> dict[str, Any]:
    server = Ed25519PrivateKey.from_private_bytes(seed("server proof key"))
    env = envelope()["envelope"]
    p = sign_proof(
        server,
        case_number="WBS-DEMO-2026-000001",
        unit=UNIT,
        submitted_at="2026-11-23T00:10:00Z",
        envelope_sha256=envelope_sha256(env),
    )
    return {"proof": p, "envelope": env, "server_public_key": p["public_key"]}


def attachment() -> dict[str, Any]:
    dk = DataKey(seed("attachment data key"))
    ctx = ReportContext(UNIT, CHANNEL, REPORT_ID)
    data = bytes((i * 31 + 7) % 256 for i in range(1000))
    cases = []
    for aid, chunk, size in (
        ("att-1", 64, 1000),
        ("att-2", 64, 128),
        ("att-3", 64, 0),
        ("att-4", 65536, 1000),
    ):
        cases.append(
            {
                "attachment_id": aid,
                "chunk_size": chunk,
                "plaintext": data[:size].hex(),
                "stream": encrypt_attachment(dk, ctx, aid, data[:size], chunk_size=chunk).hex(),
                "metadata": b64u_encode(
                    seal_attachment_metadata(dk, ctx, aid, f"bukti {aid} ü.jpg", "image/jpeg")
                ),
                "name": f"bukti {aid} ü.jpg",
                "content_type": "image/jpeg",
            }
        )
    return {"data_key": dk.secret.hex(), "context": ctx_json(ctx), "attachments": cases}


WRITERS = {
    "keys.json": keys,
    "envelope.json": envelope,
    "messages.json": messages,
    "staffkeys.json": staff_keys,
    "receipts.json": receipts,
    "directory.json": directory,
    "proof.json": proof,
    "attachment.json": attachment,
    "identity.json": identity,
}
FORMATS = {"identity.json": 2}  # the envelope version a file is about; 1 for the others


def main(names: list[str]) -> None:
    unknown = set(names) - set(WRITERS)
    if unknown:
        raise SystemExit(f"unknown fixture file(s): {', '.join(sorted(unknown))}")
    FIXTURES.mkdir(parents=True, exist_ok=True)
    for name, writer in WRITERS.items():
        if names and name not in names:
            continue
        data = {"made_by": "python", "format": FORMATS.get(name, 1), **writer()}
        (FIXTURES / name).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
        print(f"wrote {FIXTURES / name}")


if __name__ == "__main__":
    main(sys.argv[1:])
