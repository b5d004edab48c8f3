"""Book-level train/val/test splits that never move.

A book's split is a pure function of (salt, split key): the key's salted sha256 read as a number
in [0, 1) falls into one of the ratio intervals. The split key is the book's own id, or the kept
copy's id for a duplicate edition, and once a book has a key it keeps it for ever: keys live in
``<corpus>/split_keys.json``, which only grows and which pruning never touches. So adding or
removing other books, or a book missing for a night, never moves a book.

A corpus of a few books would often leave val or test empty by hash alone; then the books nearest
the empty split's interval are placed in it (``fill_empty_splits``), and the placement is recorded
in ``split_keys.json`` beside the keys, so that it, too, holds for ever.

The salt and the shares are fixed when a corpus is first split (and recorded beside the keys):
later builds use them, and refuse others unless told to ``--reshuffle``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from ..config import DEFAULT_SPLIT_RATIOS, DEFAULT_SPLIT_SALT, CorpusConfig, format_ratios, normalised_ratios
from ..errors import ConfigError, PublishError
from ..files import write_atomically

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")
MIN_TRAINABLE_BOOKS = len(SPLITS)
"""A corpus a model can be trained, validated and tested on holds at least one book per split."""


def position(key: int, salt: str) -> float:
    """Where a split key falls in [0, 1): its salted sha256, read as a number."""
    digest = hashlib.sha256(f"{salt}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def bounds(ratios: tuple[float, float, float]) -> dict[str, tuple[float, float]]:
    """Each split's interval of [0, 1) under the shares."""
    total, low, intervals = sum(ratios), 0.0, {}
    for name, ratio in zip(SPLITS, ratios):
        intervals[name] = (low, low + ratio / total)
        low += ratio / total
    return intervals


def split_of(key: int, salt: str, ratios: tuple[float, float, float], placed: dict[int, str] | None = None) -> str:
    """The split of a key: where the hash puts it, unless the key was placed to fill an empty split."""
    if placed and key in placed:
        return placed[key]
    where = position(key, salt)
    for name, (_, high) in bounds(ratios).items():
        if where < high:
            return name
    return next(name for name, ratio in zip(reversed(SPLITS), reversed(ratios)) if ratio > 0)


def fill_empty_splits(kept_keys: list[int], new_keys: set[int], salt: str, ratios: tuple[float, float, float],
                      placed: dict[int, str]) -> dict[int, str]:
    """Placements that give every split with a share at least one book, moving only keys not placed before.

    A few books split by hash often leave val or test empty (three books at 90/5/5 do, most of the
    time). For each empty split, the new key whose hash lies nearest the split's interval goes there,
    taken from a split that keeps at least one book. Keys placed in an earlier build never move, so a
    refresh can only fill a split with books it has not published before.
    """
    split = {key: split_of(key, salt, ratios, placed) for key in kept_keys}
    counts = {name: 0 for name in SPLITS}
    for key in kept_keys:
        counts[split[key]] += 1
    intervals, added = bounds(ratios), {}
    for name, ratio in zip(SPLITS, ratios):
        if ratio <= 0 or counts[name] > 0:
            continue
        low, high = intervals[name]
        candidates = [key for key in sorted(set(kept_keys) & new_keys)
                      if key not in added and counts[split[key]] > 1]
        if not candidates:
            continue
        where = {key: position(key, salt) for key in candidates}
        nearest = min(candidates, key=lambda key: (max(low - where[key], where[key] - high, 0.0), key))
        counts[split[nearest]] -= 1
        counts[name] += 1
        split[nearest] = added[nearest] = name
    return added


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


def placements_of(version, settings: SplitSettings) -> dict[int, str]:
    """The placements a published version shows: kept books whose split is not where the hash puts their key.

    ``split_keys.json`` records them; this reads them back from ``books.csv`` when that file was lost.
    """
    if version is None:
        return {}
    placed = {}
    for row in version.kept.values():
        try:
            key, split = int(row["split_key"]), row["split"]
        except (KeyError, TypeError, ValueError):
            continue
        if split in SPLITS and split != split_of(key, settings.salt, settings.ratios):
            placed[key] = split
    return placed


@dataclass(frozen=True)
class SplitSettings:
    """How a corpus's books are placed: the hash's salt and the train/val/test shares (fractions of 1)."""

    salt: str
    ratios: tuple[float, float, float]

    @classmethod
    def from_record(cls, record) -> SplitSettings | None:
        try:
            salt, ratios = record["split_salt"], tuple(float(r) for r in record["split_ratios"])
        except (KeyError, TypeError, ValueError):
            return None
        if not isinstance(salt, str) or not salt or len(ratios) != 3 or sum(ratios) <= 0:
            return None
        return cls(salt, normalised_ratios(ratios))


