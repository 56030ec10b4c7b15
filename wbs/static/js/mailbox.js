// Reporter mailbox, browser path: the receipt stays on this device; only the derived lookup
// id goes to the server. The report and the messages are decrypted here.

import { api, el, fieldLabel, loadCrypto, PageError, solvePow, status, t, uuid4, when } from "./common.js";
import { postMessage, renderMessages, sealFiles } from "./thread.js";
import { receiptTools } from "./receipt-tools.js";
import { stripImage } from "./images.js";

const TEXT = {
  opening: { id: "Membuka kotak surat…", en: "Opening the mailbox…" },
  officer: { id: "Petugas", en: "Officer" },
  you: { id: "Anda", en: "You" },
  browser: { id: "Dienkripsi di peramban Anda", en: "Encrypted in your browser" },
  server: { id: "Dienkripsi di server (JavaScript tidak aktif saat melapor)", en: "Encrypted on the server (JavaScript was off when reporting)" },
  sending: { id: "Mengenkripsi dan mengirim…", en: "Encrypting and sending…" },
  sent: { id: "Pesan terkirim.", en: "Message sent." },
  cannot: { id: "Tidak dapat membuka laporan dengan tanda terima ini.", en: "Cannot open the report with this receipt." },
  auditPending: { id: "Menunggu dicatat dalam tree head bertanda tangan.", en: "Waiting to be recorded under a signed tree head." },
  auditFailed: { id: "Bukti log audit TIDAK sah", en: "The audit log proof does NOT verify" },
  auditKeyChanged: {
    id: "Tree head log audit ditandatangani kunci LAIN dari kunci dalam bukti pengiriman Anda: log ini TIDAK dipercaya",
    en: "The audit tree head is signed by ANOTHER key than the one in your proof of submission: this log is NOT trusted",
  },
};

// The submission's entry in the unit's audit log: checked here (SHA-256 and Ed25519 in
// WebCrypto) against the signed tree head, and against the leaf in the proof of submission.
async function showAudit(wbs, data) {
  const slot = view.querySelector("[data-slot=audit]");
  const keySlot = view.querySelector("[data-slot=audit_key]");
  let state = "failed";
  let text = t(TEXT.auditFailed);
  try {
    const doc = await api("/api/v1/mailbox/audit-proof");
    if (doc.pending) {
      state = "pending";
      text = t(TEXT.auditPending);
    } else {
      // Proof v2 signs the leaf and the audit key (pinned here); v1 carries the leaf unsigned.
      const signed = await wbs.verifyProof(data.proof);
      const auditLeaf = signed.auditLeaf ?? data.proof.audit_leaf;
      const headKey = doc.tree_head?.public_key;
      if (typeof headKey === "string" && /^[0-9a-f]{64}$/.test(headKey)) {
        keySlot.textContent = await wbs.signingKeyFingerprint(wbs.encoding.fromHex(headKey));
      }
      if (signed.auditPublicKey && headKey !== signed.auditPublicKey) {
        const pinned = await wbs.signingKeyFingerprint(wbs.encoding.fromHex(signed.auditPublicKey));
        slot.textContent = `${t(TEXT.auditKeyChanged)} (${pinned}).`;
        slot.dataset.audit = "mismatch";
        return;
      }
      const ok = await wbs.checkAuditInclusion(doc, { caseNumber: data.case_number, unit: data.unit, auditLeaf });
      state = "verified";
      text = t({
        id: `Terverifikasi: entri ke-${ok.leafIndex + 1} dari ${ok.treeSize} dalam log audit unit (root ${ok.rootHash.slice(0, 16)}…, ditandatangani ${when(ok.at)}).`,
        en: `Verified: entry ${ok.leafIndex + 1} of ${ok.treeSize} in the unit's audit log (root ${ok.rootHash.slice(0, 16)}…, signed ${when(ok.at)}).`,
      });
    }
  } catch (err) {
    text = `${t(TEXT.auditFailed)}: ${err.message}`;
  }
  slot.textContent = text;
  slot.dataset.audit = state;
}

const loginForm = document.getElementById("mailbox-login");
const loginStatus = document.getElementById("login-status");
const view = document.getElementById("mailbox-view");
const replyForm = document.getElementById("mailbox-reply");
const replyStatus = document.getElementById("reply-status");

let session = null; // {wbs, keyPair, dataKey, ctx, csrf}

