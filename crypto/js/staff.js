// Staff keys on the staff member's device (docs/crypto-format.md, "Staff keys"): the
// passphrase is stretched with PBKDF2-SHA256 (the profile browsers can compute), then split
// with HKDF into the login secret (sent instead of the passphrase) and the key that wraps
// the private key (never leaves the device).

import { b64uDecode, b64uEncode, concat, toBytes, toHex, utf8 } from "./encoding.js";
import { DecryptError, generateKeyPair, hkdf, x25519PublicKey } from "./hpke.js";
import { groupSymbols, newSymbols, normaliseSymbols } from "./receipt.js";
import {
  decodePublicKey,
  FORMAT_VERSION,
  FormatError,
  keyPairFrom,
  SUITE_X25519_AES256GCM,
  UnsupportedError,
} from "./format.js";

const subtle = globalThis.crypto.subtle;

export const PBKDF2_PROFILE = "pbkdf2-sha256";
export const PBKDF2_MIN_ITERATIONS = 600000;
export const PBKDF2_DEFAULT_ITERATIONS = 600000;
export const PBKDF2_MAX_ITERATIONS = 20000000;
export const RECOVERY_PROFILE = "recovery";
export const RECOVERY_LENGTH = 28; // 27 random symbols (133.8 bits) and a check symbol
const RECOVERY_SALT = "wbs/v1/recovery";
export const LOGIN_LABEL = "wbs/v1/login";
export const WRAP_LABEL = "wbs/v1/private-key-wrap";
export const PRIVATE_KEY_AAD_LABEL = "wbs/v1/private-key";
const NONCE = 12;
const TAG = 16;

/** Derivation parameters below the floor (a server must not get a cheap derivation). */
export class WeakParametersError extends FormatError {
  constructor(message) {
    super(message);
    this.name = "WeakParametersError";
  }
}

