// Report form, browser path: verify the unit's signed key directory, encrypt the fields, the
// identity and the attachments with the wbs crypto module, solve the proof-of-work, and post
// only ciphertext. Without this script the form posts normally (server-sealed path).

import { api, el, lang, loadCrypto, PageError, solvePow, status, t, uuid4 } from "./common.js";
import { receiptTools } from "./receipt-tools.js";
import { stripImage } from "./images.js";

const TEXT = {
  checking: { id: "Memeriksa kunci unit…", en: "Checking the unit's keys…" },
  verified: {
    id: "Kunci unit terverifikasi. Laporan akan dienkripsi di perangkat Anda. Sidik jari kunci unit: ",
    en: "Unit keys verified. Your report will be encrypted on this device. Unit key fingerprint: ",
  },
  noDirectory: {
    id: "Kunci unit tidak dapat diverifikasi, sehingga laporan tidak dikirim dari peramban. Anda tetap dapat mengirim: matikan JavaScript atau hubungi unit. Rincian: ",
    en: "The unit's keys could not be verified, so the browser will not send the report. Turn JavaScript off to send it server-sealed, or contact the unit. Details: ",
  },
  encrypting: { id: "Mengenkripsi laporan…", en: "Encrypting the report…" },
  cleaning: { id: "Membersihkan data tersembunyi foto…", en: "Removing hidden data from photos…" },
  attaching: { id: "Mengenkripsi lampiran ", en: "Encrypting attachment " },
  working: { id: "Menyelesaikan tantangan anti-spam…", en: "Solving the anti-spam challenge…" },
  sending: { id: "Mengirim data terenkripsi…", en: "Sending the encrypted data…" },
  sent: { id: "Laporan terkirim. Simpan tanda terima di bawah.", en: "Report sent. Keep the receipt below." },
  noneLeft: {
    id: "Minimal satu petugas harus tetap menerima laporan. Kurangi petugas yang dikecualikan.",
    en: "At least one officer must receive the report. Exclude fewer officers.",
  },
  tooMany: { id: "Terlalu banyak berkas (maks. ", en: "Too many files (at most " },
  tooLarge: { id: "Berkas terlalu besar: ", en: "File too large: " },
  tooLargeTotal: { id: "Total berkas terlalu besar.", en: "The files are too large in total." },
  proofBad: {
    id: "Peringatan: bukti pengiriman dari server tidak valid. Simpan nomor dan tanda terima, lalu hubungi unit.",
    en: "Warning: the server's proof of submission is not valid. Keep the number and receipt and contact the unit.",
  },
  stripped: { id: " (data tersembunyi foto dibersihkan)", en: " (hidden photo data removed)" },
  storedBefore: {
    id: "Pengiriman pertama Anda sudah tersimpan, meskipun jawabannya tidak sampai ke perangkat ini. Laporan tidak tercatat dua kali. Nomor laporan dapat dilihat di kotak surat dengan tanda terima di bawah.",
    en: "Your first send was stored, although its answer did not reach this device. The report was not recorded twice. The case number is in the mailbox: open it with the receipt below.",
  },
  numberInMailbox: { id: "lihat kotak surat", en: "see the mailbox" },
};

// A resent submission that the server already holds (wbs/reporting/service.py).
const STORED = ["report_already_sent", "receipt_in_use"];

const form = document.getElementById("report-form");
const state = document.getElementById("crypto-state");
const statusLine = document.getElementById("submit-status");
const button = document.getElementById("submit-button");

let wbs = null;
let verified = null;

async function prepare() {
  state.hidden = false;
  status(state, t(TEXT.checking));
  wbs = await loadCrypto();
  const unit = form.dataset.unit;
  const signed = await api(`/api/v1/units/${encodeURIComponent(unit)}/directory`);
  verified = await wbs.verifyDirectory(signed, { unit });
  // The fingerprint shown is computed here from the key that verified the directory, with
  // the poster's algorithm; the `fingerprint` string in the server's answer is never used.
  verified.fingerprint = await wbs.signingKeyFingerprint(verified.publicKey);
  syncOfficers();
  status(state, t(TEXT.verified), "ok");
  state.append(el("code", { text: verified.fingerprint, cls: "fingerprint", attrs: { id: "unit-fingerprint" } }));
  form.dataset.js = "ready";
}

