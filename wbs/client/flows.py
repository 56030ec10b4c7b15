"""The reference client's flows: enroll, passwd, recover, approve, submit, follow, reply,
inbox, answer, case, act, export-gratifikasi.

Every key stays in memory for the run: staff keys are unwrapped from the passphrase each
time, reporter keys are derived from the receipt each time. Plaintext never touches disk,
but for the file an officer asks `export-gratifikasi` to write.
"""

from __future__ import annotations

import json
import mimetypes
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crypto.encoding import b64u_decode, b64u_encode
from crypto.pow import solve
from crypto.staffkeys import MAX_PASSPHRASE_CHARS, MIN_PASSPHRASE_CHARS
from wbs.client import e2e, kpk
from wbs.client.api import Api, ClientError
from wbs.client.files import write_private
from wbs.client.known import KeyChanged, KnownUnits, Rollback


@dataclass
class Officer:
    api: Api
    me: dict[str, Any]
    private: e2e.StaffPrivateKey | None


def sign_in(api: Api, email: str, passphrase: str, code: str | None = None) -> dict[str, Any]:
    kdf = api.get("/api/v1/staff/kdf", params={"email": email})["kdf"]
    secret = e2e.login_secret(passphrase, kdf)
    out: dict[str, Any] = api.post(
        "/api/v1/staff/session", json={"email": email, "login_secret": secret, "code": code}
    )
    api.csrf = out["csrf_token"]
    return out["staff"]  # type: ignore[no-any-return]


def officer(
    api: Api, email: str, passphrase: str, *, need_key: bool = True, code: str | None = None
) -> Officer:
    me = sign_in(api, email, passphrase, code)
    private = None
    if me.get("wrapped_private_key"):
        private = e2e.unwrap_staff_key(me["wrapped_private_key"], passphrase)
    elif need_key:
        raise ClientError(
            "akun ini belum mendaftarkan kunci (jalankan `wbs client enroll`) / "
            "this account has no key yet (run `wbs client enroll`)"
        )
    return Officer(api, me, private)


def _put_key(api: Api, made: e2e.MadeKey, secret: str, code: str | None) -> dict[str, Any]:
    out: dict[str, Any] = api.put(
        "/api/v1/staff/me/key",
        json={
            "login_secret": secret,
            "code": code,
            "public_key": made.public,
            "wrapped_private_key": made.wrapped,
            "recovery_wrapped_private_key": made.recovery_wrapped,
        },
    )
    return out


def _reauth_code(me: dict[str, Any], code: str | None, reauth_code: str | None) -> str | None:
    """The TOTP code for a change that needs re-authentication: a second, later code than
    the one used to sign in (each code is accepted once)."""
    if not me.get("totp_enrolled"):
        return None
    if not reauth_code or reauth_code == code:
        raise ClientError(
            "akun ini memakai verifikasi dua langkah: berikan juga kode berikutnya dari "
            "autentikator dengan --reauth-code / this account uses two-step verification: "
            "also give the next code from the authenticator with --reauth-code"
        )
    return reauth_code


def enroll(
    url: str,
    email: str,
    passphrase: str,
    code: str | None = None,
    reauth_code: str | None = None,
) -> dict[str, Any]:
    """Make the key pair here (or check the enrolled one still opens). `recovery_key` is
    printed once, when a key or its recovery copy is made: print it or write it down.
    Sending a key needs the login secret again and, with TOTP, a second code."""
    recovery_key = None
    with Api(url) as api:
        me = sign_in(api, email, passphrase, code)
        secret = e2e.login_secret(passphrase, me.get("kdf"))
        if me.get("public_key") and me.get("wrapped_private_key"):
            pair = e2e.unwrap_staff_key(me["wrapped_private_key"], passphrase)  # still opens
            if not me.get("recovery_wrapped_private_key"):
                # Enrolled before recovery copies existed: add one for the same key.
                recovery_wrapped, recovery_key = e2e.new_recovery_wrap(pair)
                me = api.put(
                    "/api/v1/staff/me/key",
                    json={
                        "login_secret": secret,
                        "code": _reauth_code(me, code, reauth_code),
                        "public_key": me["public_key"],
                        "wrapped_private_key": me["wrapped_private_key"],
                        "recovery_wrapped_private_key": recovery_wrapped,
                    },
                )
        else:
            made = e2e.create_staff_key(passphrase, me.get("kdf"))
            me = _put_key(api, made, secret, _reauth_code(me, code, reauth_code))
            recovery_key = made.recovery_key
        return {
            "email": me["email"],
            "unit": me["unit"],
            "key_id": me["key_id"],
            "fingerprint": me["fingerprint"],
            "key_status": me["key_status"],
            "recovery_key": recovery_key,
        }


