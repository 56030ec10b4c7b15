// HPKE (RFC 9180) base mode on WebCrypto: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
// AES-128-GCM or AES-256-GCM. Only what wbs needs: the KEM, the key schedule, sealing and
// opening contexts with sequence numbers, and the secret export interface.
//
// Private keys are raw 32-byte X25519 scalars (Uint8Array) or non-extractable CryptoKeys
// made by importX25519PrivateKey(). Public keys are raw 32-byte Uint8Arrays.

import { b64uDecode, bytesEqual, concat, i2osp, toBytes, utf8 } from "./encoding.js";

const subtle = globalThis.crypto.subtle;

export const KEM_X25519_HKDF_SHA256 = 0x0020;
export const KDF_HKDF_SHA256 = 0x0001;
export const AEAD_AES_128_GCM = 0x0001;
export const AEAD_AES_256_GCM = 0x0002;
export const MODE_BASE = 0x00;

const NH = 32; // HKDF-SHA256 output size, also Nsecret and Nsk/Npk/Nenc for X25519
const NN = 12; // AES-GCM nonce size
const TAG = 16; // AES-GCM tag size
const HPKE_V1 = utf8("HPKE-v1");
const KEM_SUITE_ID = concat(utf8("KEM"), i2osp(KEM_X25519_HKDF_SHA256, 2));
const PKCS8_X25519_PREFIX = new Uint8Array([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20,
]);

/** A decryption or key-agreement failure; never says which check failed. */
export class DecryptError extends Error {
  constructor() {
    super("cannot decrypt");
    this.name = "DecryptError";
  }
}

/** The cipher suite parameters for an AEAD id (KEM and KDF are fixed). */
export function hpkeSuite(aeadId = AEAD_AES_256_GCM) {
  let nk;
  if (aeadId === AEAD_AES_256_GCM) nk = 32;
  else if (aeadId === AEAD_AES_128_GCM) nk = 16;
  else throw new RangeError("unsupported HPKE AEAD");
  return Object.freeze({
    kemId: KEM_X25519_HKDF_SHA256,
    kdfId: KDF_HKDF_SHA256,
    aeadId,
    nk,
    nn: NN,
    nh: NH,
    id: concat(
      utf8("HPKE"),
      i2osp(KEM_X25519_HKDF_SHA256, 2),
      i2osp(KDF_HKDF_SHA256, 2),
      i2osp(aeadId, 2),
    ),
  });
}

export const DEFAULT_SUITE = hpkeSuite(AEAD_AES_256_GCM);

// ---------------------------------------------------------------- HKDF-SHA256 (RFC 5869)

async function hmacSha256(key, data) {
  // WebCrypto refuses an empty HMAC key; HMAC pads the key with zeros, so an empty key and
  // HashLen zero bytes are the same key (RFC 5869 uses the latter for an absent salt).
  const raw = key.length === 0 ? new Uint8Array(NH) : key;
  const k = await subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return new Uint8Array(await subtle.sign("HMAC", k, data));
}

/** HKDF-Extract with SHA-256. */
export async function hkdfExtract(salt, ikm) {
  return hmacSha256(toBytes(salt), toBytes(ikm));
}

/** HKDF-Expand with SHA-256. */
export async function hkdfExpand(prk, info, length) {
  if (length > 255 * NH) throw new RangeError("HKDF output too long");
  const out = new Uint8Array(length);
  let block = new Uint8Array(0);
  let filled = 0;
  for (let i = 1; filled < length; i++) {
    block = await hmacSha256(prk, concat(block, toBytes(info), new Uint8Array([i])));
    out.set(block.subarray(0, Math.min(NH, length - filled)), filled);
    filled += NH;
  }
  return out;
}

/** One-call HKDF-SHA256 (native WebCrypto); an empty salt means HashLen zero bytes. */
export async function hkdf(ikm, salt, info, length) {
  const key = await subtle.importKey("raw", toBytes(ikm), "HKDF", false, ["deriveBits"]);
  const bits = await subtle.deriveBits(
    { name: "HKDF", hash: "SHA-256", salt: toBytes(salt), info: toBytes(info) },
    key,
    length * 8,
  );
  return new Uint8Array(bits);
}

async function labeledExtract(suiteId, salt, label, ikm) {
  return hkdfExtract(salt, concat(HPKE_V1, suiteId, utf8(label), ikm));
}

async function labeledExpand(suiteId, prk, label, info, length) {
  return hkdfExpand(prk, concat(i2osp(length, 2), HPKE_V1, suiteId, utf8(label), info), length);
}

