// wbs formats (docs/crypto-format.md): public keys, key ids, fingerprints, the
// associated-data context, symmetric boxes, data-key wraps, the report envelope (v1, and v2
// with a separate identity key wrapped only to custodians), messages and notes. Every
// failure to open is a DecryptError("cannot decrypt").

import {
  b32Encode,
  b64uDecode,
  b64uEncode,
  bytesEqual,
  concat,
  fromUtf8,
  i2osp,
  os2ip,
  toBytes,
  toHex,
  utf8,
} from "./encoding.js";
import {
  DecryptError,
  DEFAULT_SUITE,
  hkdf,
  importX25519PrivateKey,
  openBase,
  sealBase,
  x25519PublicKey,
} from "./hpke.js";

const subtle = globalThis.crypto.subtle;

export const FORMAT_VERSION = 0x01;
/** Envelope versions: 1 (identity under DK) and 2 (identity under IK, identity wraps). */
export const ENVELOPE_V1 = 1;
export const ENVELOPE_V2 = 2;
export const SUITE_X25519_AES256GCM = 0x0001;
export const SUITE_MLKEM768X25519_AES256GCM = 0x0002;
/** Suites this module can seal to and open (the browser has no ML-KEM yet). */
export const BROWSER_SUITES = Object.freeze([SUITE_X25519_AES256GCM]);

export const KIND = Object.freeze({
  content: 0x01,
  identity: 0x02,
  message: 0x03,
  note: 0x04,
  wrap: 0x05,
  attachmentMetadata: 0x06,
  attachmentStream: 0x07,
  identityWrap: 0x08,
});

export const LABEL = Object.freeze({
  content: "wbs/v1/content",
  identity: "wbs/v1/identity",
  wrap: "wbs/v1/wrap",
  message: "wbs/v1/message",
  note: "wbs/v1/note",
  attachment: "wbs/v1/attachment",
  identityV2: "wbs/v2/identity",
  identityWrap: "wbs/v2/identity-wrap",
  identityCommitment: "wbs/v2/identity-commitment",
});

export const SENDER_ROLES = Object.freeze(["reporter", "officer"]);

const NONCE = 12;
const TAG = 16;
const X25519_LEN = 32;

/** A key or format this module cannot handle (not a decryption failure). */
export class UnsupportedError extends Error {
  constructor(message) {
    super(message);
    this.name = "UnsupportedError";
  }
}

/** Input that does not follow the format (bad field, bad encoding). */
export class FormatError extends Error {
  constructor(message) {
    super(message);
    this.name = "FormatError";
  }
}

// ---------------------------------------------------------------- public keys

/**
 * A public key from its wire form (b64u of suite(2) || raw), or from {suite, raw}.
 * Returns a frozen {suite, raw, text}.
 */
export function decodePublicKey(key) {
  let suite;
  let raw;
  if (typeof key === "string") {
    let bytes;
    try {
      bytes = b64uDecode(key);
    } catch {
      throw new FormatError("public key is not base64url");
    }
    if (bytes.length < 3) throw new FormatError("public key too short");
    suite = os2ip(bytes.subarray(0, 2));
    raw = bytes.slice(2);
  } else if (key && typeof key === "object" && "raw" in key) {
    suite = key.suite ?? SUITE_X25519_AES256GCM;
    raw = toBytes(key.raw);
  } else {
    throw new FormatError("expected a public key");
  }
  if (suite === SUITE_X25519_AES256GCM) {
    if (raw.length !== X25519_LEN) throw new FormatError("X25519 public key must be 32 bytes");
  } else if (suite !== SUITE_MLKEM768X25519_AES256GCM) {
    throw new UnsupportedError(`unknown suite 0x${suite.toString(16).padStart(4, "0")}`);
  }
  const wire = concat(i2osp(suite, 2), raw);
  return Object.freeze({ suite, raw, text: b64uEncode(wire) });
}

/** Wire form (b64u of suite(2) || raw) of a raw public key. */
export function encodePublicKey(raw, suite = SUITE_X25519_AES256GCM) {
  return decodePublicKey({ suite, raw }).text;
}

async function sha256(...parts) {
  return new Uint8Array(await subtle.digest("SHA-256", concat(...parts)));
}

