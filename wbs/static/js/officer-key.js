// Device key enrolment: the key pair is made here, wrapped with a key derived from the
// passphrase (same derivation parameters as the sign-in), and only the public key and the
// wrapped private key are sent.

import { api, loadCrypto, PageError, status, t } from "./common.js";
import { me } from "./staff-keys.js";

const TEXT = {
  making: { id: "Membuat kunci (beberapa detik)…", en: "Making the key (a few seconds)…" },
  done: {
    id: "Kunci dibuat dan dikirim. Minta admin unit menyetujuinya; bandingkan sidik jari di atas.",
    en: "Key made and sent. Ask the unit admin to approve it; compare the fingerprint above.",
  },
  pending: { id: "Status kunci: menunggu persetujuan admin.", en: "Key status: waiting for admin approval." },
};

const form = document.getElementById("enrol-form");
const line = document.getElementById("enrol-status");

async function show() {
  const record = await me();
  document.getElementById("key-fingerprint").textContent = record.fingerprint ?? "—";
}

async function enrol(event) {
  event.preventDefault();
  if (!form.reportValidity()) return;
  const passphrase = form.querySelector("input[type=password]").value;
  status(line, t(TEXT.making));
  const wbs = await loadCrypto();
  const record = await me();
  const made = await wbs.createStaffKey(passphrase, record.kdf ? { kdf: record.kdf } : {});
  const updated = await api("/api/v1/staff/me/key", {
    method: "PUT",
    json: { public_key: made.publicKey, wrapped_private_key: JSON.stringify(made.wrapped) },
    headers: { "X-CSRF-Token": record.csrf_token },
  });
  form.reset();
  document.getElementById("key-fingerprint").textContent = updated.fingerprint ?? "—";
  const state = document.getElementById("key-state");
  state.dataset.status = updated.key_status;
  state.textContent = t(TEXT.pending);
  status(line, t(TEXT.done), "ok");
}

if (form) {
  show().catch(() => {});
  form.addEventListener("submit", (event) =>
    enrol(event).catch((err) => status(line, err instanceof PageError ? err.message : `${err.name}: ${err.message}`, "error")),
  );
}
