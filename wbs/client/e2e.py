"""The reference client's single door to the `crypto` library (keys stay in memory).

Thin, typed adapters so the flows read in the domain's words; no cryptography is
implemented here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crypto import attachment, directory, envelope, merkle, proof, receipt, staffkeys, treehead
from crypto.boxes import DataKey, ReportContext
from crypto.encoding import b64u_decode, b64u_encode
from crypto.errors import CryptoError, ReceiptError
from crypto.identity import commitment_matches, open_identity_v2, unwrap_identity_key
from crypto.keys import KeyPair
from crypto.signing import public_key_text
from crypto.staffkeys import weak_kdf_allowed
from wbs.client.api import ClientError

StaffPrivateKey = KeyPair
__all__ = ["DataKey", "KeyPair", "StaffPrivateKey"]
SigningKey = Ed25519PrivateKey


@dataclass(frozen=True)
class Context:
    unit: str
    channel: str
    report_id: str

    @property
    def lib(self) -> ReportContext:
        return ReportContext(self.unit, self.channel, self.report_id)


@dataclass(frozen=True)
class ReporterKeys:
    """Derived from the receipt: the lookup id (sent) and the reporter key pair (kept)."""

    lookup: bytes = field(repr=False)
    public: str
    key_pair: KeyPair = field(repr=False)


def login_secret(passphrase: str, kdf: dict[str, Any] | None) -> str:
    """What is sent in place of the passphrase (the passphrase itself for legacy accounts)."""
    if kdf is None:
        return passphrase
    return staffkeys.login_secret(passphrase, kdf, weak_for_tests=weak_kdf_allowed())


@dataclass(frozen=True)
class MadeKey:
    """A key pair made on this device: what is sent, and the recovery key shown once."""

    public: str
    wrapped: str
    recovery_wrapped: str
    recovery_key: str = field(repr=False)


def create_staff_key(passphrase: str, kdf: dict[str, Any] | None) -> MadeKey:
    """A new key pair wrapped under the passphrase and under a fresh recovery key."""
    made = staffkeys.create_staff_key(passphrase, kdf=kdf, weak_for_tests=weak_kdf_allowed())
    return MadeKey(
        made.public, made.wrapped.dumps(), made.recovery_wrapped.dumps(), made.recovery_key
    )


def new_recovery_wrap(key_pair: KeyPair) -> tuple[str, str]:
    """(recovery wrap JSON text, the new recovery key) for a key that has none yet."""
    recovery_key = staffkeys.new_recovery_key()
    return staffkeys.wrap_with_recovery_key(key_pair, recovery_key).dumps(), recovery_key


def unwrap_staff_key(wrapped: str, passphrase: str) -> KeyPair:
    try:
        return staffkeys.unwrap_private_key(wrapped, passphrase, weak_for_tests=weak_kdf_allowed())
    except CryptoError:
        raise ClientError("kunci privat tidak dapat dibuka / cannot open the private key") from None


def unwrap_with_recovery_key(recovery_wrapped: str, recovery_key: str) -> KeyPair:
    try:
        return staffkeys.unwrap_with_recovery_key(recovery_wrapped, recovery_key)
    except ReceiptError:
        raise ClientError("kunci pemulihan salah ketik / the recovery key is mistyped") from None
    except CryptoError:
        raise ClientError(
            "kunci pemulihan tidak membuka kunci ini / the recovery key does not open this key"
        ) from None


@dataclass(frozen=True)
class NewPassphrase:
    """What a passphrase change sends: derived secret, fresh parameters, the new wrap."""

    login_secret: str = field(repr=False)
    kdf: dict[str, Any]
    wrapped: str | None


def new_passphrase(passphrase: str, key_pair: KeyPair | None) -> NewPassphrase:
    """Fresh parameters (full strength, new salt) for `passphrase`, and `key_pair` wrapped
    under it (same key pair: reports stay readable)."""
    params = staffkeys.KdfParams.pbkdf2()
    secret, kdf = staffkeys.new_credentials(passphrase, params)
    wrapped = None
    if key_pair is not None:
        wrapped = staffkeys.wrap_private_key(key_pair, passphrase, params).dumps()
    return NewPassphrase(secret, kdf, wrapped)


def new_directory_key() -> tuple[SigningKey, str]:
    key = directory.new_signing_key()
    return key, public_key_text(key)


def wrap_directory_key(key: SigningKey, admin: KeyPair) -> str:
    return directory.wrap_signing_key(key, admin.public)


def open_directory_key(wrapped: str, admin: KeyPair) -> SigningKey:
    try:
        return directory.unwrap_signing_key(wrapped, admin)
    except CryptoError:
        raise ClientError("kunci direktori tidak dapat dibuka / cannot open the unit key") from None


def sign_directory(key: SigningKey, document: bytes) -> bytes:
    return directory.sign_document(key, document)


def directory_fingerprint(public_key: str) -> str:
    """The unit key's fingerprint as the unit's poster prints it, computed here from the key
    (never the `fingerprint` string a server sends)."""
    try:
        return directory.fingerprint(public_key)
    except CryptoError:
        raise ClientError("kunci unit tidak sah / the unit key is not valid") from None


def normalize_fingerprint(text: str) -> str:
    """A typed fingerprint for comparison; ClientError when it cannot be one."""
    try:
        return directory.normalize_fingerprint(text)
    except CryptoError:
        raise ClientError(
            "sidik jari harus 32 huruf/angka base32 (8 kelompok 4), seperti pada poster unit / "
            "a fingerprint has 32 base32 characters (8 groups of 4), as on the unit's poster"
        ) from None


def same_fingerprint(typed: str, public_key: str) -> bool:
    return normalize_fingerprint(typed) == normalize_fingerprint(directory_fingerprint(public_key))


def verify_directory(
    signed: dict[str, Any],
    unit: str,
    *,
    public_key: str | None = None,
    min_version: int | None = None,
) -> dict[str, Any]:
    """The verified directory as plain data: unit, version, channels -> recipients. With
    `public_key` (the pinned unit key) and `min_version` (the rollback floor) it also
    refuses any other key and any older version."""
    try:
        parsed = directory.verify_signed_directory(
            signed, unit=unit, public_key=public_key, min_version=min_version
        )
    except CryptoError:
        raise ClientError("direktori unit tidak sah / the unit directory is not valid") from None

    def entries(found: tuple[directory.DirectoryEntry, ...]) -> list[dict[str, str]]:
        return [
            {
                "key_id": e.key_id,
                "public_key": e.public_key.text,
                "name": e.name,
                "fingerprint": e.fingerprint,
            }
            for e in found
        ]

    return {
        "unit": parsed.unit,
        "version": parsed.version,
        "issued_at": parsed.issued_at,
        "public_key": parsed.public_key,
        "channels": {name: entries(found) for name, found in parsed.channels.items()},
        "custodians": entries(parsed.custodians),
    }


def verify_proof(signed_proof: dict[str, Any], sent: dict[str, Any] | None) -> proof.ProofFacts:
    try:
        return proof.verify_proof(signed_proof, envelope=sent)
    except CryptoError:
        raise ClientError("bukti pengiriman tidak sah / the proof is not valid") from None


def audit_key_changed(head_key: object, audit_key: str) -> ClientError:
    return ClientError(
        f"tree head audit ditandatangani kunci lain ({head_key}), bukan kunci audit unit "
        f"yang tersimpan ({audit_key}); log ini TIDAK dipercaya / the audit tree head is "
        f"signed by another key ({head_key}), not the unit's pinned audit key "
        f"({audit_key}); this log is NOT trusted",
        code="audit_key_changed",
    )


def _log_rewritten(unit: str, why_id: str, why_en: str) -> ClientError:
    return ClientError(
        f"log audit unit {unit} TIDAK konsisten dengan kepala pohon yang pernah disaksikan: "
        f"{why_id}; simpan berkas kunci ini sebagai bukti / the audit log of unit {unit} is "
        f"NOT consistent with the tree head witnessed before: {why_en}; keep the state file "
        "as evidence",
        code="audit_log_rewritten",
    )


def check_witnessed(
    unit: str,
    head: dict[str, Any],
    before: tuple[str, int, str] | None,
    consistency: Callable[[int, int], dict[str, Any]],
) -> dict[str, Any]:
    """`head` (the unit's newest signed tree head) is validly signed by the pinned key and
    extends the head witnessed `before` ((public key, size, root), None on first use):
    same key, not smaller, same root at the same size, else an RFC 9162 consistency proof
    (fetched with `consistency(old_size, new_size)`) between the two signed heads."""
    if head.get("unit") != unit:
        raise ClientError(f"kepala pohon unit lain / a tree head of another unit: {unit}")
    key = str(head.get("public_key"))
    if before is not None and key != before[0]:
        raise audit_key_changed(key, before[0])
    try:
        size, root = treehead.verify_head(head, key)
        if before is None or before[1] == 0:
            checked = "first-use"
        elif size < before[1]:
            raise _log_rewritten(
                unit,
                f"ukuran {size} lebih kecil dari {before[1]} (entri dihapus?)",
                f"size {size} is below {before[1]} (entries removed?)",
            )
        elif size == before[1]:
            if root.hex() != before[2]:
                raise _log_rewritten(
                    unit, f"akar lain pada ukuran {size}", f"another root at size {size}"
                )
            checked = "unchanged"
        else:
            doc = consistency(before[1], size)
            first, second = doc.get("first") or {}, doc.get("second") or {}
            if first.get("root_hash") != before[2] or second.get("root_hash") != root.hex():
                raise _log_rewritten(
                    unit,
                    f"server mengirim kepala lain untuk ukuran {before[1]}",
                    f"the server sent another head for size {before[1]}",
                )
            treehead.check_consistency(doc, key)
            checked = "consistent"
    except merkle.ProofError as exc:
        raise _log_rewritten(unit, str(exc), str(exc)) from None
    return {
        "unit": unit,
        "checked": checked,
        "tree_size": size,
        "root_hash": root.hex(),
        "signed_at": head.get("at"),
        "public_key": key,
        "previous_size": before[1] if before else None,
    }


def check_audit_inclusion(
    doc: dict[str, Any],
    *,
    case_number: str,
    unit: str,
    audit_leaf: str | None,
    audit_key: str | None = None,
) -> dict[str, Any]:
    """The submission entry of `case_number` is in the unit's audit log under a tree head
    validly signed by `audit_key` (the pinned key; RFC 9162 inclusion proof), and is the
    leaf the proof names."""
    head_key = (doc.get("tree_head") or {}).get("public_key")
    if audit_key is not None and not doc.get("pending") and head_key != audit_key:
        raise audit_key_changed(head_key, audit_key)
    if doc.get("pending"):
        raise ClientError(
            "entri audit belum masuk tree head bertanda tangan; coba lagi nanti / the audit "
            "entry is not under a signed tree head yet; try again later"
        )
    try:
        entry = treehead.check_inclusion(doc)
    except merkle.ProofError as exc:
        raise ClientError(f"bukti inklusi audit tidak sah / the audit proof fails: {exc}") from None
    if (
        entry.get("action") != "report.submit"
        or entry.get("object_id") != case_number
        or entry.get("unit") != unit
        or (audit_leaf is not None and doc.get("leaf_hash") != audit_leaf)
    ):
        raise ClientError(
            "entri audit bukan untuk laporan ini / the audit entry is not this report's"
        )
    head = doc["tree_head"]
    return {
        "verified": True,
        "leaf_hash": doc["leaf_hash"],
        "leaf_index": doc["leaf_index"],
        "tree_size": head["tree_size"],
        "root_hash": head["root_hash"],
        "signed_at": head["at"],
        "public_key": head["public_key"],
    }


def new_receipt() -> str:
    return receipt.new_receipt()


def reporter_keys(text: str) -> ReporterKeys:
    try:
        keys = receipt.derive_from_receipt(text)
    except CryptoError:
        raise ClientError("tanda terima salah ketik / the receipt is mistyped") from None
    return ReporterKeys(keys.lookup, keys.reporter_public_key, keys.key_pair)


def seal_report(
    *,
    unit: str,
    channel: str,
    report_id: str,
    content: dict[str, str],
    recipients: list[str],
    reporter_public: str,
    identity: dict[str, str] | None = None,
    custodians: list[str] | None = None,
) -> tuple[dict[str, Any], DataKey]:
    """With an identity and the directory's custodians: envelope v2 (the identity under its
    own key, wrapped to the custodians only)."""
    sealed = envelope.seal_report(
        unit=unit,
        channel=channel,
        report_id=report_id,
        content=content,
        recipients=recipients,
        reporter_key=reporter_public,
        identity=identity,
        identity_recipients=custodians or None,
    )
    return sealed.envelope.to_json(), sealed.data_key


def _data_key(sent: dict[str, Any], key_pair: KeyPair) -> DataKey:
    try:
        return envelope.envelope_data_key(sent, key_pair)
    except CryptoError:
        raise ClientError("laporan tidak dapat dibuka / cannot open the report") from None


def reporter_data_key(sent: dict[str, Any], keys: ReporterKeys) -> DataKey:
    return _data_key(sent, keys.key_pair)


def staff_data_key(sent: dict[str, Any], key_pair: KeyPair) -> DataKey:
    return _data_key(sent, key_pair)


def open_content(data_key: DataKey, ctx: Context, sent: dict[str, Any]) -> dict[str, str]:
    """The content box of a served envelope (v2: its identity commitment is in the box's
    context)."""
    commitment = sent.get("identity_commitment")
    return envelope.open_content(
        data_key,
        ctx.lib,
        b64u_decode(sent["content"]),
        identity_commitment=b64u_decode(commitment) if isinstance(commitment, str) else None,
    )


def release_identity(
    ctx: Context, request: dict[str, Any], custodian: KeyPair, requester_public: str
) -> str:
    """On the custodian's device: IK from this custodian's identity wrap, checked against
    the commitment and the identity box, wrapped again to the requester's key (b64u)."""
    try:
        ik = unwrap_identity_key(b64u_decode(request["identity_wrap"]), ctx.lib, custodian)
        if not commitment_matches(ik, b64u_decode(request["identity_commitment"])):
            raise ClientError("komitmen identitas tidak cocok / the identity commitment differs")
        open_identity_v2(ik, ctx.lib, b64u_decode(request["identity"]))
        return b64u_encode(envelope.rewrap_identity_key(ik, requester_public, ctx.lib))
    except CryptoError:
        raise ClientError(
            "kunci identitas tidak dapat dibuka dengan kunci ini / "
            "cannot open the identity key with this key"
        ) from None


