// Byte helpers shared by the wbs browser crypto modules (no dependencies, no DOM).
//
// Everything works on Uint8Array. Base64url is without padding, base32 is RFC 4648
// (upper-case alphabet, decoded case-insensitively), hex is lower-case.

const TEXT_ENCODER = new TextEncoder();
const TEXT_DECODER = new TextDecoder("utf-8", { fatal: true });

/** UTF-8 bytes of a string. */
export function utf8(text) {
  return TEXT_ENCODER.encode(text);
}

/** String from UTF-8 bytes; throws on malformed input. */
export function fromUtf8(bytes) {
  return TEXT_DECODER.decode(bytes);
}

/** Copy any BufferSource (ArrayBuffer, view) into a fresh Uint8Array. */
export function toBytes(data) {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  throw new TypeError("expected bytes");
}

/** Concatenate byte arrays. */
export function concat(...parts) {
  let total = 0;
  for (const part of parts) total += part.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Big-endian unsigned integer of `length` bytes (I2OSP). */
export function i2osp(value, length) {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError("bad integer");
  const out = new Uint8Array(length);
  let rest = value;
  for (let i = length - 1; i >= 0; i--) {
    out[i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  if (rest !== 0) throw new RangeError("integer too large");
  return out;
}

/** Big-endian unsigned integer from bytes (at most 6 bytes). */
export function os2ip(bytes) {
  if (bytes.length > 6) throw new RangeError("integer too large");
  let value = 0;
  for (const b of bytes) value = value * 256 + b;
  return value;
}

/** Constant-time equality of two byte arrays (length is not secret). */
export function bytesEqual(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

export function toHex(bytes) {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

export function fromHex(text) {
  if (text.length % 2 !== 0 || /[^0-9a-fA-F]/.test(text)) throw new TypeError("bad hex");
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const B64U = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const B64U_INDEX = new Map([...B64U].map((c, i) => [c, i]));

/** Base64url without padding. */
export function b64uEncode(bytes) {
  let out = "";
  let i = 0;
  for (; i + 3 <= bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += B64U[n >> 18] + B64U[(n >> 12) & 63] + B64U[(n >> 6) & 63] + B64U[n & 63];
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i] << 16;
    out += B64U[n >> 18] + B64U[(n >> 12) & 63];
  } else if (rest === 2) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += B64U[n >> 18] + B64U[(n >> 12) & 63] + B64U[(n >> 6) & 63];
  }
  return out;
}

/** Strict base64url decoding (no padding, no whitespace, canonical trailing bits). */
export function b64uDecode(text) {
  if (typeof text !== "string" || text.length % 4 === 1) throw new TypeError("bad base64url");
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let acc = 0;
  let bits = 0;
  let j = 0;
  for (const c of text) {
    const v = B64U_INDEX.get(c);
    if (v === undefined) throw new TypeError("bad base64url");
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[j++] = (acc >> bits) & 0xff;
    }
  }
  if ((acc & ((1 << bits) - 1)) !== 0) throw new TypeError("bad base64url");
  return out;
}

const B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** RFC 4648 base32 without padding (upper-case). */
export function b32Encode(bytes) {
  let out = "";
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = ((acc << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += B32[(acc >> bits) & 31];
    }
  }
  if (bits > 0) out += B32[(acc << (5 - bits)) & 31];
  return out;
}
