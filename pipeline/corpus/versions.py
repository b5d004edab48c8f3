"""A shelf's corpus folder: its versions, the ``current`` link, leftovers and pruning.

Layout of ``<out>/<shelf-slug>/``::

    current -> 20261122T031500Z       the newest complete version (a relative symlink)
    20261122T031500Z/                 one published version (see publish.py)
    split_keys.json                   every split key ever given, and the split's salt and shares
    .lock                             held by the running build

``current`` is trusted only when it is a link to a complete version folder of this corpus: one
that dangles, or points anywhere else, is broken, and the next build repairs it (to the newest
complete version) instead of reporting the corpus unchanged.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import PublishError, UsageError
from ..files import fsync_dir

log = logging.getLogger(__name__)

CURRENT = "current"
VERSION_NAME = re.compile(r"^(\d{8}T\d{6}Z)(?:-(\d+))?$")


@dataclass
class PublishedVersion:
    path: Path
    manifest: dict
    books: list[dict]
    """books.csv as dicts of strings."""

    @property
    def kept(self) -> dict[int, dict]:
        return {int(row["id"]): row for row in self.books if row["status"] == "kept"}

    @property
    def split_keys(self) -> dict[int, int]:
        return {int(row["id"]): int(row["split_key"]) for row in self.books if row.get("split_key")}


class CorpusDir:
    def __init__(self, root: Path):
        self.root = Path(root)

    @property
    def current_link(self) -> Path:
        return self.root / CURRENT

    def check(self) -> None:
        """``current`` must be a link (or absent): a copied folder there would make every publish fail."""
        link = self.current_link
        if link.exists() and not link.is_symlink():
            kind = "folder" if link.is_dir() else "file"
            raise UsageError(f"{link} is a {kind}, not a link to a version (copied without -l?); "
                             f"move it away (mv {link} {link}.old) and rerun")

    def current_problem(self) -> str | None:
        """Why ``current`` cannot be trusted (None when it names a complete version of this corpus)."""
        link = self.current_link
        if not link.is_symlink():
            return None if not link.exists() else "is not a link"
        target = os.readlink(link)
        try:
            resolved = link.resolve()
        except (OSError, RuntimeError):  # a loop (current -> current); RuntimeError before Python 3.13
            return f"does not point at a version of this corpus ({target})"
        if resolved.parent != self.root.resolve() or not VERSION_NAME.match(resolved.name):
            return f"does not point at a version of this corpus ({target})"
        if not resolved.is_dir():
            return f"dangles ({target} is gone)"
        if not is_complete(resolved):
            return f"names an incomplete version ({target})"
        return None

    def current(self) -> Path | None:
        """The version ``current`` names, when it is a complete version of this corpus."""
        if not self.current_link.is_symlink() or self.current_problem() is not None:
            return None
        return self.current_link.resolve()

    def versions(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        found = [p for p in self.root.iterdir() if p.is_dir() and not p.is_symlink() and VERSION_NAME.match(p.name)]
        return sorted(found, key=_version_order)

    def newest_complete(self) -> Path | None:
        return next((v for v in reversed(self.versions()) if is_complete(v)), None)

    def read_current(self) -> PublishedVersion | None:
        """The version the next one builds on: ``current``, or when that link is missing or broken
        (a version deleted by hand), the newest complete version, so split keys are never forgotten."""
        path = self.current()
        if path is None:
            path = self.newest_complete()
            if path is not None:
                log.warning("%s %s; building on the newest complete version, %s", self.current_link,
                            self.current_problem() or "is missing", path.name)
        return read_version(path) if path else None

    def switch_current(self, name: str) -> None:
        """Point ``current`` at the version ``name``: a new link renamed over the old, then the folder flushed."""
        link = self.root / f".{CURRENT}-{os.getpid()}"
        link.unlink(missing_ok=True)
        os.symlink(name, link)
        try:
            os.replace(link, self.current_link)
        finally:
            link.unlink(missing_ok=True)
        fsync_dir(self.root)

    def new_version_name(self) -> str:
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        taken = {p.name for p in self.root.iterdir()} if self.root.is_dir() else set()
        name, n = stamp, 0
        while name in taken or any(t.startswith(f".tmp-{name}-") for t in taken):
            n += 1
            name = f"{stamp}-{n}"
        newest = self.versions()
        if newest and _version_order(Path(name)) <= _version_order(newest[-1]):
            # the clock went back: stay after the newest version so order still means age
            base, _, number = newest[-1].name.partition("-")
            name = f"{base}-{int(number or 0) + 1}"
        return name

    def remove_leftovers(self) -> list[str]:
        """Temporary folders and links of runs that died; call only while holding the lock."""
        removed = []
        if not self.root.is_dir():
            return removed
        for path in self.root.iterdir():
            if path.name.startswith(".tmp-"):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path.name)
            elif path.name.startswith(f".{CURRENT}-"):
                path.unlink(missing_ok=True)
                removed.append(path.name)
        return removed

    def prune(self, keep: int) -> list[str]:
        """Delete the oldest versions beyond ``keep``; never the current one, nor the one before it.

        The one before ``current`` stays whatever ``keep`` says: a reader that resolved ``current``
        just before it moved may still be reading that version.
        """
        current = self.current()
        versions = self.versions()
        protected = set()
        if current is not None:
            protected.add(current.name)
            previous = _previous_of(current, versions)
            if previous is not None:
                protected.add(previous)
        doomed = [v for v in versions[:-keep] if v.name not in protected]
        for version in doomed:
            # rename first: a reader never sees a half-deleted version under its own name
            trash = self.root / f".tmp-deleting-{version.name}-{os.getpid()}"
            os.rename(version, trash)
            shutil.rmtree(trash, ignore_errors=True)
        return [v.name for v in doomed]


def _previous_of(current: Path, versions: list[Path]) -> str | None:
    """The version that was current before ``current``: its manifest says, else the next older one."""
    try:
        named = json.loads((current / "manifest.json").read_text(encoding="utf-8")).get("previous_version")
    except (OSError, ValueError, AttributeError):
        named = None
    if isinstance(named, str) and VERSION_NAME.match(named) and (current.parent / named).is_dir():
        return named
    older = [v for v in versions if _version_order(v) < _version_order(current)]
    return older[-1].name if older else None


def _version_order(path: Path) -> tuple[str, int]:
    match = VERSION_NAME.match(path.name)
    return (match.group(1), int(match.group(2) or 0)) if match else ("", 0)


def is_complete(path: Path) -> bool:
    """A version whose manifest reads and lists files that are all there at their recorded size.

    Cheap (stats, no hashing): enough to choose a version to build on or to point ``current`` at;
    ``python -m pipeline verify`` checks every byte.
    """
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        records = list(manifest["files"].values())
        for split in manifest["splits"].values():
            records.append(split["parquet"])
            records.extend(split["shards"])
        return all((path / r["path"]).stat().st_size == r["bytes"] for r in records)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def read_version(path: Path) -> PublishedVersion:
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        with open(path / "books.csv", encoding="utf-8", newline="") as handle:
            books = list(csv.DictReader(handle))
    except (OSError, ValueError) as exc:
        raise PublishError(f"cannot read the corpus version {path}: {exc}; "
                           f"delete that folder (and the current link) to start a fresh corpus") from None
    return PublishedVersion(path, manifest, books)
