"""RFC 9162 Merkle math: the published test vectors and properties over random trees."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crypto import merkle

# The eight leaves of the Certificate Transparency reference tests (RFC 6962 / 9162 trees).
LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
HASHES = [merkle.leaf_hash(leaf) for leaf in LEAVES]


def test_empty_tree_and_reference_roots():
    assert merkle.root([]).hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    for size, expected in enumerate(ROOTS, start=1):
        assert merkle.root(HASHES[:size]).hex() == expected


def test_reference_inclusion_path():
    path = merkle.inclusion_proof(0, HASHES)
    assert [p.hex() for p in path] == [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ]
    assert merkle.inclusion_proof(0, HASHES[:1]) == []


def test_reference_consistency_proof():
    proof = merkle.consistency_proof(1, HASHES)
    assert [p.hex() for p in proof] == [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ]
    assert [p.hex() for p in merkle.consistency_proof(6, HASHES)] == [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ]


trees = st.lists(st.binary(max_size=8), min_size=1, max_size=40).map(
    lambda xs: [merkle.leaf_hash(x) for x in xs]
)


def _flip(proof: list[bytes], which: int, bit: int) -> list[bytes]:
    changed = list(proof)
    item = bytearray(changed[which % len(changed)])
    item[bit % 32] ^= 1 << (bit % 8)
    changed[which % len(changed)] = bytes(item)
    return changed


@given(trees, st.data())
def test_every_inclusion_proof_verifies_and_any_change_fails(leaves, data):
    index = data.draw(st.integers(0, len(leaves) - 1))
    head = merkle.root(leaves)
    proof = merkle.inclusion_proof(index, leaves)
    merkle.verify_inclusion(index, len(leaves), leaves[index], proof, head)
    bit = data.draw(st.integers(0, 255))
    leaf = bytearray(leaves[index])
    leaf[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(index, len(leaves), bytes(leaf), proof, head)
    if proof:
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(
                index,
                len(leaves),
                leaves[index],
                _flip(proof, data.draw(st.integers(0, 99)), bit),
                head,
            )
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(index, len(leaves), leaves[index], proof[:-1], head)
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(index, len(leaves), leaves[index], [*proof, head], head)
    if len(leaves) > 1:
        other = (index + 1) % len(leaves)
        if leaves[other] != leaves[index]:
            with pytest.raises(merkle.ProofError):
                merkle.verify_inclusion(other, len(leaves), leaves[index], proof, head)


@given(trees, st.data())
def test_every_consistency_proof_verifies_and_any_change_fails(leaves, data):
    first = data.draw(st.integers(0, len(leaves)))
    old, new = merkle.root(leaves[:first]), merkle.root(leaves)
    proof = merkle.consistency_proof(first, leaves)
    merkle.verify_consistency(first, len(leaves), old, new, proof)
    if 0 < first < len(leaves):
        bit = data.draw(st.integers(0, 255))
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(
                first, len(leaves), old, new, _flip(proof, data.draw(st.integers(0, 99)), bit)
            )
        forged = bytearray(old)
        forged[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(first, len(leaves), bytes(forged), new, proof)
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(first, len(leaves), old, new, proof[:-1])


@given(trees, st.data())
def test_a_rewritten_prefix_is_not_consistent(leaves, data):
    """A forked log: the old head's prefix differs from the new tree's; no proof bridges it."""
    first = data.draw(st.integers(1, len(leaves)))
    changed = list(leaves)
    spot = data.draw(st.integers(0, first - 1))
    changed[spot] = merkle.leaf_hash(b"forged" + changed[spot])
    proof = merkle.consistency_proof(first, changed)
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(
            first, len(leaves), merkle.root(leaves[:first]), merkle.root(changed), proof
        )


@given(trees, st.data())
def test_extending_the_right_edge_gives_the_tree_head(leaves, data):
    cut = data.draw(st.integers(0, len(leaves)))
    edge = merkle.extend([], 0, leaves[:cut])
    assert merkle.frontier_root(edge) == merkle.root(leaves[:cut])
    edge = merkle.extend(edge, cut, leaves[cut:])
    assert merkle.frontier_root(edge) == merkle.root(leaves)
    assert len(edge) == bin(len(leaves)).count("1")


sizes = st.integers(1, 300)


def _stored(leaves: list[bytes], cuts: list[int]) -> dict[merkle.Node, bytes]:
    """The nodes a sequencer keeps after integrating `leaves` in batches ending at `cuts`:
    the leaves (level 0) and every perfect subtree completed on the way."""
    nodes: dict[merkle.Node, bytes] = {(0, i): leaf for i, leaf in enumerate(leaves)}
    edge: list[bytes] = []
    done = 0
    for cut in [*sorted(cuts), len(leaves)]:
        edge, new = merkle.extend_nodes(edge, done, leaves[done:cut])
        nodes.update({(level, index): h for level, index, h in new})
        done = max(done, cut)
    return nodes


def _leaves(n: int) -> list[bytes]:
    return [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


def _from_nodes(ranges: list[tuple[int, int]], leaves: list[bytes], cuts: list[int]) -> list[bytes]:
    """A proof composed from only the stored nodes it needs: O(log n) of them."""
    needed = merkle.nodes_needed(ranges)
    assert len(needed) <= 2 * len(leaves).bit_length()
    stored = _stored(leaves, cuts)
    assert needed <= stored.keys()
    return merkle.proof_from_nodes(ranges, {n: stored[n] for n in needed})


def test_extend_nodes_keeps_exactly_the_perfect_subtrees():
    leaves = _leaves(13)
    nodes = _stored(leaves, [5, 6, 11])
    for (level, index), h in nodes.items():
        assert h == merkle.root(leaves[index << level : (index + 1) << level])
    # 13 leaves: 6 pairs, 3 quads, 1 octet, nothing more.
    assert sorted({level for level, _ in nodes}) == [0, 1, 2, 3]
    assert len(nodes) == 13 + 6 + 3 + 1


@given(sizes, st.data())
def test_node_based_inclusion_equals_leaf_based(size, data):
    index = data.draw(st.integers(0, size - 1))
    cuts = data.draw(st.lists(st.integers(0, size), max_size=4))
    leaves = _leaves(size)
    proof = _from_nodes(merkle.inclusion_ranges(index, size), leaves, cuts)
    assert proof == merkle.inclusion_proof(index, leaves)


@given(sizes, st.data())
def test_node_based_consistency_equals_leaf_based(size, data):
    first = data.draw(st.integers(0, size))
    cuts = data.draw(st.lists(st.integers(0, size), max_size=4))
    leaves = _leaves(size)
    proof = _from_nodes(merkle.consistency_ranges(first, size), leaves, cuts)
    assert proof == merkle.consistency_proof(first, leaves)


@given(st.integers(0, 10**6), st.integers(0, 10**6))
def test_perfect_subtrees_tile_a_range_with_aligned_nodes(a, b):
    start, end = min(a, b), max(a, b)
    nodes = merkle.perfect_subtrees(start, end)
    at = start
    for level, index in nodes:
        assert index << level == at
        at += 1 << level
    assert at == end


def test_proof_ranges_refuse_out_of_range():
    with pytest.raises(merkle.ProofError):
        merkle.inclusion_ranges(3, 3)
    with pytest.raises(merkle.ProofError):
        merkle.consistency_ranges(4, 3)
    with pytest.raises(KeyError):
        merkle.proof_from_nodes(merkle.inclusion_ranges(0, 4), {})
