"""Book-level train/val/test splits that never move.

A book's split is a pure function of (salt, split key): the key's salted sha256 read as a number
in [0, 1) falls into one of the ratio intervals. The split key is the book's own id, or the kept
copy's id for a duplicate edition, and once a book has a key it keeps it in every later version
(read back from the previous ``books.csv``), so adding or removing other books never moves it.
"""

from __future__ import annotations

import hashlib

SPLITS = ("train", "val", "test")


def split_of(key: int, salt: str, ratios: tuple[float, float, float]) -> str:
    digest = hashlib.sha256(f"{salt}\x00{key}".encode()).digest()
    position = int.from_bytes(digest[:8], "big") / 2**64
    total = sum(ratios)
    bound = 0.0
    for name, ratio in zip(SPLITS, ratios):
        bound += ratio / total
        if position < bound:
            return name
    return next(name for name, ratio in zip(reversed(SPLITS), reversed(ratios)) if ratio > 0)


def split_keys(kept: list[int], duplicates: dict[int, int], previous: dict[int, int]) -> dict[int, int]:
    """The split key of every kept book and of every dropped duplicate.

    ``duplicates`` maps a dropped copy to its kept id; ``previous`` holds the keys of the last
    version. A kept book keeps its old key; a new one takes the old key of any of its dropped
    copies (the work was already placed), else its own id.
    """
    copies: dict[int, list[int]] = {}
    for copy, kept_id in duplicates.items():
        copies.setdefault(kept_id, []).append(copy)
    keys = {}
    for book in kept:
        if book in previous:
            keys[book] = previous[book]
        else:
            earlier = sorted(previous[c] for c in copies.get(book, []) if c in previous)
            keys[book] = earlier[0] if earlier else book
    for copy, kept_id in duplicates.items():
        keys[copy] = keys[kept_id]
    return keys
