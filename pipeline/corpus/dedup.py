"""Exact duplicates and near-duplicate editions of one work, across a shelf.

Exact: the same text once lower-cased, NFKC-normalised and with whitespace collapsed.
Near: MinHash over word 5-shingles (128 hash functions), candidate pairs from LSH banding,
accepted when the estimated Jaccard similarity reaches the threshold (0.9 by default).
One copy of each work is kept; the others are dropped with the kept id as the reason.
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


def text_fingerprint(text: str, *, normalised: str | None = None) -> str:
    """sha256 of the normalised text: equal for texts that differ only in case, spacing or Unicode form.
    ``normalised``: ``normalise(text)`` where the caller has it already (it costs ~20 ms a megabyte)."""
    normalised = normalise(text) if normalised is None else normalised
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


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


def shingle_hashes(text: str, *, normalised: str | None = None) -> np.ndarray:
    """Distinct 64-bit hashes of the text's word 5-shingles."""
    words = _WORD.findall(normalise(text) if normalised is None else normalised)
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
    return _distinct(combined)


def _distinct(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)``, which on 64-bit hashes costs thirty times a sort (numpy 2.4)."""
    ordered = np.sort(values)
    first = np.empty(len(ordered), dtype=bool)
    first[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return ordered[first]


def minhash(text: str, *, normalised: str | None = None) -> np.ndarray:
    """The 128-value MinHash signature of the text's shingles; each hash function is a*x+b mod 2**64, a odd."""
    shingles = shingle_hashes(text, normalised=normalised)
    signature = np.full(PERMUTATIONS, np.iinfo(np.uint64).max, dtype=np.uint64)
    if not len(shingles):
        return signature
    # one function at a time into one reused buffer: it stays in the CPU's cache (a 16-row block did
    # not, and cost three times as long), and memory stays at one row however long the book
    work = np.empty_like(shingles)
    with np.errstate(over="ignore"):
        for i in range(PERMUTATIONS):
            np.multiply(_A[i], shingles, out=work)
            np.add(work, _B[i], out=work)
            signature[i] = work.min()
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
    """One Duplicate for every copy not kept, naming the kept copy it matches.

    Kept copies are chosen in order: books kept before first, then by id (the oldest edition).
    A book is a copy only of a kept copy it matches itself (same normalised text, or estimated
    Jaccard at or above ``threshold``); similarity does not chain, so a new book close to two
    distinct works never merges them. Results do not depend on the order of ``items``.
    """
    ordered = sorted(items, key=lambda item: (not item.prefer, item.id))
    rows = PERMUTATIONS // BANDS
    buckets: list[dict[bytes, list[DedupInput]]] = [defaultdict(list) for _ in range(BANDS)]
    exact: dict[str, DedupInput] = {}
    duplicates = []
    for item in ordered:
        match, score = exact.get(item.fingerprint), 1.0
        bands = [item.signature[b * rows:(b + 1) * rows].tobytes() for b in range(BANDS)]
        if match is None:
            seen: set[int] = set()
            best: tuple[float, int] | None = None
            for band, key in enumerate(bands):
                for kept in buckets[band].get(key, ()):
                    if kept.id in seen:
                        continue
                    seen.add(kept.id)
                    similar = similarity(item.signature, kept.signature)
                    if similar >= threshold and (best is None or (similar, -kept.id) > (best[0], -best[1])):
                        best = (similar, kept.id)
                        match, score = kept, similar
        if match is not None:
            duplicates.append(Duplicate(item.id, match.id, match.fingerprint == item.fingerprint, score))
            continue
        exact[item.fingerprint] = item
        for band, key in enumerate(bands):
            buckets[band][key].append(item)
    return sorted(duplicates, key=lambda d: d.id)