// ---------------------------------------------------------------- X25519

/** Import a raw 32-byte X25519 private key as a non-extractable CryptoKey. */
export async function importX25519PrivateKey(raw, extractable = false) {
  const sk = toBytes(raw);
  if (sk.length !== 32) throw new RangeError("X25519 private key must be 32 bytes");
  const pkcs8 = concat(PKCS8_X25519_PREFIX, sk);
  try {
    return await subtle.importKey("pkcs8", pkcs8, { name: "X25519" }, extractable, ["deriveBits"]);
  } finally {
    pkcs8.fill(0);
  }
}

/** Raw public key of a raw X25519 private key. */
export async function x25519PublicKey(rawPrivate) {
  const key = await importX25519PrivateKey(rawPrivate, true);
  const jwk = await subtle.exportKey("jwk", key);
  return b64uDecode(jwk.x);
}

async function importX25519PublicKey(raw) {
  const pk = toBytes(raw);
  if (pk.length !== 32) throw new DecryptError();
  return subtle.importKey("raw", pk, { name: "X25519" }, true, []);
}

async function dh(privateKey, publicKey) {
  const sk =
    privateKey instanceof CryptoKey ? privateKey : await importX25519PrivateKey(privateKey);
  const pk = await importX25519PublicKey(publicKey);
  let shared;
  try {
    shared = new Uint8Array(await subtle.deriveBits({ name: "X25519", public: pk }, sk, 256));
  } catch {
    // WebCrypto rejects an all-zero result (small-order public key), as RFC 9180 requires.
    throw new DecryptError();
  }
  if (bytesEqual(shared, new Uint8Array(32))) throw new DecryptError();
  return shared;
}

/** RFC 9180 DeriveKeyPair for DHKEM(X25519, HKDF-SHA256): raw private and public keys. */
export async function deriveKeyPair(ikm) {
  const prk = await labeledExtract(KEM_SUITE_ID, new Uint8Array(0), "dkp_prk", toBytes(ikm));
  const privateKey = await labeledExpand(KEM_SUITE_ID, prk, "sk", new Uint8Array(0), 32);
  return { privateKey, publicKey: await x25519PublicKey(privateKey) };
}

/** A fresh random X25519 key pair (raw bytes). */
export async function generateKeyPair() {
  return deriveKeyPair(globalThis.crypto.getRandomValues(new Uint8Array(32)));
}

async function extractAndExpand(dhOut, kemContext) {
  const prk = await labeledExtract(KEM_SUITE_ID, new Uint8Array(0), "eae_prk", dhOut);
  return labeledExpand(KEM_SUITE_ID, prk, "shared_secret", kemContext, NH);
}

/**
 * DHKEM Encap. With `ikmE` the ephemeral key is derived deterministically (test vectors);
 * without it a random one is used. Returns {sharedSecret, enc}.
 */
export async function encap(publicKeyR, ikmE = undefined) {
  const pkR = toBytes(publicKeyR);
  const eph = ikmE === undefined ? await generateKeyPair() : await deriveKeyPair(ikmE);
  const dhOut = await dh(eph.privateKey, pkR);
  const enc = eph.publicKey;
  return { sharedSecret: await extractAndExpand(dhOut, concat(enc, pkR)), enc };
}

/** DHKEM Decap: the shared secret for `enc` and the recipient's private key. */
export async function decap(enc, privateKeyR, publicKeyR = undefined) {
  const encBytes = toBytes(enc);
  if (encBytes.length !== 32) throw new DecryptError();
  if (publicKeyR === undefined && privateKeyR instanceof CryptoKey) {
    throw new TypeError("publicKeyR is needed with a CryptoKey private key");
  }
  const pkR = publicKeyR === undefined ? await x25519PublicKey(privateKeyR) : toBytes(publicKeyR);
  const dhOut = await dh(privateKeyR, encBytes);
  return extractAndExpand(dhOut, concat(encBytes, pkR));
}

// ---------------------------------------------------------------- key schedule and context

/** RFC 9180 KeySchedule for base mode: {key, baseNonce, exporterSecret} as raw bytes. */
export async function keySchedule(suite, sharedSecret, info) {
  const empty = new Uint8Array(0);
  const pskIdHash = await labeledExtract(suite.id, empty, "psk_id_hash", empty);
  const infoHash = await labeledExtract(suite.id, empty, "info_hash", toBytes(info));
  const context = concat(new Uint8Array([MODE_BASE]), pskIdHash, infoHash);
  const secret = await labeledExtract(suite.id, toBytes(sharedSecret), "secret", empty);
  return {
    key: await labeledExpand(suite.id, secret, "key", context, suite.nk),
    baseNonce: await labeledExpand(suite.id, secret, "base_nonce", context, suite.nn),
    exporterSecret: await labeledExpand(suite.id, secret, "exp", context, suite.nh),
  };
}

