// Signed key directories and proofs of submission (Ed25519 via WebCrypto).
//
// A directory is `document` (exact JSON text) signed with the unit's Ed25519 key; clients
// use only the recipients of the verified document. A proof of submission is the server's
// Ed25519 signature over the case number, unit, time and SHA-256 of the canonical envelope
// JSON, which a reporter can keep and check offline.

import {
  b32Encode,
  b64uDecode,
  b64uEncode,
  bytesEqual,
  concat,
  toBytes,
  toHex,
  utf8,
} from "./encoding.js";
import { DecryptError, openBase, sealBase } from "./hpke.js";
import {
  decodePublicKey,
  fingerprint as fingerprintOf,
  FormatError,
  keyIdHex,
  SUITE_X25519_AES256GCM,
} from "./format.js";

const subtle = globalThis.crypto.subtle;

/** A signature (directory or proof) that does not verify, or a document that lies. */
export class SignatureError extends Error {
  constructor(message = "signature not valid") {
    super(message);
    this.name = "SignatureError";
  }
}

function decodeOrFail(text, what, length = undefined) {
  let bytes;
  try {
    bytes = b64uDecode(text);
  } catch {
    throw new SignatureError(`${what} is not base64url`);
  }
  if (length !== undefined && bytes.length !== length) throw new SignatureError(`bad ${what}`);
  return bytes;
}

