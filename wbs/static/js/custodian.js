// Custodian page: unlock the device key, list the unit's open identity requests, and decide.
// Approving a v2 report happens here: the identity key is unwrapped from this custodian's
// own identity wrap, checked against the report's commitment and identity box, and wrapped
// again to the requester's approved key only (after checking that key is in the unit's
// verified signed directory). The server never sees the identity key.

import { api, el, PageError, status, t, when } from "./common.js";
import { whenUnlocked } from "./staff-keys.js";

const TEXT = {
  opening: { id: "Membuka kunci…", en: "Unlocking the key…" },
  approving: { id: "Membungkus ulang kunci identitas di perangkat ini…", en: "Re-wrapping the identity key on this device…" },
  approved: { id: "Disetujui. Identitas dibuka hanya untuk peminta.", en: "Approved. The identity is open to the requester only." },
  denied: { id: "Ditolak.", en: "Denied." },
  noKey: {
    id: "Kunci peminta tidak lagi disetujui; peminta harus meminta ulang.",
    en: "The requester's key is no longer approved; they must ask again.",
  },
  notListed: {
    id: "Kunci peminta tidak tercantum dalam direktori unit yang ditandatangani. Jangan setujui.",
    en: "The requester's key is not in the unit's signed directory. Do not approve.",
  },
  noWrap: {
    id: "Kunci perangkat Anda tidak menerima kunci identitas laporan ini.",
    en: "Your device key did not receive this report's identity key.",
  },
  v1: {
    id: "Laporan versi 1: identitas dibuka oleh server untuk peminta saja.",
    en: "Version 1 report: the server releases the identity to the requester only.",
  },
};

const root = document.getElementById("custodian-root");
let s = null; // {wbs, keyPair, me, directory}

function errorText(err) {
  return err instanceof PageError ? err.message : `${err.name}: ${err.message}`;
}

function csrf() {
  return { "X-CSRF-Token": s.me.csrf_token };
}

/** The requester's key must be a recipient in the unit's verified signed directory. */
async function requesterListed(request) {
  if (!s.directory) {
    const signed = await api(`/api/v1/units/${encodeURIComponent(request.unit)}/directory`);
    s.directory = await s.wbs.verifyDirectory(signed, { unit: request.unit });
  }
  return Object.values(s.directory.channels).flat().some((r) => r.publicKey === request.requester_public_key);
}

async function releaseWrap(request) {
  if (request.envelope_version === 1) return null;
  if (!request.requester_public_key) throw new PageError(t(TEXT.noKey));
  if (!request.identity_wrap) throw new PageError(t(TEXT.noWrap));
  if (!(await requesterListed(request))) throw new PageError(t(TEXT.notListed));
  // The identity parts of the envelope as sealed: this custodian's wrap is enough.
  const envelope = {
    v: 2,
    unit: request.unit,
    channel: request.channel,
    report_id: request.report_id,
    identity: request.identity,
    identity_wraps: [request.identity_wrap],
    identity_commitment: request.identity_commitment,
  };
  return s.wbs.releaseIdentity(envelope, s.keyPair, request.requester_public_key);
}

async function approve(request, line) {
  status(line, t(TEXT.approving));
  const wrap = await releaseWrap(request);
  await api(`/api/v1/identity/requests/${request.id}/approve`, { method: "POST", json: { wrap }, headers: csrf() });
  status(line, t(TEXT.approved), "ok");
}

async function deny(request, form, line) {
  const note = form.querySelector("textarea").value.trim();
  await api(`/api/v1/identity/requests/${request.id}/deny`, { method: "POST", json: { note }, headers: csrf() });
  status(line, t(TEXT.denied), "ok");
}

function item(request) {
  const node = document.getElementById("request-template").content.firstElementChild.cloneNode(true);
  const slot = (name) => node.querySelector(`[data-slot=${name}]`);
  node.dataset.requestId = request.id;
  slot("case").textContent = request.case_number;
  slot("requester").textContent = request.requester;
  slot("at").textContent = when(request.created_at);
  slot("reason").textContent = t(request.reason_label);
  slot("note").textContent = request.note ?? "";
  if (request.envelope_version === 1) node.append(el("p", { cls: "secondary", text: t(TEXT.v1) }));
  const line = node.querySelector(".status");
  const done = () => node.querySelectorAll("button, textarea").forEach((b) => (b.disabled = true));
  node.querySelector(".approve").addEventListener("click", () => {
    approve(request, line).then(done).catch((err) => status(line, errorText(err), "error"));
  });
  const form = node.querySelector(".deny-form");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    deny(request, form, line).then(done).catch((err) => status(line, errorText(err), "error"));
  });
  return node;
}

async function load() {
  const requests = await api("/api/v1/identity/requests");
  const list = document.getElementById("requests");
  list.replaceChildren(...requests.map(item));
  document.getElementById("requests-empty").hidden = requests.length > 0;
  const view = document.getElementById("requests-view");
  view.hidden = false;
  view.dataset.ready = "yes";
}

if (root) {
  whenUnlocked(async (session) => {
    s = session;
    await load();
    document.getElementById("requests-view").focus();
  }, TEXT.opening);
}