/** The exclusion list shows exactly the recipients of the verified directory, each with the
 * fingerprint computed from its verified key (not the one the server rendered). */
function syncOfficers() {
  const recipients = verified.channels[form.dataset.channel] ?? [];
  const byKeyId = new Map(recipients.map((r) => [r.keyId, r]));
  for (const box of form.querySelectorAll("input[name=kecualikan]")) {
    const recipient = byKeyId.get(box.value);
    if (!recipient) {
      box.closest("li").remove();
      continue;
    }
    const shown = box.closest("li").querySelector(".fingerprint");
    if (shown) shown.textContent = recipient.fingerprint;
  }
}

function collect(section) {
  const out = {};
  for (const input of form.querySelectorAll(`[data-section=${section}]`)) {
    const value = input.value.replace(/\r\n/g, "\n").trim();
    if (value) out[input.dataset.key] = value;
  }
  return out;
}

function chosenFiles() {
  const input = form.querySelector("input[type=file]");
  const files = [...(input?.files ?? [])];
  const maxFiles = Number(form.dataset.maxFiles);
  const maxBytes = Number(form.dataset.maxFileBytes);
  const maxTotal = Number(form.dataset.maxTotalBytes);
  if (files.length > maxFiles) throw new PageError(`${t(TEXT.tooMany)}${maxFiles}).`);
  let total = 0;
  for (const f of files) {
    if (f.size > maxBytes) throw new PageError(t(TEXT.tooLarge) + f.name);
    total += f.size;
  }
  if (total > maxTotal) throw new PageError(t(TEXT.tooLargeTotal));
  return files;
}

async function submit(event) {
  event.preventDefault();
  if (!form.reportValidity()) return;
  if (!verified) return;
  button.disabled = true;
  try {
    await send();
  } catch (err) {
    status(statusLine, err instanceof PageError ? err.message : `${err.name}: ${err.message}`, "error");
    button.disabled = false;
  }
}

// The sealed submission of the last press of "Kirim". A send that failed (a network error, or
// 502/503/504 while the report may have been stored) is sent again as it is, with a fresh
// proof of work, so that the server sees the same report id and stores one case at most;
// once the form changes it is sealed anew (a new report id).
let sealed = null;

/** What the reporter chose, as one string: equal strings mean an unchanged form. */
function formState() {
  const files = [...(form.querySelector("input[type=file]")?.files ?? [])];
  return JSON.stringify({
    version: verified.version,
    content: collect("content"),
    identity: collect("identity"),
    excluded: [...form.querySelectorAll("input[name=kecualikan]:checked")].map((b) => b.value),
    files: files.map((f) => [f.name, f.size, f.lastModified, f.type]),
  });
}

async function seal(current) {
  const unit = form.dataset.unit;
  const channel = form.dataset.channel;
  const excluded = [...form.querySelectorAll("input[name=kecualikan]:checked")].map((b) => b.value);
  const recipients = (verified.channels[channel] ?? []).filter((r) => !excluded.includes(r.keyId));
  if (recipients.length === 0) throw new PageError(t(TEXT.noneLeft));
  const files = chosenFiles();
  const content = collect("content");
  const identityFields = collect("identity");
  const identity = Object.keys(identityFields).length ? identityFields : null;

  status(statusLine, t(TEXT.encrypting));
  const receipts = receiptTools(wbs);
  const receipt = receipts.generate();
  const reporter = await receipts.derive(receipt);
  const reportId = uuid4();
  const { envelope, dataKey } = await wbs.sealReport({
    unit,
    channel,
    reportId,
    content,
    identity,
    recipients: recipients.map((r) => r.publicKey),
    reporterKey: reporter.publicKey,
    // With custodians in the verified directory the identity gets its own key, wrapped to
    // them only (envelope v2): no officer holding the report's key can open it.
    identityRecipients: verified.custodians?.length ? verified.custodians.map((c) => c.publicKey) : null,
  });
  const ctx = { unit, channel, reportId };
  const attachments = [];
  const parts = [];
  try {
    for (const [i, original] of files.entries()) {
      status(statusLine, t(TEXT.cleaning));
      const { blob, stripped } = await stripImage(original);
      status(statusLine, `${t(TEXT.attaching)}${i + 1}/${files.length}…`);
      const id = uuid4();
      const metadata = await wbs.sealAttachmentMetadata(dataKey, ctx, id, {
        name: original.name,
        contentType: blob.type || original.type || "application/octet-stream",
      });
      const stream = await wbs.encryptAttachment(dataKey, ctx, id, blob);
      attachments.push({ id, metadata: wbs.encoding.b64uEncode(metadata), size: stream.size });
      parts.push([id, stream, stripped]);
    }
  } finally {
    dataKey.fill(0);
  }
  const submission = {
    envelope,
    lookup: wbs.encoding.b64uEncode(reporter.lookup),
    excluded,
    attachments,
    directory_version: verified.version,
  };
  return { state: current, reportId, receipt, submission, parts };
}