/** Key id: SHA-256("wbs/v1/key-id" || suite(2) || raw)[:16]. */
export async function keyId(publicKey) {
  const pk = decodePublicKey(publicKey);
  return (await sha256(utf8("wbs/v1/key-id"), i2osp(pk.suite, 2), pk.raw)).slice(0, 16);
}

/** Key id as lower-case hex (used in note contexts). */
export async function keyIdHex(publicKey) {
  return toHex(await keyId(publicKey));
}

/** Fingerprint for humans: 8 groups of 4 base32 characters, lower-case. */
export async function fingerprint(publicKey) {
  const pk = decodePublicKey(publicKey);
  const digest = await sha256(utf8("wbs/v1/fingerprint"), i2osp(pk.suite, 2), pk.raw);
  const text = b32Encode(digest.subarray(0, 20)).toLowerCase();
  return text.match(/.{4}/g).join(" ");
}

/**
 * A key pair usable for opening: {suite, publicKey (decoded), privateKey (CryptoKey)}.
 * `privateKey` is a raw 32-byte X25519 scalar or a CryptoKey; `publicKey` is optional for
 * raw scalars (computed).
 */
export async function keyPairFrom(privateKey, publicKey = undefined) {
  let pub;
  if (publicKey === undefined) {
    if (privateKey instanceof CryptoKey) {
      throw new TypeError("publicKey is needed with a CryptoKey");
    }
    pub = decodePublicKey({ raw: await x25519PublicKey(privateKey) });
  } else {
    pub = decodePublicKey(publicKey);
  }
  if (pub.suite !== SUITE_X25519_AES256GCM) {
    throw new UnsupportedError("browser opens suite 1 only");
  }
  const priv =
    privateKey instanceof CryptoKey ? privateKey : await importX25519PrivateKey(privateKey);
  return Object.freeze({ suite: pub.suite, publicKey: pub, privateKey: priv });
}

// ---------------------------------------------------------------- context and boxes

/** Context bytes: each field len(2) || UTF-8, in order (label, unit, channel, report_id, ...). */
export function encodeContext(...fields) {
  const parts = [];
  for (const field of fields) {
    if (typeof field !== "string") throw new FormatError("context fields are strings");
    const bytes = utf8(field);
    if (bytes.length > 0xffff) throw new FormatError("context field too long");
    parts.push(i2osp(bytes.length, 2), bytes);
  }
  return concat(...parts);
}

function reportFields(ctx) {
  const { unit, channel, reportId } = ctx ?? {};
  for (const [name, value] of [
    ["unit", unit],
    ["channel", channel],
    ["reportId", reportId],
  ]) {
    if (typeof value !== "string" || value === "") throw new FormatError(`${name} is required`);
  }
  return [unit, channel, reportId];
}

async function subkey(dataKey, label, usages) {
  const dk = toBytes(dataKey);
  if (dk.length !== 32) throw new FormatError("data key must be 32 bytes");
  const raw = await hkdf(dk, new Uint8Array(0), utf8(label), 32);
  return subtle.importKey("raw", raw, { name: "AES-GCM" }, false, usages);
}

/** A fresh 256-bit data key. */
export function generateDataKey() {
  return globalThis.crypto.getRandomValues(new Uint8Array(32));
}

/**
 * A report's identity key IK (envelope v2). It seals only the identity box and is wrapped
 * only to custodians (and, on release, to one requester). Its text and JSON forms never show
 * the key; `bytes()` returns a copy of the 32 raw bytes (for tests and bridges only).
 */
export class IdentityKey {
  #key;

  constructor(bytes) {
    const raw = toBytes(bytes);
    if (raw.length !== 32) throw new FormatError("identity key must be 32 bytes");
    this.#key = raw.slice();
    Object.freeze(this);
  }

  static generate() {
    return new IdentityKey(globalThis.crypto.getRandomValues(new Uint8Array(32)));
  }

  bytes() {
    return this.#key.slice();
  }

  toString() {
    return "IdentityKey(***)";
  }

  toJSON() {
    return "IdentityKey(***)";
  }
}

function asIdentityKey(key) {
  return key instanceof IdentityKey ? key : new IdentityKey(key);
}

