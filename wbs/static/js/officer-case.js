// Officer case page: unlock the device key, fetch the case as ciphertext, decrypt it here,
// reply to the reporter, write internal notes, take workflow actions, add a colleague.

import { api, el, fieldLabel, PageError, status, t, uuid4, when } from "./common.js";
import { attachmentButton, postMessage, renderMessages, sealFiles } from "./thread.js";
import { stripImage } from "./images.js";
import { whenUnlocked } from "./staff-keys.js";

const TEXT = {
  opening: { id: "Membuka kunci dan laporan…", en: "Unlocking the key and the report…" },
  reporter: { id: "Pelapor", en: "Reporter" },
  officer: { id: "Petugas", en: "Officer" },
  none: { id: "Belum ada.", en: "None yet." },
  identity: {
    id: "Pelapor mencantumkan identitas. Identitas dienkripsi terpisah dan hanya dibuka melalui petugas penjaga identitas.",
    en: "The reporter gave an identity. It is encrypted separately and released only through the identity custodian.",
  },
  sending: { id: "Mengenkripsi dan mengirim…", en: "Encrypting and sending…" },
  sent: { id: "Terkirim.", en: "Sent." },
  added: { id: "Rekan ditambahkan sebagai penerima.", en: "Colleague added as a recipient." },
  cannot: { id: "Laporan tidak dapat dibuka dengan kunci ini.", en: "The report cannot be opened with this key." },
  requested: { id: "Permintaan Anda menunggu keputusan penjaga identitas.", en: "Your request is waiting for the custodian's decision." },
  released: { id: "Identitas dibuka untuk Anda atas persetujuan penjaga identitas.", en: "The identity was released to you by the custodian." },
  denied: { id: "Permintaan Anda ditolak: ", en: "Your request was denied: " },
  badRelease: { id: "Identitas yang dilepas tidak dapat dibuka dengan kunci ini.", en: "The released identity cannot be opened with this key." },
};

const root = document.getElementById("case-root");
const reportId = root?.dataset.reportId;
let s = null; // {wbs, keyPair, keyId, me, dataKey, ctx}

function errorText(err) {
  return err instanceof PageError ? err.message : `${err.name}: ${err.message}`;
}

async function load() {
  const { wbs } = s;
  const data = await api(`/api/v1/cases/${reportId}`);
  let opened;
  try {
    opened = await wbs.openReport(data.envelope, s.keyPair, { identity: false });
  } catch {
    throw new PageError(t(TEXT.cannot));
  }
  s.dataKey = opened.dataKey;
  s.ctx = { unit: data.envelope.unit, channel: data.envelope.channel, reportId: data.envelope.report_id };
  s.data = data;
  const view = document.getElementById("case-view");
  const slot = (name) => view.querySelector(`[data-slot=${name}]`);
  const fields = slot("fields");
  fields.replaceChildren();
  for (const [k, v] of Object.entries(opened.content)) fields.append(el("dt", { text: fieldLabel(s.ctx.channel, k) }), el("dd", { text: v, cls: "pre" }));
  slot("identity").textContent = data.has_identity ? t(TEXT.identity) : "";
  document.getElementById("identity-panel").hidden = !data.has_identity;
  if (data.has_identity) await identity();

  const files = slot("attachments");
  files.replaceChildren();
  for (const a of data.attachments.filter((x) => !x.message_id)) {
    files.append(el("li", {}, await attachmentButton(wbs, s.dataKey, s.ctx, a, `/api/v1/cases/${reportId}/attachments/${a.id}`)));
  }
  if (!files.children.length) files.append(el("li", { text: t(TEXT.none), cls: "secondary" }));

  const labels = { officer: TEXT.officer, reporter: TEXT.reporter };
  await renderMessages(wbs, s.dataKey, s.ctx, slot("messages"), data, labels, (id) => `/api/v1/cases/${reportId}/attachments/${id}`);

  const notes = slot("notes");
  notes.replaceChildren();
  for (const n of data.notes) {
    let text;
    try {
      text = await wbs.openNote(s.dataKey, s.ctx, { authorKeyId: n.author_key_id, noteId: n.id }, wbs.encoding.b64uDecode(n.box));
    } catch {
      text = "⚠";
    }
    notes.append(el("li", { cls: "note" }, el("p", { cls: "who", text: `${n.author} · ${when(n.at)}` }), el("p", { cls: "pre", text })));
  }
  if (!data.notes.length) notes.append(el("li", { text: t(TEXT.none), cls: "secondary" }));

  const recipients = slot("recipients");
  recipients.replaceChildren();
  for (const r of data.recipients) recipients.append(el("li", { text: `${r.name ?? ""} ${r.email ? `<${r.email}>` : ""}`.trim() || r.key_id }));
  await colleagues();
  view.hidden = false;
  view.dataset.ready = "yes";
}

