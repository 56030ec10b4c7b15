"""Merkle tree math of RFC 9162 (Certificate Transparency v2), section 2.1.

Leaf hash ``SHA-256(0x00 || entry)``, node hash ``SHA-256(0x01 || left || right)``, the tree
head MTH over the first n leaves, inclusion and consistency proofs and their verification.
Pure functions over bytes; the audit log (wbs/audit) and the reference client share them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence

__all__ = [
    "EMPTY_ROOT",
    "Node",
    "ProofError",
    "consistency_proof",
    "consistency_ranges",
    "extend",
    "extend_nodes",
    "frontier_root",
    "inclusion_proof",
    "inclusion_ranges",
    "leaf_hash",
    "node_hash",
    "nodes_needed",
    "perfect_subtrees",
    "proof_from_nodes",
    "root",
    "root_from_inclusion",
    "verify_consistency",
    "verify_inclusion",
]

EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof that does not verify (or is malformed)."""


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) over leaf hashes (already hashed with leaf_hash)."""
    if not leaves:
        return EMPTY_ROOT
    level = list(leaves)
    # Bottom-up pairing gives the same tree as the recursive split of RFC 9162.
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def extend_nodes(
    frontier: Sequence[bytes], size: int, leaves: Sequence[bytes]
) -> tuple[list[bytes], list[tuple[int, int, bytes]]]:
    """Append leaf hashes to the right edge of a tree of `size` leaves (its perfect subtree
    roots, largest first); also every perfect subtree this completes, as (level, index,
    hash) with level >= 1 (see `Node`)."""
    edge = list(frontier)
    done: list[tuple[int, int, bytes]] = []
    for leaf in leaves:
        edge.append(leaf)
        n, level = size, 0
        while n & 1:
            right = edge.pop()
            edge.append(node_hash(edge.pop(), right))
            n >>= 1
            level += 1
            done.append((level, size >> level, edge[-1]))
        size += 1
    return edge, done


def extend(frontier: Sequence[bytes], size: int, leaves: Sequence[bytes]) -> list[bytes]:
    """The right edge after appending leaves: a log grows in O(log n) without old leaves."""
    return extend_nodes(frontier, size, leaves)[0]


def frontier_root(frontier: Sequence[bytes]) -> bytes:
    """MTH of the tree whose right edge is `frontier`."""
    if not frontier:
        return EMPTY_ROOT
    r = frontier[-1]
    for left in reversed(frontier[:-1]):
        r = node_hash(left, r)
    return r


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]): the audit path of leaf `index` in the tree of `leaves`."""
    if not 0 <= index < len(leaves):
        raise ProofError("leaf index out of range")
    if len(leaves) == 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return [*inclusion_proof(index, leaves[:k]), root(leaves[k:])]
    return [*inclusion_proof(index - k, leaves[k:]), root(leaves[:k])]


def _subproof(m: int, leaves: Sequence[bytes], whole: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if whole else [root(leaves)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, leaves[:k], whole), root(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], False), root(leaves[:k])]


def consistency_proof(first: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) between the tree of the first `first` leaves and all of `leaves`."""
    if not 0 <= first <= len(leaves):
        raise ProofError("tree size out of range")
    if first in (0, len(leaves)):
        return []
    return _subproof(first, leaves, True)


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root an inclusion proof leads to (RFC 9162 2.1.3.2); ProofError when malformed."""
    if not 0 <= index < size:
        raise ProofError("leaf index out of range")
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof too short")
    return r


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], expected_root: bytes
) -> None:
    if root_from_inclusion(index, size, leaf, proof) != expected_root:
        raise ProofError("inclusion proof does not lead to the tree head")


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 2.1.4.2: the tree of size `second` extends the tree of size `first`."""
    if not 0 <= first <= second:
        raise ProofError("tree sizes out of order")
    if first == second:
        if proof or first_root != second_root:
            raise ProofError("equal tree sizes need equal roots and an empty proof")
        return
    if first == 0:
        if proof:
            raise ProofError("an empty tree needs an empty proof")
        return
    path = list(proof)
    if not path:
        raise ProofError("consistency proof is empty")
    if first & (first - 1) == 0:  # a power of two: the first root is the first node
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof too short")
    if fr != first_root or sr != second_root:
        raise ProofError("consistency proof does not match the tree heads")


# --------------------------------------------------------------------------- proofs from nodes

# A perfect subtree (level, index) covers leaves [index << level, (index + 1) << level);
# level 0 is a leaf. A log that keeps these hashes proves from O(log n) of them.
Node = tuple[int, int]


def perfect_subtrees(start: int, end: int) -> list[Node]:
    """The aligned perfect subtrees that tile leaves [start, end), left to right."""
    nodes: list[Node] = []
    while start < end:
        level = (end - start).bit_length() - 1
        if start:
            level = min(level, (start & -start).bit_length() - 1)
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose subtree hashes make up PATH(index, D[size]), in proof order."""
    if not 0 <= index < size:
        raise ProofError("leaf index out of range")
    ranges: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = start + _split(end - start)
        if index < k:
            ranges.append((k, end))
            end = k
        else:
            ranges.append((start, k))
            start = k
    return ranges[::-1]


def consistency_ranges(first: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose subtree hashes make up PROOF(first, D[size]), in proof order."""
    if not 0 <= first <= size:
        raise ProofError("tree size out of range")
    if first in (0, size):
        return []
    ranges: list[tuple[int, int]] = []
    start, end, whole = 0, size, True
    while first != end:
        k = start + _split(end - start)
        if first <= k:
            ranges.append((k, end))
            end = k
        else:
            ranges.append((start, k))
            start, whole = k, False
    if not whole:
        ranges.append((start, end))
    return ranges[::-1]


def nodes_needed(ranges: Iterable[tuple[int, int]]) -> set[Node]:
    """The stored subtrees a proof over `ranges` reads: O(log n) for RFC 9162 proofs (at
    most one range, the right edge, is not itself a perfect subtree)."""
    return {node for start, end in ranges for node in perfect_subtrees(start, end)}


def proof_from_nodes(ranges: Iterable[tuple[int, int]], nodes: Mapping[Node, bytes]) -> list[bytes]:
    """The proof's hashes, each range's MTH composed from its perfect subtrees; KeyError
    names a missing node."""
    return [
        frontier_root([nodes[node] for node in perfect_subtrees(start, end)])
        for start, end in ranges
    ]