/** SHA-256("wbs/v2/identity-commitment" || IK): 32 bytes, bound in a v2 content box. */
export async function identityCommitment(identityKey) {
  return sha256(utf8(LABEL.identityCommitment), asIdentityKey(identityKey).bytes());
}

/** Low-level box: 0x01 || kind || nonce(12) || AES-256-GCM(subkey(label), nonce, pt, aad). */
export async function sealBox(dataKey, kind, label, contextFields, plaintext) {
  const header = new Uint8Array([FORMAT_VERSION, kind]);
  const aad = concat(header, encodeContext(label, ...contextFields));
  const key = await subkey(dataKey, label, ["encrypt"]);
  const nonce = globalThis.crypto.getRandomValues(new Uint8Array(NONCE));
  const ct = await subtle.encrypt(
    { name: "AES-GCM", iv: nonce, additionalData: aad },
    key,
    toBytes(plaintext),
  );
  return concat(header, nonce, new Uint8Array(ct));
}

/** Open a box made by sealBox; DecryptError on any mismatch. */
export async function openBox(dataKey, kind, label, contextFields, box) {
  const bytes = toBytes(box);
  if (bytes.length < 2 + NONCE + TAG || bytes[0] !== FORMAT_VERSION || bytes[1] !== kind) {
    throw new DecryptError();
  }
  const aad = concat(bytes.subarray(0, 2), encodeContext(label, ...contextFields));
  const key = await subkey(dataKey, label, ["decrypt"]);
  try {
    const pt = await subtle.decrypt(
      { name: "AES-GCM", iv: bytes.subarray(2, 2 + NONCE), additionalData: aad },
      key,
      bytes.subarray(2 + NONCE),
    );
    return new Uint8Array(pt);
  } catch {
    throw new DecryptError();
  }
}

function jsonBytes(value) {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new FormatError("expected an object of strings");
  }
  for (const v of Object.values(value)) {
    if (typeof v !== "string") throw new FormatError("expected an object of strings");
  }
  return utf8(JSON.stringify(value));
}

function parseJsonBytes(bytes) {
  try {
    return JSON.parse(fromUtf8(bytes));
  } catch {
    throw new DecryptError();
  }
}

function contentFields(ctx, identityCommitment) {
  const fields = reportFields(ctx);
  if (identityCommitment === undefined || identityCommitment === null) return fields;
  const commitment = toBytes(identityCommitment);
  if (commitment.length !== 32) throw new FormatError("identity commitment must be 32 bytes");
  return [...fields, toHex(commitment)];
}

/**
 * Report content (the form's fields, an object of strings) sealed under the data key.
 * In a v2 envelope the identity commitment (32 bytes) is bound in its context.
 */
export async function sealContent(dataKey, ctx, fields, { identityCommitment } = {}) {
  const ctxFields = contentFields(ctx, identityCommitment);
  return sealBox(dataKey, KIND.content, LABEL.content, ctxFields, jsonBytes(fields));
}

export async function openContent(dataKey, ctx, box, { identityCommitment } = {}) {
  const ctxFields = contentFields(ctx, identityCommitment);
  return parseJsonBytes(await openBox(dataKey, KIND.content, LABEL.content, ctxFields, box));
}

/**
 * The reporter's identity fields, in their own ciphertext. With an IdentityKey: the v2 box
 * (under IK, label wbs/v2/identity); with data-key bytes: the v1 box under DK.
 */
export async function sealIdentity(key, ctx, fields) {
  const v2 = key instanceof IdentityKey;
  const label = v2 ? LABEL.identityV2 : LABEL.identity;
  const raw = v2 ? key.bytes() : key;
  return sealBox(raw, KIND.identity, label, reportFields(ctx), jsonBytes(fields));
}

/** Open an identity box: v2 with an IdentityKey, v1 with data-key bytes. */
export async function openIdentity(key, ctx, box) {
  const v2 = key instanceof IdentityKey;
  const label = v2 ? LABEL.identityV2 : LABEL.identity;
  return parseJsonBytes(
    await openBox(v2 ? key.bytes() : key, KIND.identity, label, reportFields(ctx), box),
  );
}

function messageFields(ctx, senderRole, messageId) {
  if (!SENDER_ROLES.includes(senderRole)) throw new FormatError("senderRole: reporter or officer");
  if (typeof messageId !== "string" || messageId === "") {
    throw new FormatError("messageId required");
  }
  return [...reportFields(ctx), senderRole, messageId];
}