/** The officer's identity request for this case, and the identity once it is released:
 * v2 opens with the wrap the custodian's device made for this key, v1 with the data key. */
async function identity() {
  const requests = await api(`/api/v1/cases/${reportId}/identity-requests`);
  const latest = requests[0];
  const line = document.getElementById("identity-state");
  const form = document.getElementById("identity-form");
  form.hidden = Boolean(latest && latest.state !== "denied");
  line.textContent = "";
  if (!latest) return;
  if (latest.state === "requested") line.textContent = t(TEXT.requested);
  if (latest.state === "denied") line.textContent = t(TEXT.denied) + (latest.decision_note ?? "");
  if (latest.state !== "approved") return;
  const released = await api(`/api/v1/cases/${reportId}/identity`);
  let fields;
  try {
    fields =
      released.wrap === null
        ? (await s.wbs.openReport(released.envelope, s.keyPair)).identity
        : await s.wbs.openReleasedIdentity(released.envelope, released.wrap, s.keyPair);
  } catch {
    throw new PageError(t(TEXT.badRelease));
  }
  const list = document.getElementById("identity-fields");
  list.replaceChildren();
  for (const [k, v] of Object.entries(fields ?? {})) list.append(el("dt", { text: fieldLabel(s.ctx.channel, k) }), el("dd", { text: v, cls: "pre" }));
  list.hidden = false;
  line.textContent = t(TEXT.released);
}

async function requestIdentity(event) {
  event.preventDefault();
  const form = event.target;
  if (!form.reportValidity()) return;
  const json = { reason: document.getElementById("identity-reason").value, note: document.getElementById("identity-note").value.trim() || null };
  await api(`/api/v1/cases/${reportId}/identity-requests`, { method: "POST", json, headers: csrf() });
  form.reset();
  await identity();
}

/** Offer only colleagues whose key is in the unit's verified signed directory. */
async function colleagues() {
  const select = document.getElementById("colleague-select");
  const form = document.getElementById("colleague-form");
  if (!s.directory) {
    const signed = await api(`/api/v1/units/${encodeURIComponent(s.ctx.unit)}/directory`);
    s.directory = await s.wbs.verifyDirectory(signed, { unit: s.ctx.unit });
  }
  const keys = new Set(Object.values(s.directory.channels).flat().map((r) => r.publicKey));
  let offered = 0;
  for (const option of [...select.options].slice(1)) {
    const ok = keys.has(option.dataset.publicKey);
    option.hidden = !ok;
    option.disabled = !ok;
    if (ok) offered += 1;
  }
  form.hidden = offered === 0;
}

function csrf() {
  return { "X-CSRF-Token": s.me.csrf_token };
}

