// Device key enrolment, passphrase change and recovery. Everything is derived here: the key
// pair is made here and wrapped with a key derived from the passphrase (same derivation
// parameters as the sign-in) and under a one-time recovery key shown once; a passphrase
// change re-wraps the same key pair under the new passphrase with a fresh salt. Only public
// keys, wrapped keys and login secrets are sent, never a passphrase or the recovery key.

import { api, loadCrypto, PageError, status, t } from "./common.js";
import { me, passphraseWasReset } from "./staff-keys.js";

const MIN = 12;
const MAX = 256;

const TEXT = {
  making: { id: "Membuat kunci (beberapa detik)…", en: "Making the key (a few seconds)…" },
  done: {
    id: "Kunci dibuat dan dikirim. Cetak atau tulis kunci pemulihan di atas, lalu minta admin unit menyetujui kunci; bandingkan sidik jari di atas.",
    en: "Key made and sent. Print or write down the recovery key above, then ask the unit admin to approve the key; compare the fingerprint above.",
  },
  pending: { id: "Status kunci: menunggu persetujuan admin.", en: "Key status: waiting for admin approval." },
  changing: { id: "Menyiapkan kata sandi baru (beberapa detik)…", en: "Preparing the new passphrase (a few seconds)…" },
  changed: {
    id: "Kata sandi diganti. Kunci Anda tetap sama; sesi di perangkat lain telah diakhiri.",
    en: "Passphrase changed. Your key is the same; sessions on other devices were ended.",
  },
  recovered: {
    id: "Kunci dipulihkan dan kata sandi diganti. Kunci Anda tetap sama; laporan lama tetap dapat dibuka.",
    en: "Key recovered and passphrase changed. Your key is the same; earlier reports still open.",
  },
  length: {
    id: `Kata sandi baru harus ${MIN} sampai ${MAX} karakter.`,
    en: `The new passphrase must be ${MIN} to ${MAX} characters long.`,
  },
  repeat: { id: "Kedua kata sandi baru tidak sama.", en: "The two new passphrases differ." },
  wrong: { id: "Kata sandi saat ini salah.", en: "The current passphrase is wrong." },
  wasReset: {
    id: "Kata sandi Anda telah diatur ulang oleh admin: gunakan formulir Pulihkan kunci dengan kunci pemulihan Anda.",
    en: "Your passphrase was reset by an admin: use the Recover key form with your recovery key.",
  },
  noRecovery: {
    id: "Akun ini tidak memiliki salinan kunci untuk pemulihan. Buat kunci baru dan minta persetujuan admin.",
    en: "This account has no recovery copy of its key. Make a new key and ask an admin to approve it.",
  },
  recoveryTypo: {
    id: "Kunci pemulihan salah ketik (periksa panjang dan hurufnya).",
    en: "The recovery key is mistyped (check its length and characters).",
  },
  recoveryWrong: {
    id: "Kunci pemulihan ini tidak membuka kunci Anda.",
    en: "This recovery key does not open your key.",
  },
};

const enrolForm = document.getElementById("enrol-form");
const enrolLine = document.getElementById("enrol-status");
const changeForm = document.getElementById("passphrase-form");
const changeLine = document.getElementById("passphrase-status");
const recoverForm = document.getElementById("recover-form");
const recoverLine = document.getElementById("recover-status");

function message(err) {
  return err instanceof PageError ? err.message : `${err.name}: ${err.message}`;
}

/** The login secret the server checks for `passphrase` (the passphrase for legacy accounts). */
async function loginSecretOf(wbs, passphrase, record) {
  return record.kdf ? wbs.loginSecret(passphrase, record.kdf) : passphrase;
}

/** The TOTP code in the field `id` (present only when an authenticator is enrolled). */
function codeOf(id) {
  const value = document.getElementById(id)?.value.replace(/\s/g, "");
  return value ? value : null;
}

function newPassphrase(form) {
  const fresh = form.querySelector("input[autocomplete=new-password]").value;
  const repeat = form.querySelectorAll("input[autocomplete=new-password]")[1].value;
  if ([...fresh].length < MIN || [...fresh].length > MAX) throw new PageError(t(TEXT.length));
  if (fresh !== repeat) throw new PageError(t(TEXT.repeat));
  return fresh;
}

async function show() {
  const record = await me();
  document.getElementById("key-fingerprint").textContent = record.fingerprint ?? "—";
  document.getElementById("recover-hint").hidden = !passphraseWasReset(record);
}