/** A message (text) between reporter and officers; the sender role is bound in the aad. */
export async function sealMessage(dataKey, ctx, { senderRole, messageId, text }) {
  const fields = messageFields(ctx, senderRole, messageId);
  return sealBox(dataKey, KIND.message, LABEL.message, fields, utf8(text));
}

async function openTextBox(dataKey, kind, label, fields, box) {
  const pt = await openBox(dataKey, kind, label, fields, box);
  try {
    return fromUtf8(pt);
  } catch {
    throw new DecryptError();
  }
}

export async function openMessage(dataKey, ctx, { senderRole, messageId }, box) {
  const fields = messageFields(ctx, senderRole, messageId);
  return openTextBox(dataKey, KIND.message, LABEL.message, fields, box);
}

function noteFields(ctx, authorKeyId, noteId) {
  if (typeof authorKeyId !== "string" || !/^[0-9a-f]{32}$/.test(authorKeyId)) {
    throw new FormatError("authorKeyId: 32 lower-case hex characters");
  }
  if (typeof noteId !== "string" || noteId === "") throw new FormatError("noteId required");
  return [...reportFields(ctx), authorKeyId, noteId];
}

/** A staff-internal note; the author's key id (hex) is bound in the aad. */
export async function sealNote(dataKey, ctx, { authorKeyId, noteId, text }) {
  return sealBox(dataKey, KIND.note, LABEL.note, noteFields(ctx, authorKeyId, noteId), utf8(text));
}

export async function openNote(dataKey, ctx, { authorKeyId, noteId }, box) {
  const fields = noteFields(ctx, authorKeyId, noteId);
  return openTextBox(dataKey, KIND.note, LABEL.note, fields, box);
}

// ---------------------------------------------------------------- wraps

function wrapInfo(suite, kid, ctx) {
  return concat(
    new Uint8Array([FORMAT_VERSION, KIND.wrap]),
    i2osp(suite, 2),
    kid,
    encodeContext(LABEL.wrap, ...reportFields(ctx)),
  );
}

/** Wrap the data key to one recipient public key (wire text or {suite, raw}). */
export async function wrapDataKey(dataKey, ctx, recipient) {
  const pk = decodePublicKey(recipient);
  if (!BROWSER_SUITES.includes(pk.suite)) {
    throw new UnsupportedError("this browser cannot wrap to a post-quantum (suite 2) key");
  }
  const dk = toBytes(dataKey);
  if (dk.length !== 32) throw new FormatError("data key must be 32 bytes");
  const kid = await keyId(pk);
  const sealed = await sealBase(pk.raw, wrapInfo(pk.suite, kid, ctx), dk, { suite: DEFAULT_SUITE });
  return concat(new Uint8Array([FORMAT_VERSION, KIND.wrap]), i2osp(pk.suite, 2), kid, sealed);
}

/** Parse a wrap's header: {suite, keyId} (no secret involved). */
export function wrapHeader(wrap) {
  const bytes = toBytes(wrap);
  if (bytes.length < 20 || bytes[0] !== FORMAT_VERSION || bytes[1] !== KIND.wrap) {
    throw new FormatError("not a wrap");
  }
  return { suite: os2ip(bytes.subarray(2, 4)), keyId: bytes.slice(4, 20) };
}

/** Unwrap the data key with a key pair from keyPairFrom(); DecryptError when not ours. */
export async function unwrapDataKey(wrap, ctx, keyPair) {
  const bytes = toBytes(wrap);
  let header;
  try {
    header = wrapHeader(bytes);
  } catch {
    throw new DecryptError();
  }
  const kid = await keyId(keyPair.publicKey);
  if (header.suite !== keyPair.suite || !bytesEqual(header.keyId, kid)) throw new DecryptError();
  const info = wrapInfo(header.suite, kid, ctx);
  const dk = await openBase(keyPair.privateKey, info, bytes.subarray(20), {
    suite: DEFAULT_SUITE,
    publicKeyR: keyPair.publicKey.raw,
  });
  if (dk.length !== 32) throw new DecryptError();
  return dk;
}