async function reply(event) {
  event.preventDefault();
  const form = event.target;
  const line = document.getElementById("reply-status");
  status(line, t(TEXT.sending));
  const id = uuid4();
  const text = document.getElementById("reply-text").value.replace(/\r\n/g, "\n").trim();
  const box = await s.wbs.sealMessage(s.dataKey, s.ctx, { senderRole: "officer", messageId: id, text });
  const files = document.getElementById("reply-files").files;
  const { attachments, parts } = await sealFiles(s.wbs, s.dataKey, s.ctx, files, stripImage);
  const message = { id, box: s.wbs.encoding.b64uEncode(box), attachments };
  await postMessage(`/api/v1/cases/${reportId}/messages`, "message", message, parts, csrf());
  form.reset();
  await load();
  status(line, t(TEXT.sent), "ok");
}

async function note(event) {
  event.preventDefault();
  const form = event.target;
  const line = document.getElementById("note-status");
  status(line, t(TEXT.sending));
  const id = uuid4();
  const text = document.getElementById("note-text").value.replace(/\r\n/g, "\n").trim();
  const box = await s.wbs.sealNote(s.dataKey, s.ctx, { authorKeyId: s.keyId, noteId: id, text });
  await api(`/api/v1/cases/${reportId}/notes`, { method: "POST", json: { id, box: s.wbs.encoding.b64uEncode(box) }, headers: csrf() });
  form.reset();
  await load();
  status(line, t(TEXT.sent), "ok");
}

/** A workflow action: facts as typed, and the message to the reporter encrypted here. */
async function takeAction(event) {
  event.preventDefault();
  const form = event.target;
  if (!form.reportValidity()) return;
  const line = form.querySelector(".status");
  status(line, t(TEXT.sending));
  const facts = {};
  for (const input of form.querySelectorAll("[name^='fact:']")) {
    const value = input.value.trim();
    if (!value) continue;
    facts[input.name.slice(5)] = input.dataset.boolean ? value === "true" : value;
  }
  const body = { action: form.dataset.action, expected_state: form.dataset.expected, facts };
  const text = form.querySelector("textarea[name=message]")?.value.replace(/\r\n/g, "\n").trim();
  if (text) {
    const id = uuid4();
    const box = await s.wbs.sealMessage(s.dataKey, s.ctx, { senderRole: "officer", messageId: id, text });
    body.message = { id, box: s.wbs.encoding.b64uEncode(box) };
  }
  await api(`/api/v1/cases/${reportId}/actions`, { method: "POST", json: body, headers: csrf() });
  window.location.reload();
}

async function addColleague(event) {
  event.preventDefault();
  const select = document.getElementById("colleague-select");
  const option = select.selectedOptions[0];
  if (!option || !option.value) return;
  const wrap = await s.wbs.addRecipient(s.data.envelope, s.dataKey, option.dataset.publicKey);
  await api(`/api/v1/cases/${reportId}/recipients`, {
    method: "POST",
    json: { staff_id: Number(option.value), wrap },
    headers: csrf(),
  });
  option.remove();
  await load();
  status(document.getElementById("colleague-status"), t(TEXT.added), "ok");
}

function guard(handler, lineId) {
  return (event) => {
    handler(event).catch((err) => {
      event.preventDefault();
      status(document.getElementById(lineId), errorText(err), "error");
    });
  };
}

if (root) {
  whenUnlocked(async (session) => {
    s = session;
    await load();
    document.getElementById("case-view").focus();
  }, TEXT.opening);
  document.getElementById("reply-form").addEventListener("submit", guard(reply, "reply-status"));
  document.getElementById("note-form").addEventListener("submit", guard(note, "note-status"));
  for (const form of document.querySelectorAll(".action-form")) {
    form.addEventListener("submit", (event) => {
      takeAction(event).catch((err) => status(form.querySelector(".status"), errorText(err), "error"));
    });
  }
  document.getElementById("colleague-form").addEventListener("submit", guard(addColleague, "colleague-status"));
  document.getElementById("identity-form").addEventListener("submit", guard(requestIdentity, "identity-status"));
}