export const DIRECTORY_KEY_INFO = "wbs/v1/directory-key";
const PKCS8_ED25519_PREFIX = new Uint8Array([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

/**
 * Fingerprint of an Ed25519 key (unit directory key, server proof key) for posters: the first
 * 20 bytes of SHA-256("wbs/v1/signing-key" || raw), base32 lower-case, 8 groups of 4.
 * `publicKey` is b64u text or raw bytes.
 */
export async function signingKeyFingerprint(publicKey) {
  const raw = typeof publicKey === "string" ? b64uDecodeOr(publicKey) : toBytes(publicKey);
  if (raw.length !== 32) throw new FormatError("Ed25519 public key must be 32 bytes");
  const labelled = concat(utf8("wbs/v1/signing-key"), raw);
  const digest = new Uint8Array(await subtle.digest("SHA-256", labelled));
  return b32Encode(digest.subarray(0, 20)).toLowerCase().match(/.{4}/g).join(" ");
}

function b64uDecodeOr(text) {
  try {
    return b64uDecode(text);
  } catch {
    throw new FormatError("Ed25519 public key is not base64url");
  }
}

/** Ed25519 verification of `message` (bytes) with a raw 32-byte public key. */
export async function verifyEd25519(publicKeyRaw, message, signature) {
  const key = await subtle.importKey("raw", publicKeyRaw, { name: "Ed25519" }, false, ["verify"]);
  return subtle.verify({ name: "Ed25519" }, key, signature, message);
}

/**
 * Verify a signed directory as served by GET /api/v1/units/{code}/directory.
 * Options: `unit` (expected unit code), `publicKey` (pinned unit key, b64u), `fingerprint`
 * (the unit key's fingerprint from the poster, spaces and case ignored) and `minVersion`
 * (refuse a rollback). Returns {unit, version, publicKey, channels, custodians} where
 * channels maps each channel to [{keyId, publicKey, name, fingerprint}] and custodians is a
 * list of the same entries, taken only from the verified document. Throws SignatureError
 * when anything does not hold.
 */
export async function verifyDirectory(signed, { unit, publicKey, fingerprint, minVersion } = {}) {
  if (!signed || typeof signed.document !== "string") throw new SignatureError("no document");
  const unitKey = decodeOrFail(signed.public_key, "unit key", 32);
  if (publicKey !== undefined && !bytesEqual(unitKey, decodeOrFail(publicKey, "pinned key", 32))) {
    throw new SignatureError("unit key differs from the pinned key");
  }
  if (fingerprint !== undefined) {
    const squash = (text) => String(text).replace(/\s+/g, "").toLowerCase();
    if (squash(await signingKeyFingerprint(unitKey)) !== squash(fingerprint)) {
      throw new SignatureError("unit key differs from the poster's fingerprint");
    }
  }
  const signature = decodeOrFail(signed.signature, "signature", 64);
  let ok;
  try {
    ok = await verifyEd25519(unitKey, utf8(signed.document), signature);
  } catch {
    ok = false;
  }
  if (!ok) throw new SignatureError();
  let doc;
  try {
    doc = JSON.parse(signed.document);
  } catch {
    throw new SignatureError("document is not JSON");
  }
  if (!doc || doc.v !== 1 || typeof doc.unit !== "string" || !Number.isSafeInteger(doc.version)) {
    throw new SignatureError("document lacks v, unit or version");
  }
  if (unit !== undefined && doc.unit !== unit) {
    throw new SignatureError("directory of another unit");
  }
  if (minVersion !== undefined && doc.version < minVersion) {
    throw new SignatureError("directory older than one already seen");
  }
  const channels = {};
  for (const [name, entries] of Object.entries(doc.channels ?? {})) {
    channels[name] = await verifiedEntries(entries);
  }
  // The unit's identity custodians (envelope v2 identityRecipients); none when absent.
  const custodians = await verifiedEntries(doc.custodians ?? []);
  return {
    unit: doc.unit,
    version: doc.version,
    issuedAt: typeof doc.issued_at === "string" ? doc.issued_at : null,
    publicKey: signed.public_key,
    channels,
    custodians,
  };
}

/** Entries of a channel or of the custodian list, each checked against its own key. */
async function verifiedEntries(entries) {
  if (!Array.isArray(entries)) throw new SignatureError("bad channel list");
  const out = [];
  for (const entry of entries) {
    let pk;
    try {
      pk = decodePublicKey(entry.public_key);
    } catch {
      throw new SignatureError("bad recipient key");
    }
    const kid = await keyIdHex(pk);
    if (entry.key_id !== kid) throw new SignatureError("key id does not match its key");
    const fp = await fingerprintOf(pk.text);
    if (![undefined, null, "", fp].includes(entry.fingerprint)) {
      throw new SignatureError("fingerprint does not match its key");
    }
    out.push(
      Object.freeze({
        keyId: kid,
        publicKey: pk.text,
        name: typeof entry.name === "string" ? entry.name : "",
        fingerprint: fp,
      }),
    );
  }
  return out;
}

/**
 * Admin device: sign a directory document (an object, docs/api.md section 6) with the unit's
 * Ed25519 private key (a CryptoKey with usage "sign"). Returns {document (the exact canonical
 * JSON text that was signed), signature (b64u)}.
 */
export async function signDirectory(document, privateKey) {
  if (!document || document.v !== 1) throw new FormatError("directory document must have v: 1");
  const text = canonicalJson(document);
  const signature = new Uint8Array(await subtle.sign({ name: "Ed25519" }, privateKey, utf8(text)));
  return { document: text, signature: b64uEncode(signature) };
}

/**
 * Canonical JSON: sorted keys, no spaces, UTF-8 (the same text as Python's
 * json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False) for the JSON values
 * an envelope holds: objects, arrays, strings, integers, booleans and null).
 */
export function canonicalJson(value) {
  if (value === null || typeof value === "boolean" || typeof value === "string") {
    return JSON.stringify(value);
  }
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new FormatError("canonical JSON holds integers only");
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object") {
    const keys = Object.keys(value).sort((a, b) => {
      const ca = [...a].map((c) => c.codePointAt(0));
      const cb = [...b].map((c) => c.codePointAt(0));
      for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
        if (ca[i] !== cb[i]) return ca[i] - cb[i];
      }
      return ca.length - cb.length;
    });
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(",")}}`;
  }
  throw new FormatError("value cannot be canonical JSON");
}

/** Hex SHA-256 of the canonical envelope JSON (what a proof of submission signs). */
export async function envelopeSha256(envelope) {
  return toHex(new Uint8Array(await subtle.digest("SHA-256", utf8(canonicalJson(envelope)))));
}

/** The bytes a proof signature covers (v2 also signs audit_leaf and audit_public_key). */
export function proofMessage({ v, case_number, unit, submitted_at, envelope_sha256, audit_leaf, audit_public_key }) {
  const values = [case_number, unit, submitted_at, envelope_sha256];
  if (v === 2) values.push(audit_leaf, audit_public_key);
  for (const value of values) {
    if (typeof value !== "string" || value.includes("\n")) throw new SignatureError("bad proof field");
  }
  return utf8(`wbs/v${v === 2 ? 2 : 1}/proof\n${values.join("\n")}`);
}

/**
 * Verify a proof of submission. Options: `envelope` (the envelope the reporter sent; its
 * hash must match) and `publicKey` (the server proof key, b64u, pinned; defaults to the
 * proof's own key). Returns the proof's {caseNumber, unit, submittedAt} and, for v2,
 * the signed {auditLeaf, auditPublicKey}; throws SignatureError otherwise.
 */
export async function verifyProof(proof, { envelope, publicKey } = {}) {
  if (!proof || (proof.v !== 1 && proof.v !== 2)) throw new SignatureError("not a v1 or v2 proof");
  const key = decodeOrFail(publicKey ?? proof.public_key, "proof key", 32);
  if (publicKey !== undefined && proof.public_key !== publicKey) {
    throw new SignatureError("proof made with another key");
  }
  if (envelope !== undefined && (await envelopeSha256(envelope)) !== proof.envelope_sha256) {
    throw new SignatureError("proof is for another envelope");
  }
  const signature = decodeOrFail(proof.signature, "signature", 64);
  let ok;
  try {
    ok = await verifyEd25519(key, proofMessage(proof), signature);
  } catch {
    ok = false;
  }
  if (!ok) throw new SignatureError();
  const facts = { caseNumber: proof.case_number, unit: proof.unit, submittedAt: proof.submitted_at };
  if (proof.v === 2) return { ...facts, auditLeaf: proof.audit_leaf, auditPublicKey: proof.audit_public_key };
  return facts;
}

/**
 * Admin device: wrap the unit's Ed25519 directory key (32-byte seed) to an admin's device
 * key: the JSON text {"v":1,"kind":"directory-key","to":hex key id,"sealed":b64u}.
 */
export async function wrapDirectoryKey(seed, adminPublicKey) {
  const sk = toBytes(seed);
  if (sk.length !== 32) throw new FormatError("Ed25519 seed must be 32 bytes");
  const pk = decodePublicKey(adminPublicKey);
  if (pk.suite !== SUITE_X25519_AES256GCM) throw new FormatError("admin key must be suite 1");
  const sealed = await sealBase(pk.raw, utf8(DIRECTORY_KEY_INFO), sk);
  const to = await keyIdHex(pk);
  return JSON.stringify({ v: 1, kind: "directory-key", to, sealed: b64uEncode(sealed) });
}

/**
 * Admin device: open the directory-key wrap with the admin's key pair (from
 * unwrapPrivateKey). Returns {privateKey (non-extractable Ed25519 CryptoKey, "sign"),
 * publicKey (b64u)}; DecryptError when it is not this admin's wrap.
 */
export async function unwrapDirectoryKey(wrapped, keyPair) {
  let data;
  try {
    data = typeof wrapped === "string" ? JSON.parse(wrapped) : wrapped;
  } catch {
    throw new DecryptError();
  }
  if (!data || data.v !== 1 || data.kind !== "directory-key" || typeof data.sealed !== "string") {
    throw new DecryptError();
  }
  if (data.to !== undefined && data.to !== (await keyIdHex(keyPair.publicKey))) {
    throw new DecryptError();
  }
  let sealed;
  try {
    sealed = b64uDecode(data.sealed);
  } catch {
    throw new DecryptError();
  }
  const seed = await openBase(keyPair.privateKey, utf8(DIRECTORY_KEY_INFO), sealed, {
    publicKeyR: keyPair.publicKey.raw,
  });
  if (seed.length !== 32) throw new DecryptError();
  const pkcs8 = concat(PKCS8_ED25519_PREFIX, seed);
  const exportable = await subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, true, ["sign"]);
  const jwk = await subtle.exportKey("jwk", exportable);
  const privateKey = await subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, false, ["sign"]);
  seed.fill(0);
  pkcs8.fill(0);
  return { privateKey, publicKey: jwk.x };
}
