// wbs browser crypto module, formats of docs/crypto-format.md (envelopes v1 and v2).
// Plain ES modules on WebCrypto only: no third-party code, no build step. Import this file;
// the others are its parts. Bytes are Uint8Array; keys on the wire are b64u text. Every
// failure to open something is DecryptError("cannot decrypt"), which never says which check
// failed; bad input is FormatError, an unsupported suite/profile UnsupportedError.
//
// HPKE (RFC 9180 base mode, DHKEM(X25519) / HKDF-SHA256 / AES-128|256-GCM)   hpke.js
//   sealBase(pkR, info, pt, {aad, suite, ikmE}) -> enc||ct   openBase(skR, info, sealed, {...})
//   deriveKeyPair(ikm), generateKeyPair() -> {privateKey, publicKey} (raw bytes)
//   encap(pkR, ikmE?), decap(enc, skR), keySchedule(suite, ss, info), setupBaseS/R -> HpkeContext
//   hpkeSuite(aeadId), hkdf(ikm, salt, info, L), x25519PublicKey(sk), importX25519PrivateKey(sk)
// Keys and reports                                                              format.js
//   encodePublicKey(raw) / decodePublicKey(text) -> {suite, raw, text}
//   keyId(pk) -> 16 bytes, keyIdHex(pk), fingerprint(pk) -> "abcd efgh ..." (8 groups)
//   keyPairFrom(rawPrivate | CryptoKey, publicKey?) -> {suite, publicKey, privateKey}
//   sealReport({unit, channel, reportId, content, identity, recipients, reporterKey})
//     -> {envelope (JSON object), dataKey}
//   openReport(envelope, keyPair, {identity}) -> {dataKey, content, identity}
//   addRecipient(envelope, dataKey, publicKey) -> wrap (b64u)   envelopeDataKey(envelope, kp)
//   sealMessage(dk, ctx, {senderRole, messageId, text}) / openMessage(dk, ctx, ids, box) -> text
//   sealNote(dk, ctx, {authorKeyId, noteId, text}) / openNote(dk, ctx, ids, box) -> text
//   sealContent/openContent, sealIdentity/openIdentity, wrapDataKey/unwrapDataKey, wrapHeader
//   (ctx = {unit, channel, reportId})
// Identity key (envelope v2: identity under IK, wrapped only to custodians)      format.js
//   sealReport({..., identity, identityRecipients}) -> {envelope (v: 2), dataKey, identityKey}
//   IdentityKey (masked; .bytes()), identityCommitment(ik) -> 32 bytes
//   wrapIdentityKey(ik, ctx, custodian) / unwrapIdentityKey(wrap, ctx, kp) -> IdentityKey
//   rewrapIdentityKey(ik, requesterPublicKey, ctx) -> identity wrap for the requester
//   identityWrapHeader(wrap), sealIdentity/openIdentity(ik, ctx, ...) (v2 with an IdentityKey)
//   envelopeIdentityKey(envelope, kp), openReportIdentity(envelope, custodianKp) -> identity
//   releaseIdentity(envelope, custodianKp, requester) -> wrap (b64u)
//   openReleasedIdentity(envelope, wrap, requesterKp) -> identity
// Attachments (chunked AES-256-GCM stream)                                   attachment.js
//   encryptAttachment(dk, ctx, attachmentId, Blob|bytes|ReadableStream, {chunkSize}) -> Blob
//   decryptAttachment(dk, ctx, attachmentId, source, {type}) -> Blob (only if all chunks open)
//   encryptAttachmentChunks / decryptAttachmentChunks (async generators, constant memory)
//   createAttachmentEncryptor / createAttachmentDecryptor (chunk by chunk)
//   sealAttachmentMetadata(dk, ctx, attachmentId, {name, contentType})
//   openAttachmentMetadata(dk, ctx, attachmentId, box) -> {name, contentType}
// Audit log proofs (RFC 9162 inclusion, signed tree heads)                      merkle.js
//   leafHash(entry), nodeHash(l, r), rootFromInclusion(i, n, leaf, path), treeHeadMessage(head)
//   verifyTreeHead(head, publicKey?), checkAuditInclusion(doc, {caseNumber, unit, auditLeaf})
// Staff keys (PBKDF2-SHA256 >= 600,000 iterations)                                staff.js
//   loginSecret(passphrase, kdf) -> hex   deriveStaffSecrets(passphrase, kdf)
//   createStaffKey(passphrase, {kdf}) -> {wrapped, publicKey, loginSecret, recoveryKey,
//     recoveryWrapped}
//   unwrapPrivateKey(wrapped, passphrase) -> {keyPair, loginSecret}
//   wrapPrivateKey(rawPrivate, passphrase, {kdf}) -> wrapped
//   rewrapPrivateKey(wrapped, old, new, {kdf}) -> {wrapped, loginSecret}
//   unwrapWithRecoveryKey(recoveryWrapped, recoveryKey) -> {keyPair}
//   recoverPrivateKey(recoveryWrapped, recoveryKey, newPassphrase, {kdf})
//     -> {wrapped, loginSecret}
//   generateRecoveryKey(), normaliseRecoveryKey(text), newKdfParams(), checkKdfParams(kdf)
// Receipts                                                                       receipt.js
//   generateReceipt() -> "XXXX-XXXX-XXXX-XXXX-XXXX"   normaliseReceipt(text) (ReceiptError)
//   isValidReceipt(text), formatReceipt(text), receiptLookup(text) -> 32 bytes
//   deriveFromReceipt(text) -> {lookup, lookupB64u, reporterPublicKey, keyPair}
// Directories and proofs (Ed25519)                                             directory.js
//   verifyDirectory(signed, {unit, publicKey, fingerprint, minVersion})
//     -> {unit, version, issuedAt, publicKey, channels: {name: [{keyId, publicKey, name,
//        fingerprint}]}}   (SignatureError otherwise)
//   signDirectory(document, ed25519PrivateKey) -> {document, signature}
//   wrapDirectoryKey(seed, adminPublicKey) -> JSON text
//   unwrapDirectoryKey(wrapped, keyPair) -> {privateKey, publicKey}
//   verifyProof(proof, {envelope, publicKey}) -> {caseNumber, unit, submittedAt}
//   envelopeSha256(envelope) -> hex, canonicalJson(value), signingKeyFingerprint(publicKey)
// Byte helpers: `encoding` (utf8, fromUtf8, concat, toHex, fromHex, b64uEncode, b64uDecode,
// b32Encode, bytesEqual, i2osp, os2ip).

export * from "./hpke.js";
export * from "./format.js";
export * from "./attachment.js";
export * from "./staff.js";
export * from "./directory.js";
export * from "./receipt.js";
export * from "./merkle.js";
export * as encoding from "./encoding.js";
