"""Exact duplicates and near-duplicate editions of one work, across a shelf.

Exact: the same text once lower-cased, NFKC-normalised and with whitespace collapsed.
Near: MinHash over word 5-shingles (128 hash functions), candidate pairs from LSH banding,
accepted when the estimated Jaccard similarity reaches the threshold (0.9 by default).
Each cluster keeps one copy; the others are dropped with the kept id as the reason.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

SHINGLE_WORDS = 5
PERMUTATIONS = 128
BANDS = 16
"""16 bands of 8 rows: a pair at Jaccard 0.9 becomes a candidate with probability > 0.9999, at 0.5 with 0.06."""
MINHASH_SEED = 1
_WORD = re.compile(r"\w+")


def normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def text_fingerprint(text: str) -> str:
    """sha256 of the normalised text: equal for texts that differ only in case, spacing or Unicode form."""
    return hashlib.sha256(normalise(text).encode("utf-8")).hexdigest()


def _permutations() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(MINHASH_SEED)
    a = rng.integers(1, 2**63, size=PERMUTATIONS, dtype=np.uint64) | np.uint64(1)  # odd multipliers
    b = rng.integers(0, 2**63, size=PERMUTATIONS, dtype=np.uint64)
    return a, b


_A, _B = _permutations()


def _word_hashes(words: list[str]) -> np.ndarray:
    # hash each distinct word once with a stable hash (Python's hash() changes per process)
    table = {w: int.from_bytes(hashlib.blake2b(w.encode("utf-8"), digest_size=8).digest(), "little")
             for w in set(words)}
    return np.fromiter((table[w] for w in words), dtype=np.uint64, count=len(words))


def shingle_hashes(text: str) -> np.ndarray:
    """Distinct 64-bit hashes of the text's word 5-shingles."""
    words = _WORD.findall(normalise(text))
    if not words:
        return np.zeros(0, dtype=np.uint64)
    hashes = _word_hashes(words)
    if len(words) < SHINGLE_WORDS:
        combined = np.array([np.bitwise_xor.reduce(hashes)], dtype=np.uint64)
    else:
        n = len(words) - SHINGLE_WORDS + 1
        combined = np.zeros(n, dtype=np.uint64)
        with np.errstate(over="ignore"):
            for offset in range(SHINGLE_WORDS):
                # rotate-and-mix so that word order matters: "a b" and "b a" differ
                combined = (combined * np.uint64(0x100000001B3)) ^ hashes[offset:offset + n]
    return np.unique(combined)


def minhash(text: str) -> np.ndarray:
    """The 128-value MinHash signature of the text's shingles; each hash function is a*x+b mod 2**64, a odd."""
    shingles = shingle_hashes(text)
    signature = np.full(PERMUTATIONS, np.iinfo(np.uint64).max, dtype=np.uint64)
    if not len(shingles):
        return signature
    with np.errstate(over="ignore"):
        for start in range(0, PERMUTATIONS, 16):  # 16 functions at a time bounds memory on long books
            a, b = _A[start:start + 16, None], _B[start:start + 16, None]
            signature[start:start + 16] = (a * shingles[None, :] + b).min(axis=1)
    return signature


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """The estimated Jaccard similarity of two signatures."""
    return float(np.mean(a == b))


@dataclass(frozen=True)
class Duplicate:
    id: int
    kept_id: int
    exact: bool
    similarity: float

    @property
    def reason(self) -> str:
        if self.exact:
            return f"duplicate: same text as #{self.kept_id}"
        return f"near-duplicate: edition of #{self.kept_id} (Jaccard {self.similarity:.2f})"


@dataclass
class DedupInput:
    id: int
    fingerprint: str
    signature: np.ndarray
    prefer: bool = False
    """Kept in the previous version: in a cluster it stays the kept copy, so nothing shifts."""


def find_duplicates(items: list[DedupInput], threshold: float = 0.9) -> list[Duplicate]:
    """Cluster exact and near duplicates; return one Duplicate for every copy not kept.

    The kept copy of a cluster is the one kept before, if any; otherwise the lowest id (the
    oldest edition). Results do not depend on the order of ``items``.
    """
    items = sorted(items, key=lambda item: item.id)
    index = {item.id: item for item in items}
    parent = {item.id: item.id for item in items}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(x: int, y: int) -> None:
        rx, ry = find(x), find(y)
        if rx != ry:
            parent[max(rx, ry)] = min(rx, ry)

    by_fingerprint: dict[str, list[int]] = defaultdict(list)
    for item in items:
        by_fingerprint[item.fingerprint].append(item.id)
    for ids in by_fingerprint.values():
        for other in ids[1:]:
            union(ids[0], other)

    rows = PERMUTATIONS // BANDS
    similar: dict[tuple[int, int], float] = {}
    for band in range(BANDS):
        buckets: dict[bytes, list[int]] = defaultdict(list)
        for item in items:
            buckets[item.signature[band * rows:(band + 1) * rows].tobytes()].append(item.id)
        for ids in buckets.values():
            for i, x in enumerate(ids):
                for y in ids[i + 1:]:
                    if (x, y) not in similar:
                        similar[(x, y)] = similarity(index[x].signature, index[y].signature)
    for (x, y), score in similar.items():
        if score >= threshold:
            union(x, y)

    clusters: dict[int, list[int]] = defaultdict(list)
    for item in items:
        clusters[find(item.id)].append(item.id)
    duplicates = []
    for members in clusters.values():
        if len(members) == 1:
            continue
        preferred = [m for m in members if index[m].prefer]
        kept = min(preferred) if preferred else min(members)
        for member in members:
            if member == kept:
                continue
            exact = index[member].fingerprint == index[kept].fingerprint
            score = 1.0 if exact else similarity(index[member].signature, index[kept].signature)
            duplicates.append(Duplicate(member, kept, exact, score))
    return sorted(duplicates, key=lambda d: d.id)