def _change(
    api: Api, current_secret: str, code: str | None, new: str, pair: e2e.KeyPair | None
) -> dict[str, Any]:
    if not MIN_PASSPHRASE_CHARS <= len(new) <= MAX_PASSPHRASE_CHARS:
        low, high = MIN_PASSPHRASE_CHARS, MAX_PASSPHRASE_CHARS
        raise ClientError(
            f"Kata sandi harus {low} sampai {high} karakter. / "
            f"The password must be {low} to {high} characters long."
        )
    made = e2e.new_passphrase(new, pair)
    me: dict[str, Any] = api.put(
        "/api/v1/staff/me/passphrase",
        json={
            "current_login_secret": current_secret,
            "code": code,
            "new_login_secret": made.login_secret,
            "new_kdf": made.kdf,
            "wrapped_private_key": made.wrapped,
        },
    )
    return {
        "email": me["email"],
        "fingerprint": me["fingerprint"],
        "key_status": me["key_status"],
        "passphrase_changed_at": me["passphrase_changed_at"],
    }


def passwd(
    url: str,
    email: str,
    current: str,
    new: str,
    code: str | None = None,
    reauth_code: str | None = None,
) -> dict[str, Any]:
    """Change the passphrase: the same key pair, re-wrapped here under the new passphrase."""
    with Api(url) as api:
        me = sign_in(api, email, current, code)
        pair = None
        if me.get("wrapped_private_key"):
            if json.loads(me["wrapped_private_key"]).get("kdf") != me.get("kdf"):
                raise ClientError(
                    "kata sandi akun ini telah diatur ulang admin: pulihkan kunci dengan "
                    "`wbs client recover` / this account's passphrase was reset by an admin: "
                    "recover the key with `wbs client recover`"
                )
            pair = e2e.unwrap_staff_key(me["wrapped_private_key"], current)
        return _change(
            api,
            e2e.login_secret(current, me.get("kdf")),
            _reauth_code(me, code, reauth_code),
            new,
            pair,
        )


def recover(
    url: str,
    email: str,
    temporary: str,
    recovery_key: str,
    new: str,
    code: str | None = None,
    reauth_code: str | None = None,
) -> dict[str, Any]:
    """After `wbs staff set-password`: open the key with the recovery key here and wrap it
    under a passphrase only the officer knows (the same key pair: reports stay readable)."""
    with Api(url) as api:
        me = sign_in(api, email, temporary, code)
        if not me.get("recovery_wrapped_private_key"):
            raise ClientError(
                "akun ini tidak memiliki salinan kunci untuk pemulihan / "
                "this account has no recovery copy of its key"
            )
        pair = e2e.unwrap_with_recovery_key(me["recovery_wrapped_private_key"], recovery_key)
        return _change(
            api,
            e2e.login_secret(temporary, me.get("kdf")),
            _reauth_code(me, code, reauth_code),
            new,
            pair,
        )


def approve(
    url: str, email: str, passphrase: str, unit: str | None = None, *, code: str | None = None
) -> dict[str, Any]:
    """Sign the unit's directory with every enrolled key (pending ones become approved)."""
    with Api(url) as api:
        admin = officer(api, email, passphrase, need_key=False, code=code)
        recovery_key = None
        if admin.private is None:
            made = e2e.create_staff_key(passphrase, admin.me.get("kdf"))
            secret = e2e.login_secret(passphrase, admin.me.get("kdf"))
            admin.me = _put_key(api, made, secret, None)
            recovery_key = made.recovery_key
            admin.private = e2e.unwrap_staff_key(admin.me["wrapped_private_key"], passphrase)
        code = unit or admin.me["unit"]
        plan = api.get(f"/api/v1/admin/units/{code}/directory")
        key = plan["directory_key"]
        if key["public_key"] and key["wrapped_private_key"]:
            signing = e2e.open_directory_key(key["wrapped_private_key"], admin.private)
            public = key["public_key"]
        elif key["public_key"]:
            raise ClientError(
                "kunci direktori unit dibuat oleh admin lain / "
                "the unit directory key was made by another admin"
            )
        else:
            signing, public = e2e.new_directory_key()
        wrapped = e2e.wrap_directory_key(signing, admin.private)
        staff = {s["key_id"]: s for s in plan["staff"]}

        def entries(kids: list[str]) -> list[dict[str, str]]:
            return [
                {
                    "key_id": kid,
                    "public_key": staff[kid]["public_key"],
                    "fingerprint": staff[kid]["fingerprint"],
                    "name": staff[kid]["display_name"],
                }
                for kid in kids
            ]

        document: dict[str, Any] = {
            "v": 1,
            "unit": plan["unit"],
            "version": plan["next_version"],
            "issued_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "channels": {c: entries(k) for c, k in sorted(plan["recipients"].items())},
        }
        if plan.get("custodians"):  # identity custodians: reports to the unit become v2
            document["custodians"] = entries(plan["custodians"])
        text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        signature = e2e.sign_directory(signing, text.encode())
        out = api.put(
            f"/api/v1/admin/units/{code}/directory",
            json={
                "public_key": public,
                "wrapped_private_key": wrapped,
                "document": text,
                "signature": b64u_encode(signature),
            },
        )
        return {
            "unit": plan["unit"],
            "version": out["version"],
            "unit_key_fingerprint": e2e.directory_fingerprint(public),
            "approved": out["approved"],
            "recipients": {c: len(k) for c, k in plan["recipients"].items()},
            "custodians": len(plan.get("custodians", [])),
            "recovery_key": recovery_key,  # set when this run made the admin's key
        }


