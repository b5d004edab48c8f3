"""Book-level train/val/test splits that never move.

A book's split is a pure function of (salt, split key): the key's salted sha256 read as a number
in [0, 1) falls into one of the ratio intervals. The split key is the book's own id, or the kept
copy's id for a duplicate edition, and once a book has a key it keeps it for ever: keys live in
``<corpus>/split_keys.json``, which only grows and which pruning never touches. So adding or
removing other books, or a book missing for a night, never moves a book.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from .files import write_atomically

log = logging.getLogger(__name__)

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


class SplitKeyRegistry:
    """Every split key ever given in one corpus: ``{"keys": {"book id": key id}}``, written atomically."""

    def __init__(self, corpus_dir: Path):
        self.path = Path(corpus_dir) / "split_keys.json"

    def load(self) -> dict[int, int]:
        try:
            record = json.loads(self.path.read_text(encoding="utf-8"))
            return {int(book): int(key) for book, key in record["keys"].items()}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("cannot read %s (%s); using the split keys of the last version", self.path, exc)
            return {}

    def save(self, keys: dict[int, int]) -> None:
        record = {"keys": {str(book): key for book, key in sorted(keys.items())}}
        write_atomically(self.path, json.dumps(record, indent=0).encode("utf-8"))
