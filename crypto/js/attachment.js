// Attachment streams (docs/crypto-format.md, "Attachments"): chunked AES-256-GCM with a
// 7-byte nonce prefix, a 4-byte chunk counter and a last-chunk flag, so files of any size
// are processed one chunk at a time. Truncation, reordering and splicing between files
// fail with DecryptError.

import { concat, fromUtf8, i2osp, os2ip, toBytes, utf8 } from "./encoding.js";
import { DecryptError, hkdf } from "./hpke.js";
import {
  encodeContext,
  FORMAT_VERSION,
  FormatError,
  KIND,
  LABEL,
  openBox,
  sealBox,
} from "./format.js";

const subtle = globalThis.crypto.subtle;

export const DEFAULT_CHUNK_SIZE = 65536;
/** Largest chunk size accepted from a header (guards memory when decrypting). */
export const MAX_CHUNK_SIZE = 16 * 1024 * 1024;
export const ATTACHMENT_HEADER_SIZE = 13;
const TAG = 16;
const MAX_CHUNKS = 2 ** 32;

function contextFields(ctx, attachmentId) {
  const { unit, channel, reportId } = ctx ?? {};
  for (const value of [unit, channel, reportId, attachmentId]) {
    if (typeof value !== "string" || value === "") {
      throw new FormatError("unit, channel, reportId and attachmentId are required");
    }
  }
  return [unit, channel, reportId, attachmentId];
}

async function streamKey(dataKey, attachmentId, usages) {
  const dk = toBytes(dataKey);
  if (dk.length !== 32) throw new FormatError("data key must be 32 bytes");
  const info = concat(utf8(LABEL.attachment), utf8(attachmentId));
  const raw = await hkdf(dk, new Uint8Array(0), info, 32);
  return subtle.importKey("raw", raw, { name: "AES-GCM" }, false, usages);
}

class ChunkCipher {
  #key;
  #prefix;
  #aad;
  #counter = 0;
  #finished = false;

  constructor(key, prefix, aad) {
    this.#key = key;
    this.#prefix = prefix;
    this.#aad = aad;
  }

  get finished() {
    return this.#finished;
  }