/** An HPKE encryption context (sender or recipient) with its sequence number. */
export class HpkeContext {
  #suite;
  #key;
  #baseNonce;
  #exporterSecret;
  #seq = 0;

  constructor(suite, aesKey, baseNonce, exporterSecret) {
    this.#suite = suite;
    this.#key = aesKey;
    this.#baseNonce = baseNonce;
    this.#exporterSecret = exporterSecret;
  }

  static async create(suite, sharedSecret, info) {
    const ks = await keySchedule(suite, sharedSecret, info);
    const aesKey = await subtle.importKey("raw", ks.key, { name: "AES-GCM" }, false, [
      "encrypt",
      "decrypt",
    ]);
    return new HpkeContext(suite, aesKey, ks.baseNonce, ks.exporterSecret);
  }

  get seq() {
    return this.#seq;
  }

  #nextNonce() {
    if (this.#seq >= Number.MAX_SAFE_INTEGER) throw new RangeError("message limit reached");
    const seqBytes = i2osp(this.#seq, this.#suite.nn);
    const nonce = new Uint8Array(this.#suite.nn);
    for (let i = 0; i < nonce.length; i++) nonce[i] = this.#baseNonce[i] ^ seqBytes[i];
    return nonce;
  }

  /** Encrypt with the next sequence number. */
  async seal(plaintext, aad = new Uint8Array(0)) {
    const iv = this.#nextNonce();
    const ct = await subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: toBytes(aad), tagLength: 128 },
      this.#key,
      toBytes(plaintext),
    );
    this.#seq += 1;
    return new Uint8Array(ct);
  }

  /** Decrypt with the next sequence number; DecryptError on any failure. */
  async open(ciphertext, aad = new Uint8Array(0)) {
    const ct = toBytes(ciphertext);
    if (ct.length < TAG) throw new DecryptError();
    const iv = this.#nextNonce();
    let pt;
    try {
      pt = await subtle.decrypt(
        { name: "AES-GCM", iv, additionalData: toBytes(aad), tagLength: 128 },
        this.#key,
        ct,
      );
    } catch {
      throw new DecryptError();
    }
    this.#seq += 1;
    return new Uint8Array(pt);
  }

  /** RFC 9180 secret export. */
  async export(exporterContext, length) {
    return labeledExpand(
      this.#suite.id,
      this.#exporterSecret,
      "sec",
      toBytes(exporterContext),
      length,
    );
  }
}

/** SetupBaseS: {enc, context}. `ikmE` makes the ephemeral key deterministic (tests only). */
export async function setupBaseS(suite, publicKeyR, info, ikmE = undefined) {
  const { sharedSecret, enc } = await encap(publicKeyR, ikmE);
  return { enc, context: await HpkeContext.create(suite, sharedSecret, info) };
}

/** SetupBaseR: the recipient context. */
export async function setupBaseR(suite, enc, privateKeyR, info, publicKeyR = undefined) {
  let sharedSecret;
  try {
    sharedSecret = await decap(enc, privateKeyR, publicKeyR);
  } catch (err) {
    if (err instanceof TypeError || err instanceof RangeError) throw err;
    throw new DecryptError();
  }
  return HpkeContext.create(suite, sharedSecret, info);
}

/** Single-shot base-mode seal: returns enc || ct (sequence number 0). */
export async function sealBase(publicKeyR, info, plaintext, { aad, suite, ikmE } = {}) {
  const s = suite ?? DEFAULT_SUITE;
  const { enc, context } = await setupBaseS(s, publicKeyR, info, ikmE);
  return concat(enc, await context.seal(plaintext, aad ?? new Uint8Array(0)));
}

/** Single-shot base-mode open of enc || ct; DecryptError on any failure. */
export async function openBase(privateKeyR, info, sealed, { aad, suite, publicKeyR } = {}) {
  const s = suite ?? DEFAULT_SUITE;
  const bytes = toBytes(sealed);
  if (bytes.length < 32 + TAG) throw new DecryptError();
  const context = await setupBaseR(s, bytes.subarray(0, 32), privateKeyR, info, publicKeyR);
  return context.open(bytes.subarray(32), aad ?? new Uint8Array(0));
}