// ---------------------------------------------------------------- identity wraps (v2)

function identityWrapInfo(suite, kid, ctx) {
  return concat(
    new Uint8Array([FORMAT_VERSION, KIND.identityWrap]),
    i2osp(suite, 2),
    kid,
    encodeContext(LABEL.identityWrap, ...reportFields(ctx)),
  );
}

/** Wrap the identity key to a custodian: 0x01 || 0x08 || suite || key_id || HPKE(IK). */
export async function wrapIdentityKey(identityKey, ctx, recipient) {
  const ik = asIdentityKey(identityKey);
  const pk = decodePublicKey(recipient);
  if (!BROWSER_SUITES.includes(pk.suite)) {
    throw new UnsupportedError("this browser cannot wrap to a post-quantum (suite 2) key");
  }
  const kid = await keyId(pk);
  const info = identityWrapInfo(pk.suite, kid, ctx);
  const sealed = await sealBase(pk.raw, info, ik.bytes(), { suite: DEFAULT_SUITE });
  const header = new Uint8Array([FORMAT_VERSION, KIND.identityWrap]);
  return concat(header, i2osp(pk.suite, 2), kid, sealed);
}

/**
 * Identity release on the custodian's device after approval: a new identity wrap of IK for
 * the requester only (same bytes as a custodian's wrap, bound to the report and the
 * requester's key id).
 */
export async function rewrapIdentityKey(identityKey, requesterPublicKey, ctx) {
  return wrapIdentityKey(identityKey, ctx, requesterPublicKey);
}

/** Parse an identity wrap's header: {suite, keyId} (no secret involved). */
export function identityWrapHeader(wrap) {
  const bytes = toBytes(wrap);
  if (bytes.length < 20 + 32 || bytes[0] !== FORMAT_VERSION || bytes[1] !== KIND.identityWrap) {
    throw new FormatError("not an identity wrap");
  }
  return { suite: os2ip(bytes.subarray(2, 4)), keyId: bytes.slice(4, 20) };
}

/** Unwrap the identity key (an IdentityKey) with a key pair; DecryptError when not ours. */
export async function unwrapIdentityKey(wrap, ctx, keyPair) {
  const bytes = toBytes(wrap);
  let header;
  try {
    header = identityWrapHeader(bytes);
  } catch {
    throw new DecryptError();
  }
  const kid = await keyId(keyPair.publicKey);
  if (header.suite !== keyPair.suite || !bytesEqual(header.keyId, kid)) throw new DecryptError();
  const info = identityWrapInfo(header.suite, kid, ctx);
  const ik = await openBase(keyPair.privateKey, info, bytes.subarray(20), {
    suite: DEFAULT_SUITE,
    publicKeyR: keyPair.publicKey.raw,
  });
  if (ik.length !== 32) throw new DecryptError();
  return new IdentityKey(ik);
}

// ---------------------------------------------------------------- envelope

function envelopeContext(envelope) {
  if (!envelope || typeof envelope !== "object") throw new DecryptError();
  if (envelope.v === ENVELOPE_V1) {
    if ("identity_wraps" in envelope || "identity_commitment" in envelope) {
      throw new DecryptError();
    }
  } else if (envelope.v === ENVELOPE_V2) {
    // As sealed: an identity and identity wraps. Served without identity (withheld by the
    // service): identity null and no identity wraps, together.
    if (!Array.isArray(envelope.identity_wraps)) throw new DecryptError();
    const withheld = envelope.identity === null && envelope.identity_wraps.length === 0;
    const sealed = typeof envelope.identity === "string" && envelope.identity_wraps.length > 0;
    if (!withheld && !sealed) throw new DecryptError();
  } else {
    throw new DecryptError();
  }
  return { unit: envelope.unit, channel: envelope.channel, reportId: envelope.report_id };
}

function b64uOrFail(text) {
  try {
    return b64uDecode(text);
  } catch {
    throw new DecryptError();
  }
}

/** The identity commitment of a v2 envelope (32 bytes), undefined for v1. */
function envelopeCommitment(envelope) {
  if (envelope.v !== ENVELOPE_V2) return undefined;
  const commitment = b64uOrFail(envelope.identity_commitment);
  if (commitment.length !== 32) throw new DecryptError();
  return commitment;
}