def _parse_fields(fields: list[str]) -> dict[str, str]:
    parsed = {}
    for item in fields:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ClientError(f"--field needs NAME=VALUE, got {item!r}")
        parsed[name] = value
    return parsed


@dataclass
class Sealed:
    """A report sealed on this device, ready to post (add the proof-of-work)."""

    receipt: str
    envelope: dict[str, Any]
    submission: dict[str, Any]
    files: list[tuple[str, tuple[str, bytes, str]]]


def _recipient(recipients: list[dict[str, Any]], wanted: str) -> dict[str, Any]:
    """The one recipient a --exclude value names (key id, its prefix, or display name)."""
    text = wanted.strip().lower()
    found = [
        r
        for r in recipients
        if (len(text) >= 8 and r["key_id"].startswith(text))
        or " ".join(str(r.get("name", "")).split()).lower() == " ".join(text.split())
    ]
    if len(found) != 1:
        raise ClientError(f"not exactly one recipient of this channel: {wanted}")
    return found[0]


def seal_submission(
    directory: dict[str, Any],
    channel: str,
    content: dict[str, str],
    *,
    attach: list[Path] | None = None,
    exclude: list[str] | None = None,
    identity: dict[str, str] | None = None,
) -> Sealed:
    """Encrypt a report to a verified directory's recipients (minus the excluded officers,
    each named by key id, a key id prefix of at least 8 hex digits, or display name). An
    identity goes to the directory's custodians only (envelope v2) when it lists any."""
    recipients = directory["channels"].get(channel, [])
    excluded = sorted({_recipient(recipients, e)["key_id"] for e in exclude or []})
    chosen = [r["public_key"] for r in recipients if r["key_id"] not in excluded]
    if not chosen:
        raise ClientError("no officer left to receive the report")
    receipt = e2e.new_receipt()
    reporter = e2e.reporter_keys(receipt)
    report_id = str(uuid.uuid4())
    envelope, data_key = e2e.seal_report(
        unit=directory["unit"],
        channel=channel,
        report_id=report_id,
        content=content,
        recipients=chosen,
        reporter_public=reporter.public,
        identity=identity or None,
        custodians=[c["public_key"] for c in directory.get("custodians", [])],
    )
    ctx = e2e.Context(directory["unit"], channel, report_id)
    declared, files = [], []
    for path in attach or []:
        attachment_id = str(uuid.uuid4())
        stream = e2e.encrypt_attachment(data_key, ctx, attachment_id, path.read_bytes())
        meta = e2e.seal_attachment_metadata(
            data_key,
            ctx,
            attachment_id,
            path.name,
            mimetypes.guess_type(path.name)[0] or "application/octet-stream",
        )
        declared.append({"id": attachment_id, "metadata": b64u_encode(meta), "size": len(stream)})
        files.append(("attachment", (attachment_id, stream, "application/octet-stream")))
    submission = {
        "envelope": envelope,
        "lookup": b64u_encode(reporter.lookup),
        "excluded": excluded,
        "attachments": declared,
        "directory_version": directory["version"],
    }
    return Sealed(receipt, envelope, submission, files)


def solve_pow(challenge: dict[str, Any], subject: str) -> dict[str, str]:
    """Solve a challenge for its subject: the report id, or the lookup id of a mailbox login."""
    return {
        "challenge": challenge["challenge"],
        "nonce": solve(challenge["challenge"], subject, int(challenge["difficulty"])),
    }


def _served_key(signed: Any) -> str:
    key = signed.get("public_key") if isinstance(signed, dict) else None
    if not isinstance(key, str):
        raise ClientError("direktori unit tidak sah / the unit directory is not valid")
    return key


def _pinned_mismatch(unit: str, served: str, given: str) -> ClientError:
    return ClientError(
        f"Kunci unit {unit} yang dikirim server (sidik jari {served}) TIDAK sama dengan "
        f"sidik jari yang Anda berikan ({given}). Laporan TIDAK dikirim. Periksa lagi sidik "
        "jari pada poster unit; bila yang Anda ketik benar, jangan melapor lewat server ini. / "
        f"The unit key the server sent for {unit} (fingerprint {served}) does NOT match the "
        f"fingerprint you gave ({given}). The report was NOT sent. Check the fingerprint on "
        "the unit's poster again; if what you typed is right, do not report through this "
        "server.",
        code="unit_key_mismatch",
    )