def resolve_split_settings(config: CorpusConfig, recorded: SplitSettings | None, corpus_dir: Path) -> SplitSettings:
    """The settings this build splits with: the corpus's own unless the config names others.

    Others are refused (they would move books between splits, leaking test books into training)
    unless ``config.reshuffle`` says to place every book again.
    """
    ratios = normalised_ratios(config.split_ratios) if config.split_ratios is not None else None
    if recorded is None:
        return SplitSettings(config.split_salt or DEFAULT_SPLIT_SALT, ratios or normalised_ratios(DEFAULT_SPLIT_RATIOS))
    if not config.reshuffle:
        if ratios is not None and ratios != recorded.ratios:
            raise ConfigError(f"--split {format_ratios(ratios)} differs from {format_ratios(recorded.ratios)}, the "
                              f"shares {corpus_dir} was split with, and would move books between splits; add "
                              f"--reshuffle to place every book again, or leave --split out")
        if config.split_salt is not None and config.split_salt != recorded.salt:
            raise ConfigError(f"--split-salt {config.split_salt!r} differs from the salt {corpus_dir} was split "
                              f"with, and would move books between splits; add --reshuffle to place every book "
                              f"again, or leave --split-salt out")
    return SplitSettings(config.split_salt if config.split_salt is not None else recorded.salt,
                         ratios if ratios is not None else recorded.ratios)


class SplitKeyRegistry:
    """Every split key ever given in one corpus, and the settings it is split with:
    ``{"keys": {"book id": key id}, "split_salt": ..., "split_ratios": [...], "sha256": ...}``, written
    atomically and durably. ``sha256`` covers the rest of the record, so a hand edit or a flipped digit
    is seen (``damaged``); a file from before the checksum is read as it is."""

    def __init__(self, corpus_dir: Path):
        self.root = Path(corpus_dir)
        self.path = self.root / "split_keys.json"
        self._record: dict | None = None
        self.damaged: str | None = None
        """Why the file cannot be trusted (None when it is whole or absent)."""

    def _read(self) -> dict:
        if self._record is None:
            try:
                record = json.loads(self.path.read_text(encoding="utf-8"))
                if not isinstance(record, dict):
                    raise ValueError("not a JSON object")
                recorded = record.pop("sha256", None)
                if recorded is not None and recorded != _checksum(record):
                    self.damaged = "it does not match its checksum (edited by hand, or damaged)"
            except FileNotFoundError:
                record = {}
            except (OSError, ValueError) as exc:
                log.warning("cannot read %s (%s); using the split keys of the last version", self.path, exc)
                self.damaged = f"it cannot be read ({exc})"
                record = {}
            self._record = record
        return self._record

    def load(self) -> dict[int, int]:
        try:
            return {int(book): int(key) for book, key in self._read().get("keys", {}).items()}
        except (ValueError, TypeError, AttributeError) as exc:
            log.warning("cannot read %s (%s); using the split keys of the last version", self.path, exc)
            return {}

    def settings(self) -> SplitSettings | None:
        return SplitSettings.from_record(self._read())

    def placements(self) -> dict[int, str]:
        """Keys placed to fill a split the hash left empty: ``{key: split}``."""
        try:
            placed = {int(key): split for key, split in self._read().get("placed", {}).items()}
        except (ValueError, TypeError, AttributeError) as exc:
            log.warning("cannot read the placements in %s (%s); using those of the last version", self.path, exc)
            return {}
        return {key: split for key, split in placed.items() if split in SPLITS}

    def save(self, keys: dict[int, int], settings: SplitSettings, placed: dict[int, str] | None = None) -> None:
        record = {"split_salt": settings.salt, "split_ratios": list(settings.ratios),
                  "keys": {str(book): key for book, key in sorted(keys.items())}}
        if placed:
            record["placed"] = {str(key): split for key, split in sorted(placed.items())}
        try:
            write_atomically(self.path, json.dumps({**record, "sha256": _checksum(record)}, indent=0).encode("utf-8"),
                             root=self.root)
        except OSError as exc:
            raise PublishError(f"cannot write {self.path}: {exc.strerror or exc}; nothing was published, the "
                               f"current version is unchanged") from None
        self._record = record
        self.damaged = None


def _checksum(record: dict) -> str:
    return hashlib.sha256(json.dumps(record, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def reconcile_keys(registry: dict[int, int], published: dict[int, int], damaged: str | None,
                   where: Path) -> dict[int, int]:
    """The split keys a build trusts: the published version's wherever it has one (its books.csv is
    verified with the version), the registry's for books it alone remembers. A disagreement is a
    registry edited or damaged since; it is named in one warning, and no book moves."""
    disagree = sorted(book for book in registry.keys() & published.keys() if registry[book] != published[book])
    if disagree:
        shown = ", ".join(f"#{book} ({registry[book]} there, {published[book]} published)" for book in disagree[:10])
        more = f" and {len(disagree) - 10} more" if len(disagree) > 10 else ""
        log.warning("%s gives %d book(s) another split key than the published version: %s%s; kept the published "
                    "keys, so no book moves, and rewrote the file", where, len(disagree), shown, more)
    elif damaged:
        log.warning("%s: %s; its keys agree with the published version, which wins wherever they differ; "
                    "rewrote the file", where, damaged)
    return {**registry, **published}
