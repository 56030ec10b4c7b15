// Shared by the reporter mailbox and the officer case page: decrypting and listing the
// messages of a case, and attachment buttons that fetch, decrypt and offer a file.

import { api, downloadLink, el, t, when } from "./common.js";

const DOWNLOAD = { id: "Unduh", en: "Download" };
const NONE = { id: "Belum ada pesan.", en: "No messages yet." };

/** A button that downloads the encrypted stream from `url`, decrypts it and offers it. */
export async function attachmentButton(wbs, dataKey, ctx, attachment, url) {
  let meta = { name: attachment.id, contentType: "application/octet-stream" };
  try {
    meta = await wbs.openAttachmentMetadata(dataKey, ctx, attachment.id, wbs.encoding.b64uDecode(attachment.metadata));
  } catch {
    /* keep the id as its name */
  }
  const button = el("button", {
    text: `${t(DOWNLOAD)}: ${meta.name}`,
    cls: "secondary-button",
    attrs: { type: "button", "data-attachment": attachment.id },
  });
  button.addEventListener("click", async () => {
    const response = await api(url, { raw: true });
    const blob = await wbs.decryptAttachment(dataKey, ctx, attachment.id, await response.blob(), { type: meta.contentType });
    const link = downloadLink(blob, meta.name);
    link.dataset.attachment = attachment.id;
    button.replaceWith(link);
    link.click();
  });
  return button;
}

/**
 * Fill `list` with the decrypted messages. `labels` maps a sender role to {id, en};
 * `urlFor(id)` is where an attachment's stream is fetched.
 */
export async function renderMessages(wbs, dataKey, ctx, list, data, labels, urlFor) {
  const attachments = new Map(data.attachments.map((a) => [a.id, a]));
  list.replaceChildren();
  for (const m of data.messages) {
    let text;
    try {
      const box = wbs.encoding.b64uDecode(m.box);
      text = await wbs.openMessage(dataKey, ctx, { senderRole: m.sender_role, messageId: m.id }, box);
    } catch {
      text = "⚠";
    }
    const item = el(
      "li",
      { cls: `message ${m.sender_role}` },
      el("p", { cls: "who", text: `${t(labels[m.sender_role])} · ${when(m.at)}` }),
      el("p", { cls: "pre", text }),
    );
    for (const id of m.attachments ?? []) {
      const a = attachments.get(id);
      if (a) item.append(el("p", {}, await attachmentButton(wbs, dataKey, ctx, a, urlFor(id))));
    }
    list.append(item);
  }
  if (!data.messages.length) list.append(el("li", { text: t(NONE), cls: "secondary" }));
}

/**
 * Encrypt files for a message (photos cleaned of hidden data first):
 * {attachments: [{id, metadata, size}], parts: [[id, Blob]]}.
 */
export async function sealFiles(wbs, dataKey, ctx, files, stripImage) {
  const attachments = [];
  const parts = [];
  for (const original of files) {
    const { blob } = await stripImage(original);
    const id = globalThis.crypto.randomUUID();
    const metadata = await wbs.sealAttachmentMetadata(dataKey, ctx, id, {
      name: original.name,
      contentType: blob.type || "application/octet-stream",
    });
    const stream = await wbs.encryptAttachment(dataKey, ctx, id, blob);
    attachments.push({ id, metadata: wbs.encoding.b64uEncode(metadata), size: stream.size });
    parts.push([id, stream]);
  }
  return { attachments, parts };
}

/** POST a message as JSON, or as multipart (part `partName` + encrypted file parts). */
export async function postMessage(url, partName, message, parts, headers) {
  if (!parts.length) return api(url, { method: "POST", json: message, headers });
  const body = new FormData();
  body.append(partName, JSON.stringify(message));
  for (const [id, stream] of parts) body.append("attachment", stream, id);
  return api(url, { method: "POST", body, headers });
}
