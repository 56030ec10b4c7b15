// The audit log's Merkle proofs (RFC 9162 section 2.1) and signed tree heads, as
// crypto/merkle.py and crypto/treehead.py: leaf = SHA-256(0x00 || entry), node =
// SHA-256(0x01 || left || right); a head is signed (Ed25519) over
// "wbs/audit/tree-head/v2\n" + unit + "\n" + tree_size + "\n" + root_hash + "\n" + at.

import { bytesEqual, concat, fromHex, toHex, utf8 } from "./encoding.js";
import { verifyEd25519 } from "./directory.js";

const subtle = globalThis.crypto.subtle;

/** An inclusion proof or tree head that does not verify (or is malformed). */
export class ProofError extends Error {
  constructor(message) {
    super(message);
    this.name = "ProofError";
  }
}

async function sha256(bytes) {
  return new Uint8Array(await subtle.digest("SHA-256", bytes));
}

export async function leafHash(entry) {
  return sha256(concat(new Uint8Array([0]), entry));
}

export async function nodeHash(left, right) {
  return sha256(concat(new Uint8Array([1]), left, right));
}

function hexBytes(value, size = 32) {
  if (typeof value !== "string") throw new ProofError("expected a hex string");
  let raw;
  try {
    raw = fromHex(value);
  } catch {
    throw new ProofError("bad hex");
  }
  if (raw.length !== size) throw new ProofError("wrong length");
  return raw;
}

function count(value) {
  if (!Number.isSafeInteger(value) || value < 0) throw new ProofError("bad number");
  return value;
}

/** The root an inclusion proof leads to (RFC 9162 2.1.3.2). */
export async function rootFromInclusion(index, size, leaf, proof) {
  if (!(index >= 0 && index < size)) throw new ProofError("leaf index out of range");
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) throw new ProofError("inclusion proof too long");
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      while (fn !== 0 && fn % 2 === 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new ProofError("inclusion proof too short");
  return r;
}

export function treeHeadMessage({ unit, tree_size, root_hash, at }) {
  for (const v of [unit, root_hash, at]) {
    if (typeof v !== "string" || v.includes("\n")) throw new ProofError("bad tree head field");
  }
  return utf8(`wbs/audit/tree-head/v2\n${unit}\n${count(tree_size)}\n${root_hash}\n${at}`);
}

/** Check a signed tree head (against a pinned hex key if given); {size, root}. */
export async function verifyTreeHead(head, publicKey) {
  if (publicKey !== undefined && head.public_key !== publicKey) {
    throw new ProofError("tree head signed by another key");
  }
  const size = count(head.tree_size);
  const root = hexBytes(head.root_hash);
  let ok = false;
  try {
    ok = await verifyEd25519(hexBytes(head.public_key), treeHeadMessage(head), hexBytes(head.signature, 64));
  } catch {
    ok = false;
  }
  if (!ok) throw new ProofError("tree head signature invalid");
  return { size, root };
}

/**
 * Check an inclusion document from /api/v1/mailbox/audit-proof: the entry hashes to the
 * leaf, the leaf is in the signed tree head, and the entry is this report's submission.
 * Returns {leafIndex, treeSize, rootHash, at, publicKey}.
 */
export async function checkAuditInclusion(doc, { caseNumber, unit, auditLeaf, publicKey } = {}) {
  if (doc.pending) throw new ProofError("pending");
  const head = doc.tree_head;
  if (!head || typeof doc.entry !== "string") throw new ProofError("no tree head or entry");
  const { size, root } = await verifyTreeHead(head, publicKey);
  const leaf = await leafHash(utf8(doc.entry));
  if (!bytesEqual(leaf, hexBytes(doc.leaf_hash))) throw new ProofError("entry does not hash to the leaf");
  if (!Array.isArray(doc.proof)) throw new ProofError("no proof");
  const path = doc.proof.map((p) => hexBytes(p));
  const computed = await rootFromInclusion(count(doc.leaf_index), size, leaf, path);
  if (!bytesEqual(computed, root)) throw new ProofError("inclusion proof does not lead to the tree head");
  const entry = JSON.parse(doc.entry);
  if (
    entry.unit !== head.unit ||
    entry.action !== "report.submit" ||
    (caseNumber !== undefined && entry.object_id !== caseNumber) ||
    (unit !== undefined && entry.unit !== unit) ||
    (auditLeaf !== undefined && auditLeaf !== null && toHex(leaf) !== auditLeaf)
  ) {
    throw new ProofError("the audit entry is not this report's");
  }
  return { leafIndex: doc.leaf_index, treeSize: size, rootHash: head.root_hash, at: head.at, publicKey: head.public_key };
}
