// Receipts (docs/crypto-format.md, "Receipt"): what a reporter writes down to come back.
// The receipt never leaves the reporter's device: from it the device derives, with distinct
// HKDF labels, the lookup id (sent to find the report) and the reporter's X25519 key pair.

import { b64uEncode, utf8 } from "./encoding.js";
import { hkdf, x25519PublicKey } from "./hpke.js";
import { encodePublicKey, FormatError, keyPairFrom } from "./format.js";

/** The receipt alphabet: no 0/O, 1/I/L look-alikes. */
export const RECEIPT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
export const RECEIPT_LENGTH = 20; // 19 random characters (94 bits) and 1 check character
export const RECEIPT_GROUP = 4;
const BASE = RECEIPT_ALPHABET.length; // 31, a prime: the weighted check catches every single
// substitution and every transposition of two adjacent characters.
const INDEX = new Map([...RECEIPT_ALPHABET].map((c, i) => [c, i]));
const SALT = utf8("wbs/v1/receipt");
// Whitespace exactly as Python's str.isspace() (crypto/receipt.py uses re's \s), which differs
// from JavaScript's \s (that one has U+FEFF and lacks U+001C-U+001F and U+0085), then - _ .
const SEPARATORS =
  /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\-_.]/g;

/** A receipt the reporter typed that cannot be right (checked before any work is done). */
export class ReceiptError extends FormatError {
  constructor(reason) {
    const messages = {
      length: "Nomor tanda terima harus 20 karakter / The receipt must be 20 characters",
      character:
        "Nomor tanda terima berisi karakter yang tidak dikenal / " +
        "The receipt has an unknown character",
      check: "Nomor tanda terima salah ketik / The receipt has a typing mistake",
    };
    super(messages[reason] ?? messages.check);
    this.name = "ReceiptError";
    this.reason = reason;
  }
}

/** Check value for data values v1..vn: weights 1..n, check weight n+1, sum = 0 (mod 31). */
function checkValue(values) {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum = (sum + (i + 1) * values[i]) % BASE;
  return ((BASE - sum) * modInverse(values.length + 1, BASE)) % BASE;
}

function modInverse(a, m) {
  for (let x = 1; x < m; x++) if ((a * x) % m === 1) return x;
  throw new RangeError("no inverse");
}

/**
 * Normalise typed symbols (receipts, recovery keys): NFKC, upper-case, separators removed,
 * then `length` symbols of the alphabet and the check; ReceiptError otherwise.
 */
export function normaliseSymbols(text, length) {
  if (typeof text !== "string") throw new ReceiptError("length");
  const compact = text.normalize("NFKC").toUpperCase().replace(SEPARATORS, "");
  const symbols = [...compact]; // code points, as Python counts (not UTF-16 units)
  if (symbols.length !== length) throw new ReceiptError("length");
  const values = [];
  for (const c of symbols) {
    const v = INDEX.get(c);
    if (v === undefined) throw new ReceiptError("character");
    values.push(v);
  }
  if (checkValue(values.slice(0, -1)) !== values[values.length - 1]) {
    throw new ReceiptError("check");
  }
  return compact;
}

/** Display form of canonical symbols: groups of 4 joined by "-". */
export function groupSymbols(compact) {
  return compact.match(new RegExp(`.{1,${RECEIPT_GROUP}}`, "g")).join("-");
}

/** `length` fresh symbols (the last one the check), from the CSPRNG by rejection sampling. */
export function newSymbols(length) {
  const values = [];
  const limit = 256 - (256 % BASE);
  while (values.length < length - 1) {
    for (const b of globalThis.crypto.getRandomValues(new Uint8Array(32))) {
      if (b < limit && values.length < length - 1) values.push(b % BASE);
    }
  }
  values.push(checkValue(values));
  return values.map((v) => RECEIPT_ALPHABET[v]).join("");
}

/** Canonical form: upper-case, separators removed; throws ReceiptError on a bad receipt. */
export function normaliseReceipt(text) {
  return normaliseSymbols(text, RECEIPT_LENGTH);
}

/** True when the text is a well-formed receipt (length, characters and check). */
export function isValidReceipt(text) {
  try {
    normaliseReceipt(text);
    return true;
  } catch {
    return false;
  }
}

/** Display form: groups of 4 separated by hyphens. */
export function formatReceipt(text) {
  return groupSymbols(normaliseReceipt(text));
}

/** A fresh receipt (display form), from the platform's CSPRNG with rejection sampling. */
export function generateReceipt() {
  return groupSymbols(newSymbols(RECEIPT_LENGTH));
}

async function derive(canonical, info) {
  return hkdf(utf8(canonical), SALT, utf8(info), 32);
}

/** The 32-byte lookup id (sent to the server, which stores only a keyed hash of it). */
export async function receiptLookup(text) {
  return derive(normaliseReceipt(text), "lookup");
}

/**
 * Everything the device derives from a receipt: {lookup (bytes), lookupB64u,
 * reporterPublicKey (wire text), keyPair (for opening the reporter's wrap)}.
 */
export async function deriveFromReceipt(text) {
  const canonical = normaliseReceipt(text);
  const lookup = await derive(canonical, "lookup");
  const sk = await derive(canonical, "reporter-x25519");
  const publicRaw = await x25519PublicKey(sk);
  const keyPair = await keyPairFrom(sk, encodePublicKey(publicRaw));
  sk.fill(0);
  return {
    lookup,
    lookupB64u: b64uEncode(lookup),
    reporterPublicKey: encodePublicKey(publicRaw),
    keyPair,
  };
}