/**
 * Seal a report. `recipients` are public keys (wire text); `reporterKey` is the reporter's
 * receipt-derived public key. With `identity` and `identityRecipients` (custodians' public
 * keys, at least one): envelope v2, the identity under a fresh IdentityKey wrapped only to
 * them. With `identity` alone: envelope v1 (identity under DK). Without identity: v1.
 * Returns {envelope (JSON-ready object), dataKey, identityKey (v2) or null}.
 */
export async function sealReport({
  unit,
  channel,
  reportId,
  content,
  identity = null,
  recipients,
  reporterKey,
  identityRecipients = null,
}) {
  const ctx = { unit, channel, reportId };
  reportFields(ctx);
  if (!Array.isArray(recipients) || recipients.length === 0) {
    throw new FormatError("at least one recipient is required");
  }
  const reporter = decodePublicKey(reporterKey);
  const v2 = identity !== null && identityRecipients !== null && identityRecipients !== undefined;
  let custodians = [];
  if (v2) {
    if (!Array.isArray(identityRecipients) || identityRecipients.length === 0) {
      throw new FormatError("at least one identity recipient (custodian) is required");
    }
    custodians = identityRecipients.map((k) => decodePublicKey(k));
    const ids = new Set(custodians.map((k) => k.text));
    if (ids.size !== custodians.length) {
      throw new FormatError("an identity recipient is listed twice");
    }
  }
  const dataKey = generateDataKey();
  const wraps = [];
  for (const recipient of [...recipients, reporter]) {
    wraps.push(b64uEncode(await wrapDataKey(dataKey, ctx, recipient)));
  }
  if (!v2) {
    const envelope = {
      v: ENVELOPE_V1,
      unit,
      channel,
      report_id: reportId,
      content: b64uEncode(await sealContent(dataKey, ctx, content)),
      identity: identity === null ? null : b64uEncode(await sealIdentity(dataKey, ctx, identity)),
      wraps,
      reporter_key: reporter.text,
    };
    return { envelope, dataKey, identityKey: null };
  }
  const identityKey = IdentityKey.generate();
  const commitment = await identityCommitment(identityKey);
  const identityWraps = [];
  for (const custodian of custodians) {
    identityWraps.push(b64uEncode(await wrapIdentityKey(identityKey, ctx, custodian)));
  }
  const envelope = {
    v: ENVELOPE_V2,
    unit,
    channel,
    report_id: reportId,
    content: b64uEncode(
      await sealContent(dataKey, ctx, content, { identityCommitment: commitment }),
    ),
    identity: b64uEncode(await sealIdentity(identityKey, ctx, identity)),
    identity_wraps: identityWraps,
    identity_commitment: b64uEncode(commitment),
    wraps,
    reporter_key: reporter.text,
  };
  return { envelope, dataKey, identityKey };
}

/** Find our wrap in an envelope and recover the data key. */
export async function envelopeDataKey(envelope, keyPair) {
  const ctx = envelopeContext(envelope);
  if (!Array.isArray(envelope.wraps)) throw new DecryptError();
  for (const text of envelope.wraps) {
    let wrap;
    try {
      wrap = b64uDecode(text);
    } catch {
      continue;
    }
    try {
      return await unwrapDataKey(wrap, ctx, keyPair);
    } catch (err) {
      if (!(err instanceof DecryptError)) throw err;
    }
  }
  throw new DecryptError();
}

async function checkedIdentityKey(envelope, identityKey) {
  const commitment = envelopeCommitment(envelope);
  if (commitment === undefined) throw new DecryptError();
  if (!bytesEqual(await identityCommitment(identityKey), commitment)) throw new DecryptError();
  return identityKey;
}

/**
 * v2: find the identity wrap addressed to keyPair (a custodian), recover the IdentityKey and
 * check it against the envelope's commitment; DecryptError if none (always for v1).
 */
export async function envelopeIdentityKey(envelope, keyPair) {
  const ctx = envelopeContext(envelope);
  if (envelope.v !== ENVELOPE_V2) throw new DecryptError();
  for (const text of envelope.identity_wraps) {
    let wrap;
    try {
      wrap = b64uDecode(text);
    } catch {
      continue;
    }
    let ik;
    try {
      ik = await unwrapIdentityKey(wrap, ctx, keyPair);
    } catch (err) {
      if (!(err instanceof DecryptError)) throw err;
      continue;
    }
    return checkedIdentityKey(envelope, ik);
  }
  throw new DecryptError();
}

