// Re-authentication on the two-step page: replacing the authenticator needs the current
// passphrase, but the passphrase never leaves the device. The browser derives the login
// secret with the account's parameters (GET /api/v1/staff/me) and posts that instead,
// as the sign-in page does.

import { api, loadCrypto, status, t } from "./common.js";

const TEXT = {
  deriving: { id: "Menyiapkan kata sandi di perangkat…", en: "Preparing the passphrase on this device…" },
  failed: { id: "Kata sandi tidak dapat disiapkan di peramban ini.", en: "This browser could not prepare the passphrase." },
};

const form = document.getElementById("totp-form");
let ready = false;

if (form) {
  const line = document.getElementById("totp-status");
  form.addEventListener("submit", async (event) => {
    if (ready) return;
    event.preventDefault();
    const secret = form.querySelector("input[type=password]");
    status(line, t(TEXT.deriving));
    try {
      const { kdf } = await api("/api/v1/staff/me");
      let value = secret.value;
      if (kdf) {
        const wbs = await loadCrypto();
        value = await wbs.loginSecret(secret.value, kdf);
      }
      const hidden = document.createElement("input");
      hidden.type = "hidden";
      hidden.name = secret.name;
      hidden.value = value;
      secret.removeAttribute("name");
      form.append(hidden);
      ready = true;
      form.submit();
    } catch {
      status(line, t(TEXT.failed), "error");
    }
  });
}