async function send() {
  const current = formState();
  if (!sealed || sealed.state !== current) sealed = await seal(current);
  const { reportId, receipt, submission, parts } = sealed;

  status(statusLine, t(TEXT.working));
  const challenge = await api("/api/v1/pow");
  const nonce = await solvePow(challenge.challenge, reportId, challenge.difficulty);
  const body = { ...submission, pow: { challenge: challenge.challenge, nonce } };
  status(statusLine, t(TEXT.sending));
  const retry = sealed.posted === true;
  sealed.posted = true;
  let result;
  try {
    if (parts.length) {
      const data = new FormData();
      data.append("submission", JSON.stringify(body));
      for (const [id, stream] of parts) data.append("attachment", stream, id);
      result = await api("/api/v1/reports", { method: "POST", body: data });
    } else {
      result = await api("/api/v1/reports", { method: "POST", json: body });
    }
  } catch (err) {
    // Resent unchanged, the report id (or the receipt) is already stored: the first send
    // arrived though its answer was lost. The reporter keeps this receipt.
    if (retry && err instanceof PageError && err.status === 409 && STORED.includes(err.code)) {
      sealed = null;
      showReceipt(null, receipt, true, parts.some((p) => p[2]));
      return;
    }
    throw err;
  }
  sealed = null;
  let proofOk = true;
  try {
    const facts = await wbs.verifyProof(result.proof, { envelope: submission.envelope });
    // Proof v2 signs the audit tree-head key: its fingerprint, for the reporter to compare
    // with the one the mailbox page shows.
    if (facts.auditPublicKey) {
      result.auditKeyFingerprint = await wbs.signingKeyFingerprint(wbs.encoding.fromHex(facts.auditPublicKey));
    }
  } catch {
    proofOk = false;
  }
  showReceipt(result, receipt, proofOk, parts.some((p) => p[2]));
}

/** The receipt page; `result` null: stored by an earlier send whose answer was lost. */
function showReceipt(result, receipt, proofOk, stripped) {
  const section = document.getElementById("receipt");
  const number = section.querySelector("[data-slot=case_number]");
  section.querySelector("[data-slot=receipt]").textContent = receipt;
  if (result) {
    number.textContent = result.case_number;
    section.querySelector("[data-slot=proof]").textContent = JSON.stringify(result.proof, null, 2);
    section.querySelector("[data-slot=audit_key]").textContent = result.auditKeyFingerprint ?? "";
  } else {
    number.textContent = t(TEXT.numberInMailbox);
    section.querySelector("[data-slot=proof]").closest("details").hidden = true;
    const note = el("p", { text: t(TEXT.storedBefore), cls: "alert", attrs: { role: "note", id: "stored-before" } });
    section.querySelector("h2").after(note);
  }
  section.querySelector("[data-slot=path-browser]").hidden = false;
  section.querySelector("[data-slot=path-server]").hidden = true;
  if (stripped) section.querySelector("[data-slot=path-browser]").append(t(TEXT.stripped));
  if (!proofOk) section.prepend(el("p", { text: t(TEXT.proofBad), cls: "alert", attrs: { role: "alert" } }));
  form.reset();
  form.hidden = true;
  state.hidden = true;
  section.hidden = false;
  section.dataset.ready = "yes";
  section.focus();
  const print = section.querySelector(".print-button");
  print.hidden = false;
  print.addEventListener("click", () => window.print());
}

if (form) {
  form.addEventListener("submit", submit);
  prepare().catch((err) => {
    const detail = err instanceof PageError ? err.message : err.name;
    status(state, t(TEXT.noDirectory) + detail, "error");
    button.disabled = true;
    form.dataset.js = "failed";
  });
  document.documentElement.dataset.lang = lang;
}
