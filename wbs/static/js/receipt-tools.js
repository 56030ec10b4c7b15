// The receipt functions of the crypto module (crypto/js/receipt.js), behind one small
// interface for the pages:
//   generate() -> receipt text (display form)
//   check(receipt) -> canonical receipt (PageError on a typing mistake, before any work)
//   derive(receipt) -> {lookup (32 bytes), publicKey (wire text), keyPair}
import { PageError, t } from "./common.js";

const TYPO = {
  length: { id: "Tanda terima harus 20 karakter (tanpa tanda hubung).", en: "The receipt must be 20 characters (without dashes)." },
  character: { id: "Tanda terima berisi karakter yang tidak dipakai (misalnya 0, O, 1, I, atau L).", en: "The receipt has a character that is never used (such as 0, O, 1, I or L)." },
  check: { id: "Tanda terima salah ketik. Periksa setiap karakter.", en: "The receipt has a typing mistake. Check every character." },
};

export function receiptTools(wbs) {
  return {
    generate: () => wbs.generateReceipt(),
    check(text) {
      try {
        return wbs.normaliseReceipt(text);
      } catch (err) {
        throw new PageError(t(TYPO[err.reason] ?? TYPO.check));
      }
    },
    async derive(receipt) {
      const derived = await wbs.deriveFromReceipt(this.check(receipt));
      return { lookup: derived.lookup, keyPair: derived.keyPair, publicKey: derived.reporterPublicKey };
    },
  };
}