async function openMailbox(receiptText) {
  const wbs = await loadCrypto();
  const tools = receiptTools(wbs);
  const reporter = await tools.derive(receiptText);
  const lookup = wbs.encoding.b64uEncode(reporter.lookup);
  // Every login pays a proof-of-work bound to its lookup id (docs/api.md).
  const challenge = await api("/api/v1/pow");
  const nonce = await solvePow(challenge.challenge, lookup, challenge.difficulty);
  const login = await api("/api/v1/mailbox/login", {
    method: "POST",
    json: { lookup, pow: { challenge: challenge.challenge, nonce } },
  });
  session = { wbs, keyPair: reporter.keyPair, csrf: login.csrf_token ?? "" };
  await refresh();
}

async function refresh() {
  const { wbs } = session;
  const data = await api("/api/v1/mailbox");
  let opened;
  try {
    opened = await wbs.openReport(data.envelope, session.keyPair, { identity: false });
  } catch {
    throw new PageError(t(TEXT.cannot));
  }
  session.dataKey = opened.dataKey;
  session.ctx = { unit: data.envelope.unit, channel: data.envelope.channel, reportId: data.envelope.report_id };
  const slot = (name) => view.querySelector(`[data-slot=${name}]`);
  slot("case_number").textContent = data.case_number;
  slot("status").textContent = t(data.status_label);
  slot("submitted_at").textContent = when(data.submitted_at);
  slot("path").textContent = t(data.server_sealed ? TEXT.server : TEXT.browser);
  // Notices the service wrote (e.g. the identity was opened): always in both languages.
  const notices = slot("notices");
  const notice = (n) => el("li", { cls: "notice", attrs: { role: "note" } }, el("p", { cls: "who", text: when(n.at) }), el("p", { text: n.text.id, attrs: { lang: "id" } }), el("p", { text: n.text.en, attrs: { lang: "en" } }));
  notices.replaceChildren(...(data.notices ?? []).map(notice));
  notices.hidden = notices.children.length === 0;
  const fields = slot("fields");
  fields.replaceChildren();
  for (const [k, v] of Object.entries(opened.content)) {
    fields.append(el("dt", { text: fieldLabel(session.ctx.channel, k) }), el("dd", { text: v, cls: "pre" }));
  }
  const labels = { officer: TEXT.officer, reporter: TEXT.you };
  await showAudit(wbs, data);
  await renderMessages(wbs, session.dataKey, session.ctx, slot("messages"), data, labels, (id) => `/api/v1/mailbox/attachments/${id}`);
  document.getElementById("mailbox-login-card")?.remove();
  view.hidden = false;
  view.dataset.ready = "yes";
}

async function reply(event) {
  event.preventDefault();
  if (!replyForm.reportValidity()) return;
  const { wbs, dataKey, ctx } = session;
  status(replyStatus, t(TEXT.sending));
  const id = uuid4();
  const text = replyForm.querySelector("textarea").value.replace(/\r\n/g, "\n").trim();
  const box = await wbs.sealMessage(dataKey, ctx, { senderRole: "reporter", messageId: id, text });
  const files = replyForm.querySelector("input[type=file]").files;
  const { attachments, parts } = await sealFiles(wbs, dataKey, ctx, files, stripImage);
  const message = { id, box: wbs.encoding.b64uEncode(box), attachments };
  await postMessage("/api/v1/mailbox/messages", "message", message, parts, { "X-CSRF-Token": session.csrf });
  replyForm.reset();
  await refresh();
  status(replyStatus, t(TEXT.sent), "ok");
}

if (loginForm) {
  loginForm.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!loginForm.reportValidity()) return;
    status(loginStatus, t(TEXT.opening));
    const receipt = loginForm.querySelector("input[name=tanda_terima]").value;
    openMailbox(receipt)
      .then(() => status(loginStatus, ""))
      .catch((err) => status(loginStatus, err instanceof PageError ? err.message : `${err.name}: ${err.message}`, "error"));
  });
  replyForm.addEventListener("submit", (event) => {
    reply(event).catch((err) => status(replyStatus, err instanceof PageError ? err.message : `${err.name}: ${err.message}`, "error"));
  });
  document.getElementById("mailbox-logout").addEventListener("click", async () => {
    try {
      await api("/api/v1/mailbox/logout", { method: "POST", headers: { "X-CSRF-Token": session?.csrf ?? "" } });
    } finally {
      session = null;
      window.location.reload();
    }
  });
}