  #nonce(last) {
    if (this.#finished) throw new FormatError("stream already finished");
    if (this.#counter >= MAX_CHUNKS) throw new FormatError("too many chunks");
    const nonce = concat(this.#prefix, i2osp(this.#counter, 4), new Uint8Array([last ? 1 : 0]));
    this.#counter += 1;
    if (last) this.#finished = true;
    return nonce;
  }

  async encrypt(chunk, last) {
    const iv = this.#nonce(last);
    const params = { name: "AES-GCM", iv, additionalData: this.#aad };
    return new Uint8Array(await subtle.encrypt(params, this.#key, chunk));
  }

  async decrypt(chunk, last) {
    const iv = this.#nonce(last);
    try {
      const params = { name: "AES-GCM", iv, additionalData: this.#aad };
      return new Uint8Array(await subtle.decrypt(params, this.#key, chunk));
    } catch {
      this.#finished = true;
      throw new DecryptError();
    }
  }
}

/**
 * Start encrypting an attachment: {header, chunkSize, encryptChunk(plaintext, last)}.
 * Feed chunks of exactly chunkSize bytes, the final one (flag last=true) may be shorter.
 */
export async function createAttachmentEncryptor(
  dataKey,
  ctx,
  attachmentId,
  { chunkSize = DEFAULT_CHUNK_SIZE } = {},
) {
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) {
    throw new FormatError("bad chunk size");
  }
  const fields = contextFields(ctx, attachmentId);
  const prefix = globalThis.crypto.getRandomValues(new Uint8Array(7));
  const kind = new Uint8Array([FORMAT_VERSION, KIND.attachmentStream]);
  const header = concat(kind, prefix, i2osp(chunkSize, 4));
  const aad = concat(header, encodeContext(LABEL.attachment, ...fields));
  const cipher = new ChunkCipher(await streamKey(dataKey, attachmentId, ["encrypt"]), prefix, aad);
  return {
    header,
    chunkSize,
    async encryptChunk(plaintext, last) {
      const chunk = toBytes(plaintext);
      if (chunk.length > chunkSize || (!last && chunk.length !== chunkSize)) {
        throw new FormatError("only the last chunk may be shorter than chunkSize");
      }
      return cipher.encrypt(chunk, last);
    },
  };
}

/** Parse a stream header: {chunkSize}; DecryptError when it is not a v1 attachment stream. */
export function parseAttachmentHeader(header) {
  const h = toBytes(header);
  const ok = h.length === ATTACHMENT_HEADER_SIZE && h[0] === FORMAT_VERSION;
  if (!ok || h[1] !== KIND.attachmentStream) {
    throw new DecryptError();
  }
  const chunkSize = os2ip(h.subarray(9, 13));
  if (chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) throw new DecryptError();
  return { chunkSize, prefix: h.slice(2, 9) };
}

/**
 * Start decrypting: {chunkSize, cipherChunkSize, decryptChunk(ciphertext, last)}. Each
 * ciphertext chunk is cipherChunkSize bytes except the last; `last` is true for the chunk
 * that ends the stream.
 */
export async function createAttachmentDecryptor(dataKey, ctx, attachmentId, header) {
  const fields = contextFields(ctx, attachmentId);
  const h = toBytes(header).slice();
  const { chunkSize, prefix } = parseAttachmentHeader(h);
  const aad = concat(h, encodeContext(LABEL.attachment, ...fields));
  const cipher = new ChunkCipher(await streamKey(dataKey, attachmentId, ["decrypt"]), prefix, aad);
  const cipherChunkSize = chunkSize + TAG;
  return {
    chunkSize,
    cipherChunkSize,
    async decryptChunk(ciphertext, last) {
      const chunk = toBytes(ciphertext);
      const n = chunk.length;
      if (n < TAG || n > cipherChunkSize || (!last && n !== cipherChunkSize)) {
        throw new DecryptError();
      }
      return cipher.decrypt(chunk, last);
    },
  };
}

// ---------------------------------------------------------------- byte sources

/** Async iterator of Uint8Array pieces from a Blob, ReadableStream, bytes or async iterable. */
async function* pieces(source, readSize) {
  if (typeof Blob !== "undefined" && source instanceof Blob) {
    for (let offset = 0; offset < source.size; offset += readSize) {
      yield new Uint8Array(await source.slice(offset, offset + readSize).arrayBuffer());
    }
  } else if (typeof ReadableStream !== "undefined" && source instanceof ReadableStream) {
    const reader = source.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        yield toBytes(value);
      }
    } finally {
      reader.releaseLock();
    }
  } else if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) {
    const bytes = toBytes(source);
    for (let offset = 0; offset < bytes.length; offset += readSize) {
      yield bytes.subarray(offset, offset + readSize);
    }
  } else if (source && (Symbol.asyncIterator in source || Symbol.iterator in source)) {
    for await (const piece of source) yield toBytes(piece);
  } else {
    throw new TypeError("expected a Blob, ReadableStream, bytes or an iterable of bytes");
  }
}

/** Regroup a byte source into pieces of exactly `size` bytes; yields [piece, isLast]. */
async function* regroup(source, size, readSize) {
  let buffer = new Uint8Array(0);
  let pending = null; // a full piece held back until we know whether more data follows
  for await (const piece of pieces(source, readSize)) {
    buffer = buffer.length ? concat(buffer, piece) : piece;
    while (buffer.length >= size) {
      if (pending !== null) yield [pending, false];
      pending = buffer.slice(0, size);
      buffer = buffer.subarray(size);
    }
    if (buffer.length > 0 && pending !== null) {
      yield [pending, false];
      pending = null;
    }
  }
  if (buffer.length > 0) {
    if (pending !== null) yield [pending, false];
    yield [buffer.slice(), true];
  } else if (pending !== null) {
    yield [pending, true];
  } else {
    yield [new Uint8Array(0), true];
  }
}

/**
 * Encrypt a whole source chunk by chunk; yields the header, then each ciphertext chunk.
 * Memory stays at a few chunks whatever the size.
 */
export async function* encryptAttachmentChunks(dataKey, ctx, attachmentId, source, options = {}) {
  const enc = await createAttachmentEncryptor(dataKey, ctx, attachmentId, options);
  yield enc.header;
  for await (const [chunk, last] of regroup(source, enc.chunkSize, enc.chunkSize)) {
    yield await enc.encryptChunk(chunk, last);
  }
}

/** Decrypt a stream (header + chunks) piece by piece; yields plaintext chunks. */
export async function* decryptAttachmentChunks(dataKey, ctx, attachmentId, source) {
  let headerBuf = new Uint8Array(0);
  let rest = [];
  const iterator = pieces(source, DEFAULT_CHUNK_SIZE + TAG)[Symbol.asyncIterator]();
  while (headerBuf.length < ATTACHMENT_HEADER_SIZE) {
    const { done, value } = await iterator.next();
    if (done) throw new DecryptError();
    headerBuf = concat(headerBuf, value);
  }
  rest = headerBuf.subarray(ATTACHMENT_HEADER_SIZE);
  const header = headerBuf.subarray(0, ATTACHMENT_HEADER_SIZE);
  const dec = await createAttachmentDecryptor(dataKey, ctx, attachmentId, header);
  async function* remaining() {
    if (rest.length) yield rest;
    for (;;) {
      const { done, value } = await iterator.next();
      if (done) return;
      yield value;
    }
  }
  const size = dec.cipherChunkSize;
  for await (const [chunk, last] of regroup(remaining(), size, size)) {
    yield await dec.decryptChunk(chunk, last);
  }
}

/** Encrypt to a Blob (header and ciphertext chunks as Blob parts). */
export async function encryptAttachment(dataKey, ctx, attachmentId, source, options = {}) {
  const parts = [];
  for await (const piece of encryptAttachmentChunks(dataKey, ctx, attachmentId, source, options)) {
    parts.push(piece);
  }
  return new Blob(parts, { type: "application/octet-stream" });
}

/** Decrypt a stream (Blob, bytes, ReadableStream) to a Blob of the given content type. */
export async function decryptAttachment(dataKey, ctx, attachmentId, source, { type = "" } = {}) {
  const parts = [];
  for await (const piece of decryptAttachmentChunks(dataKey, ctx, attachmentId, source)) {
    parts.push(piece);
  }
  return new Blob(parts, { type });
}

// ---------------------------------------------------------------- metadata box

/** File name and content type, sealed in a box of kind 0x06 bound to the attachment id. */
export async function sealAttachmentMetadata(dataKey, ctx, attachmentId, metadata) {
  const fields = contextFields(ctx, attachmentId);
  const { name, contentType } = metadata ?? {};
  if (typeof name !== "string" || typeof contentType !== "string") {
    throw new FormatError("name and contentType are required");
  }
  const body = utf8(JSON.stringify({ name, content_type: contentType }));
  return sealBox(dataKey, KIND.attachmentMetadata, LABEL.attachment, fields, body);
}

export async function openAttachmentMetadata(dataKey, ctx, attachmentId, box) {
  const fields = contextFields(ctx, attachmentId);
  const pt = await openBox(dataKey, KIND.attachmentMetadata, LABEL.attachment, fields, box);
  let parsed;
  try {
    parsed = JSON.parse(fromUtf8(pt));
  } catch {
    throw new DecryptError();
  }
  if (typeof parsed?.name !== "string" || typeof parsed?.content_type !== "string") {
    throw new DecryptError();
  }
  return { name: parsed.name, contentType: parsed.content_type };
}