function showRecoveryKey(recoveryKey) {
  document.getElementById("recovery-key").textContent = recoveryKey;
  const box = document.getElementById("recovery-box");
  box.hidden = false;
  box.scrollIntoView({ block: "start" });
}

async function enrol(event) {
  event.preventDefault();
  if (!enrolForm.reportValidity()) return;
  const passphrase = enrolForm.querySelector("input[type=password]").value;
  status(enrolLine, t(TEXT.making));
  const wbs = await loadCrypto();
  const record = await me();
  const made = await wbs.createStaffKey(passphrase, record.kdf ? { kdf: record.kdf } : {});
  const updated = await api("/api/v1/staff/me/key", {
    method: "PUT",
    json: {
      // Re-authentication: the login secret of the passphrase typed here (made with the
      // account's parameters) and the authenticator's code.
      login_secret: record.kdf ? made.loginSecret : passphrase,
      code: codeOf("enrol-code"),
      public_key: made.publicKey,
      wrapped_private_key: JSON.stringify(made.wrapped),
      recovery_wrapped_private_key: JSON.stringify(made.recoveryWrapped),
    },
    headers: { "X-CSRF-Token": record.csrf_token },
  });
  enrolForm.reset();
  document.getElementById("key-fingerprint").textContent = updated.fingerprint ?? "—";
  const state = document.getElementById("key-state");
  state.dataset.status = updated.key_status;
  state.textContent = t(TEXT.pending);
  showRecoveryKey(made.recoveryKey);
  status(enrolLine, t(TEXT.done), "ok");
}

async function send(record, currentSecret, code, made, kdf) {
  return api("/api/v1/staff/me/passphrase", {
    method: "PUT",
    json: {
      current_login_secret: currentSecret,
      code,
      new_login_secret: made.loginSecret,
      new_kdf: kdf,
      wrapped_private_key: made.wrapped ? JSON.stringify(made.wrapped) : null,
    },
    headers: { "X-CSRF-Token": record.csrf_token },
  });
}

function changed(form, line, text) {
  form.reset();
  document.getElementById("passphrase-notice")?.remove();
  document.getElementById("recover-hint").hidden = true;
  status(line, t(text), "ok");
}

async function change(event) {
  event.preventDefault();
  if (!changeForm.reportValidity()) return;
  const current = document.getElementById("pp-current").value;
  const fresh = newPassphrase(changeForm);
  status(changeLine, t(TEXT.changing));
  const wbs = await loadCrypto();
  const record = await me();
  const kdf = wbs.newKdfParams();
  let made;
  if (record.wrapped_private_key) {
    if (passphraseWasReset(record)) throw new PageError(t(TEXT.wasReset));
    try {
      made = await wbs.rewrapPrivateKey(record.wrapped_private_key, current, fresh, { kdf });
    } catch {
      throw new PageError(t(TEXT.wrong));
    }
  } else {
    made = { wrapped: null, loginSecret: await wbs.loginSecret(fresh, kdf) };
  }
  await send(record, await loginSecretOf(wbs, current, record), codeOf("pp-code"), made, kdf);
  changed(changeForm, changeLine, TEXT.changed);
}

async function recover(event) {
  event.preventDefault();
  if (!recoverForm.reportValidity()) return;
  const temporary = document.getElementById("rc-current").value;
  const recoveryKey = document.getElementById("rc-key").value;
  const fresh = newPassphrase(recoverForm);
  status(recoverLine, t(TEXT.changing));
  const wbs = await loadCrypto();
  const record = await me();
  if (!record.recovery_wrapped_private_key) throw new PageError(t(TEXT.noRecovery));
  try {
    wbs.normaliseRecoveryKey(recoveryKey);
  } catch {
    throw new PageError(t(TEXT.recoveryTypo));
  }
  const kdf = wbs.newKdfParams();
  let made;
  try {
    made = await wbs.recoverPrivateKey(record.recovery_wrapped_private_key, recoveryKey, fresh, { kdf });
  } catch {
    throw new PageError(t(TEXT.recoveryWrong));
  }
  await send(record, await loginSecretOf(wbs, temporary, record), codeOf("rc-code"), made, kdf);
  changed(recoverForm, recoverLine, TEXT.recovered);
}

function wire(form, line, handler) {
  if (!form) return;
  form.addEventListener("submit", (event) =>
    handler(event).catch((err) => status(line, message(err), "error")),
  );
}

if (enrolForm) {
  show().catch(() => {});
  wire(enrolForm, enrolLine, enrol);
  wire(changeForm, changeLine, change);
  wire(recoverForm, recoverLine, recover);
  document.getElementById("recovery-print")?.addEventListener("click", () => window.print());
}