/** Import raw AES-256-GCM key bytes (non-extractable) and wipe them. */
async function aesKey(raw) {
  try {
    return await subtle.importKey("raw", raw, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
  } finally {
    raw.fill(0);
  }
}

/** The decoded suite-1 public key of a raw X25519 private key. */
async function publicOf(sk) {
  return decodePublicKey({ suite: SUITE_X25519_AES256GCM, raw: await x25519PublicKey(sk) });
}

/** Passphrase bytes: NFKC-normalised, UTF-8. */
export function passphraseBytes(passphrase) {
  if (typeof passphrase !== "string" || passphrase.length === 0) {
    throw new FormatError("passphrase required");
  }
  return utf8(passphrase.normalize("NFKC"));
}

/**
 * Check derivation parameters against the floor and the ceiling; returns
 * {iterations, salt (bytes)}. WeakParametersError below the floor, FormatError for nonsense,
 * UnsupportedError for a profile the browser cannot compute (argon2id).
 */
export function checkKdfParams(kdf) {
  if (!kdf || typeof kdf !== "object") throw new FormatError("missing key derivation parameters");
  if (kdf.name !== PBKDF2_PROFILE) {
    const name = String(kdf.name);
    throw new UnsupportedError(`key derivation ${name} is not available in the browser`);
  }
  let salt;
  try {
    salt = b64uDecode(kdf.salt);
  } catch {
    throw new FormatError("bad salt");
  }
  if (salt.length < 16 || salt.length > 64) throw new FormatError("salt must be 16 to 64 bytes");
  if (!Number.isSafeInteger(kdf.iterations) || kdf.iterations < 1) {
    throw new FormatError("bad PBKDF2 iterations");
  }
  if (kdf.iterations > PBKDF2_MAX_ITERATIONS) {
    throw new FormatError("PBKDF2 iterations above the ceiling");
  }
  if (kdf.iterations < PBKDF2_MIN_ITERATIONS) {
    throw new WeakParametersError(`PBKDF2 iterations below the floor of ${PBKDF2_MIN_ITERATIONS}`);
  }
  return { iterations: kdf.iterations, salt };
}

/** Fresh PBKDF2 parameters (random 16-byte salt). */
export function newKdfParams(iterations = PBKDF2_DEFAULT_ITERATIONS) {
  const salt = globalThis.crypto.getRandomValues(new Uint8Array(16));
  const params = { name: PBKDF2_PROFILE, iterations, salt: b64uEncode(salt) };
  checkKdfParams(params);
  return params;
}

async function master(passphrase, kdf) {
  const { iterations, salt } = checkKdfParams(kdf);
  const base = await subtle.importKey("raw", passphraseBytes(passphrase), "PBKDF2", false, [
    "deriveBits",
  ]);
  const params = { name: "PBKDF2", hash: "SHA-256", salt, iterations };
  const bits = await subtle.deriveBits(params, base, 256);
  return new Uint8Array(bits);
}

/**
 * Derive from the passphrase: {loginSecret (hex string to send instead of the passphrase),
 * wrapKey (non-extractable AES-GCM CryptoKey)}.
 */
export async function deriveStaffSecrets(passphrase, kdf) {
  const m = await master(passphrase, kdf);
  const empty = new Uint8Array(0);
  const loginSecret = toHex(await hkdf(m, empty, utf8(LOGIN_LABEL), 32));
  const wrapRaw = await hkdf(m, empty, utf8(WRAP_LABEL), 32);
  m.fill(0);
  const wrapKey = await aesKey(wrapRaw);
  return { loginSecret, wrapKey };
}

/** Only the login secret (what the login page sends). */
export async function loginSecret(passphrase, kdf) {
  return (await deriveStaffSecrets(passphrase, kdf)).loginSecret;
}

function privateKeyAad(publicKey) {
  return concat(utf8(PRIVATE_KEY_AAD_LABEL), b64uDecode(publicKey.text));
}

async function sealPrivate(wrapKey, publicKey, rawPrivate) {
  const nonce = globalThis.crypto.getRandomValues(new Uint8Array(NONCE));
  const ct = await subtle.encrypt(
    { name: "AES-GCM", iv: nonce, additionalData: privateKeyAad(publicKey) },
    wrapKey,
    rawPrivate,
  );
  return concat(nonce, new Uint8Array(ct));
}

async function openPrivate(wrapKey, publicKey, box) {
  if (box.length < NONCE + TAG) throw new DecryptError();
  try {
    const pt = await subtle.decrypt(
      { name: "AES-GCM", iv: box.subarray(0, NONCE), additionalData: privateKeyAad(publicKey) },
      wrapKey,
      box.subarray(NONCE),
    );
    return new Uint8Array(pt);
  } catch {
    throw new DecryptError();
  }
}

async function wrapWith(sk, params, wrapKey) {
  const publicKey = await publicOf(sk);
  return {
    v: FORMAT_VERSION,
    suite: publicKey.suite,
    kdf: { name: params.name, iterations: params.iterations, salt: params.salt },
    public: publicKey.text,
    wrapped: b64uEncode(await sealPrivate(wrapKey, publicKey, sk)),
  };
}

/** Wrap a raw X25519 private key under a passphrase: the wrapped-key JSON object. */
export async function wrapPrivateKey(rawPrivate, passphrase, { kdf = undefined } = {}) {
  const sk = toBytes(rawPrivate);
  if (sk.length !== 32) throw new FormatError("X25519 private key must be 32 bytes");
  const params = kdf ?? newKdfParams();
  const { wrapKey } = await deriveStaffSecrets(passphrase, params);
  return wrapWith(sk, params, wrapKey);
}

function parseWrapped(wrapped) {
  let w;
  try {
    w = typeof wrapped === "string" ? JSON.parse(wrapped) : wrapped;
  } catch {
    throw new FormatError("wrapped key is not JSON");
  }
  if (!w || w.v !== FORMAT_VERSION) throw new FormatError("not a v1 wrapped private key");
  if (w.suite !== SUITE_X25519_AES256GCM) {
    throw new UnsupportedError("this browser can only use suite 1 (X25519) private keys");
  }
  const publicKey = decodePublicKey(w.public);
  if (publicKey.suite !== w.suite) throw new FormatError("suite mismatch");
  let box;
  try {
    box = b64uDecode(w.wrapped);
  } catch {
    throw new DecryptError();
  }
  const recovery = w.kdf?.name === RECOVERY_PROFILE;
  return { w, publicKey, box, recovery };
}

async function openChecked(wrapKey, publicKey, box) {
  const sk = await openPrivate(wrapKey, publicKey, box);
  if (sk.length !== 32) throw new DecryptError();
  const derived = await x25519PublicKey(sk);
  if (b64uEncode(derived) !== b64uEncode(publicKey.raw)) throw new DecryptError();
  return sk;
}

async function unwrapRaw(wrapped, passphrase) {
  const { w, publicKey, box, recovery } = parseWrapped(wrapped);
  if (recovery) throw new DecryptError(); // a recovery wrap opens only with the recovery key
  const { wrapKey, loginSecret: secret } = await deriveStaffSecrets(passphrase, w.kdf);
  return { sk: await openChecked(wrapKey, publicKey, box), publicKey, loginSecret: secret };
}

/**
 * Unwrap a staff private key with the passphrase: {keyPair (private key non-extractable),
 * loginSecret}. A wrong passphrase or altered JSON gives DecryptError.
 */
export async function unwrapPrivateKey(wrapped, passphrase) {
  const { sk, publicKey, loginSecret: secret } = await unwrapRaw(wrapped, passphrase);
  const keyPair = await keyPairFrom(sk, publicKey.text);
  sk.fill(0);
  return { keyPair, loginSecret: secret };
}

/** Wrap raw `sk` under a passphrase: {wrapped, loginSecret} (one derivation). */
async function wrapUnderPassphrase(sk, passphrase, kdf) {
  const params = kdf ?? newKdfParams();
  const secrets = await deriveStaffSecrets(passphrase, params);
  return { wrapped: await wrapWith(sk, params, secrets.wrapKey), loginSecret: secrets.loginSecret };
}

/**
 * Passphrase change: re-wrap under a new passphrase (fresh salt unless `kdf` is given);
 * reports are untouched. Returns {wrapped, loginSecret} (send both to the server).
 */
export async function rewrapPrivateKey(
  wrapped,
  oldPassphrase,
  newPassphrase,
  { kdf = undefined } = {},
) {
  const { sk } = await unwrapRaw(wrapped, oldPassphrase);
  try {
    return await wrapUnderPassphrase(sk, newPassphrase, kdf);
  } finally {
    sk.fill(0);
  }
}

// ---------------------------------------------------------------- recovery keys

/** A printable one-time recovery key: 28 symbols of the receipt alphabet (133 bits). */
export function generateRecoveryKey() {
  return groupSymbols(newSymbols(RECOVERY_LENGTH));
}

/** Canonical recovery key; ReceiptError (length, character, check) when mistyped. */
export function normaliseRecoveryKey(text) {
  return normaliseSymbols(text, RECOVERY_LENGTH);
}

async function recoveryWrapKey(recoveryKey) {
  const canonical = normaliseRecoveryKey(recoveryKey);
  const raw = await hkdf(utf8(canonical), utf8(RECOVERY_SALT), utf8(WRAP_LABEL), 32);
  return aesKey(raw);
}

async function wrapForRecovery(sk, recoveryKey) {
  const publicKey = await publicOf(sk);
  return {
    v: FORMAT_VERSION,
    suite: publicKey.suite,
    kdf: { name: RECOVERY_PROFILE },
    public: publicKey.text,
    wrapped: b64uEncode(await sealPrivate(await recoveryWrapKey(recoveryKey), publicKey, sk)),
  };
}

async function unwrapRecoveryRaw(wrapped, recoveryKey) {
  const { publicKey, box, recovery } = parseWrapped(wrapped);
  if (!recovery) throw new DecryptError();
  return { sk: await openChecked(await recoveryWrapKey(recoveryKey), publicKey, box), publicKey };
}

/** Open a recovery wrap ({"kdf": {"name": "recovery"}}): {keyPair}; DecryptError otherwise. */
export async function unwrapWithRecoveryKey(wrapped, recoveryKey) {
  const { sk, publicKey } = await unwrapRecoveryRaw(wrapped, recoveryKey);
  const keyPair = await keyPairFrom(sk, publicKey.text);
  sk.fill(0);
  return { keyPair };
}

/**
 * Forgotten passphrase: open the recovery wrap and wrap the same private key under a new
 * passphrase. Returns {wrapped, loginSecret} (reports stay readable: same key pair).
 */
export async function recoverPrivateKey(
  recoveryWrapped,
  recoveryKey,
  newPassphrase,
  { kdf = undefined } = {},
) {
  const { sk } = await unwrapRecoveryRaw(recoveryWrapped, recoveryKey);
  try {
    return await wrapUnderPassphrase(sk, newPassphrase, kdf);
  } finally {
    sk.fill(0);
  }
}

/**
 * Enrolment on the device: a new X25519 key pair wrapped under the passphrase and under a
 * fresh recovery key. Returns {wrapped, publicKey (wire text), loginSecret, recoveryKey (show
 * once for printing), recoveryWrapped (keep with the account)}.
 */
export async function createStaffKey(passphrase, { kdf = undefined } = {}) {
  const pair = await generateKeyPair();
  try {
    const made = await wrapUnderPassphrase(pair.privateKey, passphrase, kdf);
    const { wrapped, loginSecret: secret } = made;
    const recoveryKey = generateRecoveryKey();
    return {
      wrapped,
      publicKey: wrapped.public,
      loginSecret: secret,
      recoveryKey,
      recoveryWrapped: await wrapForRecovery(pair.privateKey, recoveryKey),
    };
  } finally {
    pair.privateKey.fill(0);
  }
}