@dataclass(frozen=True)
class Trusted:
    """A directory verified against the pinned or remembered unit key."""

    directory: dict[str, Any]
    fingerprint: str
    trust: str  # "pinned" (--fingerprint), "known" (seen before), "first-use"


def trusted_directory(
    api: Api, url: str, unit: str, *, fingerprint: str | None, known: KnownUnits
) -> Trusted:
    """Fetch the unit's directory and accept it only under the unit key the reporter trusts:
    the one whose fingerprint was given (`--fingerprint`, from the poster), else the one
    stored on first use; never a lower version than one already seen. Records the key and
    version before anything is sent."""
    code = unit.upper()
    signed = api.get(f"/api/v1/units/{code}/directory")
    served = _served_key(signed)
    served_fp = e2e.directory_fingerprint(served)  # computed here, not the server's string
    record = known.get(url, code)
    if fingerprint is not None:
        if not e2e.same_fingerprint(fingerprint, served):
            raise _pinned_mismatch(code, served_fp, fingerprint.strip())
        trust = "pinned"
    elif record is None:
        trust = "first-use"
    elif record.public_key != served:
        raise KeyChanged(record, served_fp, known.path)
    else:
        trust = "known"
    same_key = record is not None and record.public_key == served
    floor = record.version if record is not None and same_key else None
    signed_version = signed.get("version") if isinstance(signed, dict) else None
    if floor is not None and isinstance(signed_version, int) and signed_version < floor:
        raise Rollback(code, signed_version, floor)
    directory = e2e.verify_directory(signed, code, public_key=served)
    if floor is not None and directory["version"] < floor:
        raise Rollback(code, directory["version"], floor)
    known.remember(url, code, served, served_fp, directory["version"], repin=trust == "pinned")
    return Trusted(directory, served_fp, trust)


FIRST_USE_NOTE = (
    "Catatan: kunci unit {unit} disimpan saat pertama dipakai (sidik jari {fp}). Cocokkan "
    "dengan sidik jari pada poster unit; lain kali, perubahan kunci akan ditolak. / "
    "Note: unit {unit}'s key was stored on first use (fingerprint {fp}). Compare it with the "
    "fingerprint on the unit's poster; a later change of key will be refused."
)


def unit_info(url: str, unit: str, known: KnownUnits) -> dict[str, Any]:
    """The unit's current directory, verified under the key the server serves, and that
    key's fingerprint computed here: compare it with the unit's poster. Stores nothing."""
    code = unit.upper()
    with Api(url) as api:
        signed = api.get(f"/api/v1/units/{code}/directory")
        served = _served_key(signed)
        directory = e2e.verify_directory(signed, code, public_key=served)
    fingerprint = e2e.directory_fingerprint(served)
    record = known.get(url, code)
    return {
        "unit": directory["unit"],
        "fingerprint": fingerprint,
        "public_key": served,
        "version": directory["version"],
        "issued_at": directory["issued_at"],
        "channels": {
            name: [{"name": r["name"], "fingerprint": r["fingerprint"]} for r in recipients]
            for name, recipients in sorted(directory["channels"].items())
        },
        "known_fingerprint": record.fingerprint if record else None,
        "known_version": record.version if record else None,
        "matches_known": (record.public_key == served) if record else None,
        "state_file": str(known.path),
    }


def submit(
    url: str,
    unit: str,
    channel: str,
    text: str,
    *,
    fields: list[str] | None = None,
    attach: list[Path] | None = None,
    exclude: list[str] | None = None,
    fingerprint: str | None = None,
    known: KnownUnits | None = None,
    notes: list[str] | None = None,
    identity: list[str] | None = None,
) -> dict[str, Any]:
    """Encrypt and send a report to the recipients of the unit's directory, once that
    directory is verified under the trusted unit key (see `trusted_directory`). `known`
    defaults to the user's state file; `notes` collects warnings for standard error."""
    known = known if known is not None else KnownUnits.default()
    with Api(url) as api:
        trusted = trusted_directory(api, url, unit, fingerprint=fingerprint, known=known)
        directory = trusted.directory
        if trusted.trust == "first-use" and notes is not None:
            notes.append(FIRST_USE_NOTE.format(unit=directory["unit"], fp=trusted.fingerprint))
        content = {"text": text, **_parse_fields(fields or [])}
        sealed = seal_submission(
            directory,
            channel,
            content,
            attach=attach,
            exclude=exclude,
            identity=_parse_fields(identity or []),
        )
        submission = dict(sealed.submission)
        submission["pow"] = solve_pow(api.get("/api/v1/pow"), sealed.envelope["report_id"])
        if sealed.files:
            out = api.post(
                "/api/v1/reports", data={"submission": json.dumps(submission)}, files=sealed.files
            )
        else:
            out = api.post("/api/v1/reports", json=submission)
        facts = e2e.verify_proof(out["proof"], sealed.envelope)
        if facts.audit_public_key is not None:  # v2: pin the unit's audit tree-head key
            known.pin_audit_key(url, out["unit"], facts.audit_public_key)
        return {
            "case_number": out["case_number"],
            "receipt": sealed.receipt,
            "proof": out["proof"],
            "report_id": out["report_id"],
            "unit": out["unit"],
            "channel": out["channel"],
            "submitted_at": out["submitted_at"],
            "server_sealed": out["server_sealed"],
            "excluded": submission["excluded"],
            "envelope_version": sealed.envelope["v"],
            "directory_version": directory["version"],
            "unit_key_fingerprint": trusted.fingerprint,
            "unit_key_trust": trusted.trust,
        }