async function holdsIdentityWrap(envelope, keyPair) {
  const kid = await keyId(keyPair.publicKey);
  return envelope.identity_wraps.some((text) => {
    try {
      return bytesEqual(identityWrapHeader(b64uDecode(text)).keyId, kid);
    } catch {
      return false;
    }
  });
}

/**
 * Open a report envelope with a key pair: {dataKey, content, identity (object or null),
 * identityKey (v2 custodians) or null}. Pass {identity: false} to leave the identity box
 * closed. In a v2 envelope the identity is opened only when the key pair also holds an
 * identity wrap; otherwise it is null.
 */
export async function openReport(envelope, keyPair, { identity = true } = {}) {
  const ctx = envelopeContext(envelope);
  const dataKey = await envelopeDataKey(envelope, keyPair);
  const identityCommitment = envelopeCommitment(envelope);
  const content = await openContent(dataKey, ctx, b64uOrFail(envelope.content), {
    identityCommitment,
  });
  let ident = null;
  let identityKey = null;
  if (identity && envelope.identity !== null && envelope.identity !== undefined) {
    if (envelope.v === ENVELOPE_V1) {
      ident = await openIdentity(dataKey, ctx, b64uOrFail(envelope.identity));
    } else if (await holdsIdentityWrap(envelope, keyPair)) {
      identityKey = await envelopeIdentityKey(envelope, keyPair);
      ident = await openIdentity(identityKey, ctx, b64uOrFail(envelope.identity));
    }
  }
  return { dataKey, content, identity: ident, identityKey };
}

/** A custodian opens the identity of a v2 envelope (no data key needed or used). */
export async function openReportIdentity(envelope, keyPair) {
  const ctx = envelopeContext(envelope);
  const identityKey = await envelopeIdentityKey(envelope, keyPair);
  return openIdentity(identityKey, ctx, b64uOrFail(envelope.identity));
}

/**
 * Identity release on the custodian's device, after approval: recover IK from the custodian's
 * identity wrap, check it opens this envelope's identity box, and return a new identity wrap
 * (b64u) for the requester only.
 */
export async function releaseIdentity(envelope, custodianKeyPair, requester) {
  const ctx = envelopeContext(envelope);
  const identityKey = await envelopeIdentityKey(envelope, custodianKeyPair);
  await openIdentity(identityKey, ctx, b64uOrFail(envelope.identity));
  return b64uEncode(await rewrapIdentityKey(identityKey, requester, ctx));
}

/**
 * The requester opens a released identity (release wrap as b64u or bytes). The requester's
 * own data-key wrap must open the content box, which authenticates the envelope's identity
 * commitment, and the released IK must match that commitment.
 */
export async function openReleasedIdentity(envelope, releaseWrap, keyPair) {
  const ctx = envelopeContext(envelope);
  if (envelope.v !== ENVELOPE_V2) throw new DecryptError();
  const dataKey = await envelopeDataKey(envelope, keyPair);
  await openContent(dataKey, ctx, b64uOrFail(envelope.content), {
    identityCommitment: envelopeCommitment(envelope),
  });
  const wrap = typeof releaseWrap === "string" ? b64uOrFail(releaseWrap) : releaseWrap;
  const identityKey = await checkedIdentityKey(
    envelope,
    await unwrapIdentityKey(wrap, ctx, keyPair),
  );
  return openIdentity(identityKey, ctx, b64uOrFail(envelope.identity));
}

/**
 * Escalation: a new wrap (b64u) for another recipient, made by a holder of the data key.
 * Checks first that `dataKey` is this report's key (it must open the content). The identity
 * key is not touched: escalation never gives access to a v2 identity.
 */
export async function addRecipient(envelope, dataKey, recipient) {
  const ctx = envelopeContext(envelope);
  await openContent(dataKey, ctx, b64uOrFail(envelope.content), {
    identityCommitment: envelopeCommitment(envelope),
  });
  return b64uEncode(await wrapDataKey(dataKey, ctx, recipient));
}
