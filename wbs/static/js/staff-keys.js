// Staff device keys for the officer pages: the signed-in staff record and unlocking the
// wrapped private key with the passphrase (in memory only, for this page).

import { api, loadCrypto, PageError, status, t } from "./common.js";

const WRONG = {
  id: "Kata sandi salah, atau kunci ini bukan milik Anda.",
  en: "Wrong passphrase, or this key is not yours.",
};
const RESET = {
  id: "Kata sandi Anda telah diatur ulang oleh admin. Pulihkan kunci dengan kunci pemulihan di halaman Kunci perangkat.",
  en: "Your passphrase was reset by an admin. Recover your key with the recovery key on the Device key page.",
};
const NO_KEY = {
  id: "Anda belum membuat kunci perangkat. Buka halaman Kunci perangkat.",
  en: "You have no device key yet. Open the Device key page.",
};

export async function me() {
  return api("/api/v1/staff/me");
}

/** The passphrase wrap was made under other parameters than the sign-in's: an admin set a
 * temporary passphrase, and only the recovery key opens the key until it is recovered. */
export function passphraseWasReset(record) {
  if (!record.wrapped_private_key || !record.kdf) return false;
  try {
    return JSON.parse(record.wrapped_private_key).kdf?.salt !== record.kdf.salt;
  } catch {
    return false;
  }
}

/** {me, keyPair, keyId} from the passphrase; PageError when it does not open. */
export async function unlock(wbs, passphrase) {
  const record = await me();
  if (!record.wrapped_private_key) throw new PageError(t(NO_KEY));
  try {
    const { keyPair } = await wbs.unwrapPrivateKey(record.wrapped_private_key, passphrase);
    return { me: record, keyPair, keyId: await wbs.keyIdHex(keyPair.publicKey) };
  } catch {
    throw new PageError(t(passphraseWasReset(record) ? RESET : WRONG));
  }
}

/**
 * Wire the page's unlock form (templates/cases/_unlock.html): load the crypto module, open
 * the key with the typed passphrase, hand `{wbs, me, keyPair, keyId}` to `ready`, then drop
 * the form. Errors are shown on the form's status line.
 */
export function whenUnlocked(ready, opening) {
  const form = document.getElementById("unlock-form");
  const line = document.getElementById("unlock-status");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    status(line, t(opening));
    try {
      const wbs = await loadCrypto();
      await ready({ wbs, ...(await unlock(wbs, document.getElementById("unlock-passphrase").value)) });
      form.remove();
    } catch (err) {
      status(line, err instanceof PageError ? err.message : `${err.name}: ${err.message}`, "error");
    }
  });
}