def open_released_identity(
    sent: dict[str, Any], wrap: str | None, key_pair: KeyPair
) -> dict[str, str]:
    """The requester opens a released identity: v2 with the wrap made for this key (the
    commitment checked through the content box), v1 with the data key."""
    try:
        if wrap is None:
            opened = envelope.open_report(sent, key_pair)
            if opened.identity is None:
                raise CryptoError()
            return opened.identity
        return envelope.open_released_identity(sent, b64u_decode(wrap), key_pair)
    except CryptoError:
        raise ClientError(
            "identitas tidak dapat dibuka dengan kunci ini / cannot open the identity with this key"
        ) from None


def seal_message(data_key: DataKey, ctx: Context, role: str, message_id: str, text: str) -> bytes:
    return envelope.seal_message(data_key, ctx.lib, role, message_id, text)


def open_message(data_key: DataKey, ctx: Context, role: str, message_id: str, box: bytes) -> str:
    return envelope.open_message(data_key, ctx.lib, role, message_id, box)


def encrypt_attachment(data_key: DataKey, ctx: Context, attachment_id: str, data: bytes) -> bytes:
    return attachment.encrypt_attachment(data_key, ctx.lib, attachment_id, data)


def decrypt_attachment(data_key: DataKey, ctx: Context, attachment_id: str, data: bytes) -> bytes:
    return attachment.decrypt_attachment(data_key, ctx.lib, attachment_id, data)


def seal_attachment_metadata(
    data_key: DataKey, ctx: Context, attachment_id: str, name: str, content_type: str
) -> bytes:
    return attachment.seal_attachment_metadata(data_key, ctx.lib, attachment_id, name, content_type)


def open_attachment_metadata(
    data_key: DataKey, ctx: Context, attachment_id: str, box: bytes
) -> tuple[str, str]:
    meta = attachment.open_attachment_metadata(data_key, ctx.lib, attachment_id, box)
    return meta.name, meta.content_type
