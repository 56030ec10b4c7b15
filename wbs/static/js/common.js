// Shared helpers for the page scripts: language, API calls with bilingual errors, status
// lines, small DOM builders. No third-party code; everything runs under the strict CSP.

export const lang = document.documentElement.lang === "en" ? "en" : "id";

/** Pick the text of the page language from an {id, en} pair. */
export function t(pair) {
  return lang === "en" ? pair.en : pair.id;
}

/** An error from the server (bilingual message) or from this script. */
export class PageError extends Error {
  constructor(message, { status = 0, code = "" } = {}) {
    super(message);
    this.name = "PageError";
    this.status = status;
    this.code = code;
  }
}

const NETWORK = {
  id: "Tidak dapat menghubungi server. Periksa koneksi Anda lalu coba lagi; data Anda belum terkirim.",
  en: "Cannot reach the server. Check your connection and try again; nothing was sent yet.",
};

/** fetch() that returns parsed JSON (or null for 204) and throws PageError with the server's message. */
export async function api(path, { method = "GET", json, body, headers = {}, raw = false } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers }, credentials: "same-origin" };
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    init.headers["Content-Type"] = "application/json";
  } else if (body !== undefined) {
    init.body = body;
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new PageError(t(NETWORK));
  }
  if (!response.ok) {
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    const message = data && (lang === "en" ? data.message_en : data.message_id);
    throw new PageError(message || `HTTP ${response.status}`, { status: response.status, code: data?.error ?? "" });
  }
  if (raw) return response;
  if (response.status === 204) return null;
  return response.json();
}

/** Show a message in a live region; kind: "info" | "error" | "ok". */
export function status(element, message, kind = "info") {
  if (!element) return;
  element.textContent = message;
  element.classList.toggle("alert", kind === "error");
  element.classList.toggle("ok", kind === "ok");
}

/** Create an element with text and attributes (never innerHTML). */
export function el(tag, { text, cls, attrs } = {}, ...children) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (cls) node.className = cls;
  for (const [k, v] of Object.entries(attrs ?? {})) node.setAttribute(k, v);
  for (const child of children) if (child) node.append(child);
  return node;
}

export function uuid4() {
  return globalThis.crypto.randomUUID();
}

/** A readable local time for an ISO timestamp. */
export function when(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(lang === "en" ? "en-GB" : "id-ID", { dateStyle: "medium", timeStyle: "short" });
}

/** Offer a Blob as a download (object URLs are allowed by the CSP: img/blob). */
export function downloadLink(blob, name, label) {
  const url = URL.createObjectURL(blob);
  return el("a", { text: label ?? name, attrs: { href: url, download: name } });
}

export async function loadCrypto() {
  return import("/static/crypto/wbs-crypto.js");
}

const HEX = "0123456789abcdef";

/**
 * Proof-of-work (docs/api.md): a decimal nonce such that
 * SHA-256(challenge ":" report_id ":" nonce) starts with `difficulty` zero bits.
 * Uses WebCrypto digests in parallel batches; calls onProgress(tried) now and then.
 */
export async function solvePow(challenge, reportId, difficulty, onProgress = () => {}) {
  const encoder = new TextEncoder();
  const prefix = `${challenge}:${reportId}:`;
  const full = Math.floor(difficulty / 8);
  const rest = difficulty % 8;
  const mask = rest === 0 ? 0 : (0xff << (8 - rest)) & 0xff;
  const batch = 512;
  for (let start = 0; ; start += batch) {
    const digests = await Promise.all(
      Array.from({ length: batch }, (_, i) =>
        globalThis.crypto.subtle.digest("SHA-256", encoder.encode(prefix + String(start + i))),
      ),
    );
    for (let i = 0; i < batch; i++) {
      const d = new Uint8Array(digests[i]);
      let ok = true;
      for (let j = 0; j < full && ok; j++) if (d[j] !== 0) ok = false;
      if (ok && rest && (d[full] & mask) !== 0) ok = false;
      if (ok) return String(start + i);
    }
    if (start % (batch * 64) === 0) onProgress(start);
  }
}

export function hex(bytes) {
  let out = "";
  for (const b of bytes) out += HEX[b >> 4] + HEX[b & 15];
  return out;
}

/** The label of a decrypted field (from the page's #field-labels), else its key. */
export function fieldLabel(channel, key) {
  const dt = document.querySelector(`#field-labels [data-key="${CSS.escape(`${channel}.${key}`)}"]`);
  return dt ? dt.textContent : key;
}
