"""Signed tree heads and consistency proofs as the API returns them."""

from __future__ import annotations

from pydantic import BaseModel


class TreeHeadOut(BaseModel):
    unit: str
    tree_size: int
    root_hash: str
    at: str
    public_key: str
    signature: str


class LatestHeadOut(BaseModel):
    """The unit's newest signed tree head; null before the sequencer signed one."""

    tree_head: TreeHeadOut | None


class ConsistencyOut(BaseModel):
    """Two signed tree heads of one unit and the RFC 9162 proof that the second extends
    the first (check it offline with `wbs audit check-proof`)."""

    format: str
    first: TreeHeadOut
    second: TreeHeadOut
    proof: list[str]
