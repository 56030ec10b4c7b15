// Admin approval: sign the unit's key directory on this device. The unit's Ed25519
// directory key is made here the first time and kept by the server only wrapped to this
// admin's own device key (HPKE); the server checks the signature and approves the keys.

import { api, el, loadCrypto, PageError, status, t } from "./common.js";
import { unlock } from "./staff-keys.js";

const TEXT = {
  signing: { id: "Membuka kunci dan menandatangani…", en: "Unlocking and signing…" },
  done: { id: "Direktori versi {v} ditandatangani. Kunci disetujui: {n}.", en: "Directory version {v} signed. Keys approved: {n}." },
  pending: { id: "menunggu persetujuan", en: "waiting for approval" },
  approved: { id: "disetujui", en: "approved" },
  summary: {
    id: "Versi saat ini: {v}. Penerima per saluran: {r}. Penjaga identitas: {c}.",
    en: "Current version: {v}. Recipients per channel: {r}. Identity custodians: {c}.",
  },
  repeated: {
    id: "KUNCI GANDA: kunci ini dipakai lebih dari satu akun",
    en: "REPEATED KEY: more than one account presents this key",
  },
  refuseRepeated: {
    id: "Tidak ditandatangani: satu kunci dipakai lebih dari satu akun. Nonaktifkan akun yang salah lebih dulu.",
    en: "Not signed: one key is presented by more than one account. Deactivate the wrong account first.",
  },
  otherAdmin: {
    id: "Kunci direktori unit dibuat oleh admin lain; minta admin tersebut menandatangani.",
    en: "The unit directory key was made by another admin; ask that admin to sign.",
  },
};

const root = document.getElementById("directory-root");
const unit = root?.dataset.unit;
const subtle = globalThis.crypto.subtle;

function fill(pair, values) {
  return t(pair).replace(/\{(\w+)\}/g, (_, k) => String(values[k]));
}

async function proposal() {
  return api(`/api/v1/admin/units/${encodeURIComponent(unit)}/directory`);
}

// Key ids that more than one account presents (the server says so too, in `repeated`):
// such a directory would let one officer receive a colleague's reports.
export function repeatedKeyIds(staff) {
  const seen = new Map();
  for (const s of staff) seen.set(s.key_id, (seen.get(s.key_id) ?? 0) + 1);
  return new Set(staff.filter((s) => s.repeated || seen.get(s.key_id) > 1).map((s) => s.key_id));
}

function render(plan) {
  const body = root.querySelector("#directory-staff tbody");
  body.replaceChildren();
  const repeated = repeatedKeyIds(plan.staff);
  for (const s of plan.staff) {
    const state = t(s.key_status === "approved" ? TEXT.approved : TEXT.pending);
    const flagged = repeated.has(s.key_id);
    body.append(
      el(
        "tr",
        { attrs: { "data-key-id": s.key_id, "data-repeated": flagged ? "1" : "0" }, cls: flagged ? "error" : undefined },
        el("td", { text: `${s.name} <${s.email}> — ${s.display_name}` }),
        el("td", { text: s.roles.join(", ") }),
        el("td", {}, el("code", { text: s.fingerprint, cls: "fingerprint" })),
        el("td", { text: flagged ? `${state}; ${t(TEXT.repeated)}` : state }),
      ),
    );
  }
  const counts = Object.entries(plan.recipients).map(([c, ids]) => `${c}: ${ids.length}`).join(", ");
  document.getElementById("directory-summary").textContent = fill(TEXT.summary, { v: plan.version, r: counts, c: plan.custodians.length });
}

async function signingKey(wbs, plan, admin) {
  const key = plan.directory_key;
  if (key.public_key && key.wrapped_private_key) {
    const opened = await wbs.unwrapDirectoryKey(key.wrapped_private_key, admin.keyPair);
    if (opened.publicKey !== key.public_key) throw new PageError(t(TEXT.otherAdmin));
    return { privateKey: opened.privateKey, publicKey: key.public_key, wrapped: key.wrapped_private_key };
  }
  if (key.public_key) throw new PageError(t(TEXT.otherAdmin));
  // First signature: the unit's Ed25519 directory key is made here and kept only wrapped
  // to this admin's device key.
  const pair = await subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
  const pkcs8 = new Uint8Array(await subtle.exportKey("pkcs8", pair.privateKey));
  const seed = pkcs8.slice(pkcs8.length - 32);
  const publicRaw = new Uint8Array(await subtle.exportKey("raw", pair.publicKey));
  const wrapped = await wbs.wrapDirectoryKey(seed, admin.keyPair.publicKey.text);
  seed.fill(0);
  pkcs8.fill(0);
  return { privateKey: pair.privateKey, publicKey: wbs.encoding.b64uEncode(publicRaw), wrapped };
}

async function sign(event) {
  event.preventDefault();
  const form = event.target;
  const line = document.getElementById("sign-status");
  status(line, t(TEXT.signing));
  const wbs = await loadCrypto();
  const admin = await unlock(wbs, form.querySelector("input[type=password]").value);
  const plan = await proposal();
  if (repeatedKeyIds(plan.staff).size > 0) {
    render(plan);
    throw new PageError(t(TEXT.refuseRepeated));
  }
  const key = await signingKey(wbs, plan, admin);
  const staff = new Map(plan.staff.map((s) => [s.key_id, s]));
  const entries = (ids) => {
    if (new Set(ids).size !== ids.length) throw new PageError(t(TEXT.refuseRepeated));
    return ids.map((kid) => {
      const s = staff.get(kid);
      // No e-mail in the published document: the display name and the key id only.
      return { key_id: kid, public_key: s.public_key, fingerprint: s.fingerprint, name: s.display_name };
    });
  };
  const channels = {};
  for (const [channel, ids] of Object.entries(plan.recipients)) channels[channel] = entries(ids);
  const document_ = {
    v: 1,
    unit: plan.unit,
    version: plan.next_version,
    issued_at: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    channels,
  };
  // Identity custodians (envelope v2): only when the unit has any, so that a unit without
  // custodians signs the same document shape as before.
  if (plan.custodians?.length) document_.custodians = entries(plan.custodians);
  const signed = await wbs.signDirectory(document_, key.privateKey);
  const out = await api(`/api/v1/admin/units/${encodeURIComponent(unit)}/directory`, {
    method: "PUT",
    json: { public_key: key.publicKey, wrapped_private_key: key.wrapped, document: signed.document, signature: signed.signature },
    headers: { "X-CSRF-Token": admin.me.csrf_token },
  });
  form.reset();
  render(await proposal());
  status(line, fill(TEXT.done, { v: out.version, n: out.approved.length }), "ok");
}

if (root) {
  proposal().then(render).catch((err) => status(document.getElementById("sign-status"), err.message, "error"));
  document.getElementById("sign-form").addEventListener("submit", (event) =>
    sign(event).catch((err) => {
      status(document.getElementById("sign-status"), err instanceof PageError ? err.message : `${err.name}: ${err.message}`, "error");
    }),
  );
}