def _thread(
    api: Api, data_key: e2e.DataKey, ctx: e2e.Context, view: dict[str, Any], attachment_path: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Decrypt messages and attachments of a mailbox or case view."""
    attachments = []
    names: dict[str, dict[str, Any]] = {}
    for a in view["attachments"]:
        name, content_type = e2e.open_attachment_metadata(
            data_key, ctx, a["id"], b64u_decode(a["metadata"])
        )
        blob = api.get(attachment_path.format(id=a["id"]))
        plain = e2e.decrypt_attachment(data_key, ctx, a["id"], blob)
        item = {
            "id": a["id"],
            "name": name,
            "content_type": content_type,
            "size": len(plain),
            "text": plain.decode("utf-8", "replace") if content_type.startswith("text/") else None,
            "message_id": a["message_id"],
        }
        names[a["id"]] = item
        attachments.append(item)
    messages = [
        {
            "id": m["id"],
            "from": m["sender_role"],
            "text": e2e.open_message(
                data_key, ctx, m["sender_role"], m["id"], b64u_decode(m["box"])
            ),
            "at": m["at"],
            "attachments": [names[i]["name"] for i in m["attachments"] if i in names],
        }
        for m in view["messages"]
    ]
    return messages, attachments


def _mailbox(api: Api, receipt: str) -> tuple[dict[str, Any], e2e.DataKey, e2e.Context]:
    reporter = e2e.reporter_keys(receipt)
    lookup = b64u_encode(reporter.lookup)
    work = solve_pow(api.get("/api/v1/pow"), lookup)  # every login pays work for its lookup id
    login = api.post("/api/v1/mailbox/login", json={"lookup": lookup, "pow": work})
    api.bearer = login["token"]
    view = api.get("/api/v1/mailbox")
    envelope = view["envelope"]
    data_key = e2e.reporter_data_key(envelope, reporter)
    return view, data_key, e2e.Context(envelope["unit"], envelope["channel"], envelope["report_id"])


def follow(
    url: str, receipt: str, *, verify: bool = False, known: KnownUnits | None = None
) -> dict[str, Any]:
    """The mailbox, decrypted here. With `verify`, the submission's audit inclusion under a
    tree head signed by the audit key pinned for the unit (stored at submission, else from
    the signed v2 proof); `known` defaults to the user's state file."""
    known = known if known is not None else KnownUnits.default()
    with Api(url) as api:
        view, data_key, ctx = _mailbox(api, receipt)
        content = e2e.open_content(data_key, ctx, view["envelope"])
        messages, attachments = _thread(
            api, data_key, ctx, view, "/api/v1/mailbox/attachments/{id}"
        )
        facts = e2e.verify_proof(view["proof"], None)
        checked = {}
        if verify:
            audit_key = facts.audit_public_key
            if audit_key is not None:
                audit_key = known.pin_audit_key(url, view["unit"], audit_key)
            checked["audit"] = e2e.check_audit_inclusion(
                api.get("/api/v1/mailbox/audit-proof"),
                case_number=view["case_number"],
                unit=view["unit"],
                audit_leaf=facts.audit_leaf or view["proof"].get("audit_leaf"),
                audit_key=audit_key,
            )
        return checked | {
            "case_number": view["case_number"],
            "unit": view["unit"],
            "channel": view["channel"],
            "status": view["status"],
            "status_label": view["status_label"],
            "submitted_at": view["submitted_at"],
            "report": content,
            "messages": messages,
            "attachments": attachments,
            # what the service told the reporter (e.g. the identity was opened), both languages
            "notices": view.get("notices", []),
        }


def witness(
    url: str,
    email: str,
    passphrase: str,
    unit: str,
    *,
    code: str | None = None,
    known: KnownUnits | None = None,
) -> dict[str, Any]:
    """As an outside witness (an auditor's account): the unit's newest signed audit tree
    head must extend the one this state file witnessed last (same key, consistency proof);
    then it is recorded. The first run records it on trust (compare the key out of band)."""
    known = known if known is not None else KnownUnits.default()
    code_ = unit.upper()
    with Api(url) as api:
        sign_in(api, email, passphrase, code)
        head = api.get(f"/api/v1/audit/{code_}/head").get("tree_head")
        if not isinstance(head, dict):
            raise ClientError(
                "unit ini belum punya kepala pohon bertanda tangan; coba lagi nanti / this "
                "unit has no signed tree head yet; try again later",
                code="no_tree_head",
            )
        before = known.witnessed(url, code_)

        def consistency(first: int, second: int) -> dict[str, Any]:
            params = {"first": first, "second": second}
            doc: dict[str, Any] = api.get(f"/api/v1/audit/{code_}/consistency", params=params)
            return doc

        checked = e2e.check_witnessed(
            code_,
            head,
            None if before is None else (before.public_key, before.tree_size, before.root_hash),
            consistency,
        )
        recorded = known.record_head(url, code_, head, after=before)
    return checked | {"witnessed_since": recorded.first_seen, "state_file": str(known.path)}


def reply(url: str, receipt: str, text: str) -> dict[str, Any]:
    with Api(url) as api:
        view, data_key, ctx = _mailbox(api, receipt)
        message_id = str(uuid.uuid4())
        box = e2e.seal_message(data_key, ctx, "reporter", message_id, text)
        out = api.post("/api/v1/mailbox/messages", json={"id": message_id, "box": b64u_encode(box)})
        return {"case_number": view["case_number"], "id": out["id"], "at": out["at"]}


def _open_case(o: Officer, report_id: str) -> tuple[dict[str, Any], e2e.DataKey, e2e.Context]:
    assert o.private is not None  # noqa: S101 - officer() ensured it
    case = o.api.get(f"/api/v1/cases/{report_id}")
    envelope = case["envelope"]
    data_key = e2e.staff_data_key(envelope, o.private)
    return case, data_key, e2e.Context(envelope["unit"], envelope["channel"], envelope["report_id"])


def _every_case(api: Api) -> list[dict[str, Any]]:
    """Every page of the inbox (a page shorter than the first, or empty, is the last)."""
    found: list[dict[str, Any]] = []
    size = None
    for page in range(1, 100_001):
        rows: list[dict[str, Any]] = api.get("/api/v1/cases", params={"page": page})
        found += rows
        size = size or len(rows)
        if not rows or len(rows) < size:
            break
    return found


def inbox(
    url: str, email: str, passphrase: str, *, code: str | None = None
) -> list[dict[str, Any]]:
    with Api(url) as api:
        o = officer(api, email, passphrase, code=code)
        result = []
        for summary in _every_case(api):
            case, data_key, ctx = _open_case(o, summary["report_id"])
            content = e2e.open_content(data_key, ctx, case["envelope"])
            messages, attachments = _thread(
                api, data_key, ctx, case, f"/api/v1/cases/{case['report_id']}/attachments/{{id}}"
            )
            result.append(
                {
                    "case_number": case["case_number"],
                    "report_id": case["report_id"],
                    "unit": case["unit"],
                    "channel": case["channel"],
                    "status": case["status"],
                    "submitted_at": case["submitted_at"],
                    "server_sealed": case["server_sealed"],
                    "report": content,
                    "messages": messages,
                    "attachments": attachments,
                }
            )
        return result


def _find_case(api: Api, case_number: str) -> str:
    for summary in _every_case(api):
        if summary["case_number"] == case_number or summary["report_id"] == case_number:
            return str(summary["report_id"])
    raise ClientError(f"kasus tidak ditemukan / case not found: {case_number}", 404, "not_found")


def answer(
    url: str, email: str, passphrase: str, case_number: str, text: str, *, code: str | None = None
) -> dict[str, Any]:
    with Api(url) as api:
        o = officer(api, email, passphrase, code=code)
        report_id = _find_case(api, case_number)
        case, data_key, ctx = _open_case(o, report_id)
        message_id = str(uuid.uuid4())
        box = e2e.seal_message(data_key, ctx, "officer", message_id, text)
        out = api.post(
            f"/api/v1/cases/{report_id}/messages", json={"id": message_id, "box": b64u_encode(box)}
        )
        return {"case_number": case["case_number"], "id": out["id"], "at": out["at"]}


def _fact_pairs(facts: list[str]) -> dict[str, str | bool]:
    """`--fact name=value` options; `true`/`false` become booleans."""
    parsed: dict[str, str | bool] = {}
    for item in facts:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ClientError(
                f"fakta harus NAMA=NILAI / a fact is NAME=VALUE: {item[:60]}", 2, "usage"
            )
        value = value.strip()
        parsed[name.strip()] = {"true": True, "false": False}.get(value, value)
    return parsed


def _case_view(case: dict[str, Any]) -> dict[str, Any]:
    flow = case.get("workflow") or {}
    return {
        "case_number": case["case_number"],
        "report_id": case["report_id"],
        "unit": case["unit"],
        "channel": case["channel"],
        "status": case["status"],
        "state": flow.get("state"),
        "state_label": flow.get("state_label"),
        "assignee": flow.get("assignee"),
        "deadlines": flow.get("deadlines", []),
        "actions": flow.get("actions", []),
        "facts": flow.get("facts", {}),
    }


def case(
    url: str, email: str, passphrase: str, case_number: str, *, code: str | None = None
) -> dict[str, Any]:
    """Where a case is: state, assignee, deadlines and the actions this officer may take."""
    with Api(url) as api:
        officer(api, email, passphrase, need_key=False, code=code)
        report_id = _find_case(api, case_number)
        return _case_view(api.get(f"/api/v1/cases/{report_id}"))


def act(
    url: str,
    email: str,
    passphrase: str,
    case_number: str,
    action: str,
    *,
    facts: list[str] | None = None,
    message: str | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    """Take a workflow action on a case (with a message to the reporter, encrypted here)."""
    with Api(url) as api:
        o = officer(api, email, passphrase, need_key=message is not None, code=code)
        report_id = _find_case(api, case_number)
        flow = api.get(f"/api/v1/cases/{report_id}/workflow")
        body: dict[str, Any] = {
            "action": action,
            "expected_state": flow["state"],
            "facts": _fact_pairs(facts or []),
        }
        if message is not None:
            _case, data_key, ctx = _open_case(o, report_id)
            message_id = str(uuid.uuid4())
            box = e2e.seal_message(data_key, ctx, "officer", message_id, message)
            body["message"] = {"id": message_id, "box": b64u_encode(box)}
        moved = api.post(f"/api/v1/cases/{report_id}/actions", json=body)
        return {
            "case_number": case_number,
            "action": action,
            "from": flow["state"],
            "state": moved["state"],
            "state_label": moved["state_label"],
            "deadlines": moved["deadlines"],
        }


NOT_GRATIFIKASI = (
    "Ekspor formulir KPK hanya untuk kasus gratifikasi; kasus {number} adalah {channel}. / "
    "The KPK form export is for gratifikasi cases only; case {number} is {channel}."
)


def identity_fields_if_released(o: Officer, report_id: str) -> dict[str, str] | None:
    """The reporter's identity fields when the custodian has released them to this officer
    (opened here with the officer's key), else None (not released: the server answers 404)."""
    assert o.private is not None  # noqa: S101 - officer() ensured it
    try:
        released = o.api.get(f"/api/v1/cases/{report_id}/identity")
    except ClientError as refused:
        if refused.status == 404:
            return None
        raise
    return e2e.open_released_identity(released["envelope"], released["wrap"], o.private)


def _label(value: Any) -> kpk.Label | None:
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return kpk.Label(value["id"], str(value.get("en", value["id"])))
    return None


def _facts(flow: dict[str, Any]) -> list[kpk.CaseFact]:
    out = []
    for item in flow.get("facts_shown") or []:
        label, shown = _label(item.get("label")), _label(item.get("shown"))
        if isinstance(item.get("name"), str) and label and shown:
            out.append(kpk.CaseFact(item["name"], label, shown))
    return out


def gratifikasi_case(o: Officer, case_number: str, exported_at: datetime) -> kpk.GratifikasiCase:
    """Fetch a gratifikasi case and decrypt it here, as the KPK form export needs it."""
    report_id = _find_case(o.api, case_number)
    case, data_key, ctx = _open_case(o, report_id)
    if case["channel"] != "gratifikasi":
        raise ClientError(
            NOT_GRATIFIKASI.format(number=case["case_number"], channel=case["channel"]),
            code="not_gratifikasi",
        )
    content = e2e.open_content(data_key, ctx, case["envelope"])
    names = [
        e2e.open_attachment_metadata(data_key, ctx, a["id"], b64u_decode(a["metadata"]))[0]
        for a in case["attachments"]
    ]
    flow = case.get("workflow") or {}
    return kpk.GratifikasiCase(
        case_number=case["case_number"],
        unit=case["unit"],
        content=content,
        identity=identity_fields_if_released(o, report_id),
        exported_at=exported_at,
        state=_label(flow.get("state_label")),
        facts=_facts(flow),
        rule_version=_label((flow.get("rule_version") or {}).get("label")),
        attachments=names,
        submitted_at=str(case.get("submitted_at", "")),
    )


def export_gratifikasi(
    url: str,
    email: str,
    passphrase: str,
    case_number: str,
    *,
    fmt: str,
    out: Path,
    code: str | None = None,
) -> dict[str, Any]:
    """Fill KPK's gratification form from a case, here, and write it to `out` (0600, all or
    nothing). Prints only what was written: never the content."""
    with Api(url) as api:
        o = officer(api, email, passphrase, code=code)
        data = gratifikasi_case(o, case_number, datetime.now().astimezone())
    made = kpk.to_xlsx(data) if fmt == "xlsx" else kpk.to_pdf(data)
    write_private(out, made)
    return {
        "case_number": data.case_number,
        "format": fmt,
        "out": str(out),
        "bytes": len(made),
        "identity_released": data.identity is not None,
        "exported_at": kpk.export_time(data.exported_at),
    }


# --------------------------------------------------------------------------- identity release


def identity_request(
    url: str,
    email: str,
    passphrase: str,
    case_number: str,
    reason: str,
    note: str | None,
    *,
    code: str | None = None,
) -> dict[str, Any]:
    """Ask the unit's custodian for the reporter's identity of a case this officer reads."""
    with Api(url) as api:
        officer(api, email, passphrase, need_key=False, code=code)
        report_id = _find_case(api, case_number)
        out: dict[str, Any] = api.post(
            f"/api/v1/cases/{report_id}/identity-requests", json={"reason": reason, "note": note}
        )
        return out


def identity_pending(
    url: str, email: str, passphrase: str, *, code: str | None = None
) -> list[dict[str, Any]]:
    """The open identity requests of the custodian's unit (no ciphertext printed)."""
    with Api(url) as api:
        officer(api, email, passphrase, need_key=False, code=code)
        return [{k: r[k] for k in PENDING_FIELDS} for r in api.get("/api/v1/identity/requests")]


PENDING_FIELDS = (
    "id",
    "case_number",
    "unit",
    "channel",
    "requester",
    "reason",
    "reason_label",
    "note",
    "created_at",
    "envelope_version",
    "requester_key_id",
)


def _requester_listed(api: Api, url: str, request: dict[str, Any]) -> None:
    """The requester's key must be a recipient of the unit's directory, verified under the
    unit key this client trusts (so a server cannot slip in a key of its own)."""
    trusted = trusted_directory(
        api, url, request["unit"], fingerprint=None, known=KnownUnits.default()
    )
    keys = {r["public_key"] for rs in trusted.directory["channels"].values() for r in rs}
    if request["requester_public_key"] not in keys:
        raise ClientError(
            "kunci peminta tidak tercantum dalam direktori unit; jangan setujui / "
            "the requester's key is not in the unit's directory; do not approve",
            code="requester_not_listed",
        )


def identity_decide(
    url: str,
    email: str,
    passphrase: str,
    request_id: str,
    *,
    deny_note: str | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    """Approve (v2: re-wrap the identity key here, to the requester's key only) or, with
    `deny_note`, deny an identity request."""
    with Api(url) as api:
        o = officer(api, email, passphrase, need_key=deny_note is None, code=code)
        if deny_note is not None:
            out: dict[str, Any] = api.post(
                f"/api/v1/identity/requests/{request_id}/deny", json={"note": deny_note}
            )
            return out
        found = [r for r in api.get("/api/v1/identity/requests") if r["id"] == request_id]
        if not found:
            raise ClientError(
                f"permintaan tidak ditemukan / request not found: {request_id}", 404, "not_found"
            )
        request = found[0]
        wrap = None
        if request["envelope_version"] == 2:
            assert o.private is not None  # noqa: S101 - need_key
            if not request["requester_public_key"]:
                raise ClientError(
                    "kunci peminta tidak lagi disetujui / the requester's key is not approved"
                )
            if not request["identity_wrap"]:
                raise ClientError(
                    "kunci Anda tidak menerima kunci identitas laporan ini / "
                    "your key did not receive this report's identity key"
                )
            _requester_listed(api, url, request)
            ctx = e2e.Context(request["unit"], request["channel"], request["report_id"])
            wrap = e2e.release_identity(ctx, request, o.private, request["requester_public_key"])
        out = api.post(f"/api/v1/identity/requests/{request_id}/approve", json={"wrap": wrap})
        return out


def identity_open(
    url: str, email: str, passphrase: str, case_number: str, *, code: str | None = None
) -> dict[str, Any]:
    """The reporter's identity, released to this officer, opened here with their key."""
    with Api(url) as api:
        o = officer(api, email, passphrase, code=code)
        assert o.private is not None  # noqa: S101 - officer() ensured it
        report_id = _find_case(api, case_number)
        released = api.get(f"/api/v1/cases/{report_id}/identity")
        identity = e2e.open_released_identity(released["envelope"], released["wrap"], o.private)
        return {
            "case_number": released["case_number"],
            "request_id": released["request_id"],
            "identity": identity,
        }
