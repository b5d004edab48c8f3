"""``python -m pipeline verify``: check a published version whole, byte by byte.

- every file the manifest lists: there, of its size and sha256;
- every Parquet row: its text's sha256 and length match the row's ``sha256`` and ``chars``, the
  ids are the manifest's, in order, and books.csv lists each as kept in that split with that sha256;
- the text shards: the split's texts joined by the separator, nothing more, nothing less;
- nothing else: a file in the folder that the manifest does not list is a problem (an extra shard);
- the manifest itself: its ``manifest_sha256`` covers every other field (statistics, config, content key).

The publish step runs the same checks on a version before renaming it into place, so a version
that fails them was damaged afterwards (a disk, a hand, a copy).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from pathlib import Path

import pyarrow.parquet as pq

from ..config import SPLIT_NAMES
from ..errors import UsageError
from ..files import write_atomically
from .versions import CURRENT, CorpusDir

BATCH_ROWS = 64
"""Parquet rows read at once: memory stays at a few books, whatever the corpus's size."""


def resolve_version(path: Path) -> tuple[Path, list[str]]:
    """The version a path names (a version folder, or a shelf folder's ``current``), and any problem of the link."""
    path = Path(path)
    link = path / CURRENT
    if link.is_symlink() or link.exists():
        problem = CorpusDir(path).current_problem()
        if problem is not None:
            return link, [f"{CURRENT} {problem}"]
        return link.resolve(), []
    if not (path / "manifest.json").is_file():
        raise UsageError(f"no published corpus at {path} (no manifest.json there or in {link}); "
                         f"give a shelf's corpus folder or one of its version folders")
    return path, []


def verify_version(path: Path) -> list[str]:
    """Problems found checking a version against its manifest, one line each (empty: whole)."""
    try:
        manifest = json.loads((Path(path) / "manifest.json").read_text(encoding="utf-8"))
        files = dict(manifest["files"])
        splits = {name: manifest["splits"][name] for name in SPLIT_NAMES}
        separator = str(manifest["separator"]).encode("utf-8")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [f"manifest.json: cannot be read as a corpus manifest ({type(exc).__name__}: {exc})"]
    problems = []
    recorded = manifest.get("manifest_sha256")
    if recorded is not None and recorded != manifest_checksum(manifest):
        problems.append("manifest.json: its fields do not match its manifest_sha256 (statistics, config or "
                        "content key edited, or damaged)")
    records = list(files.values())
    for split in splits.values():
        records.append(split["parquet"])
        records.extend(split["shards"])
    for record in records:
        problems += _check_file(Path(path), record)
    problems += _unlisted(Path(path), {str(r["path"]) for r in records})
    kept = _kept_rows(Path(path) / "books.csv", problems)
    for name, split in splits.items():
        problems += _check_split(Path(path), name, split, separator, kept)
    return problems


TOKEN_CACHE = "tokens"
"""A version's subfolder the trainer writes its token cache into (trainer/data/corpus.py); not the corpus's."""
CHECKED = ".checked.json"
"""In a corpus folder: the size and mtime of each file of a version when its sha256 last matched."""


def check_published(corpus_root: Path, version: Path, *, full: bool = False) -> list[str]:
    """What ``verify`` would report of a published version, found cheaply enough for every build.

    Always the manifest's own checksum, every file's size and the files the manifest does not list;
    the sha256 of each file whose size or mtime changed since it last matched (recorded in
    ``CHECKED``), and with ``full`` everything ``verify_version`` checks. Files that match are recorded.
    """
    if full:
        problems = verify_version(version)
        if not problems:
            _record_checked(corpus_root, version, _manifest_records(version))
        return problems
    try:
        manifest = json.loads((version / "manifest.json").read_text(encoding="utf-8"))
        records = _manifest_records(version, manifest)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        return [f"manifest.json: cannot be read as a corpus manifest ({type(exc).__name__}: {exc})"]
    problems = []
    recorded = manifest.get("manifest_sha256")
    if recorded is not None and recorded != manifest_checksum(manifest):
        problems.append("manifest.json: its fields do not match its manifest_sha256")
    checked = _read_checked(corpus_root).get(version.name, {})
    for record in records:
        try:
            stat = (version / record["path"]).stat()
        except OSError as exc:
            problems.append(f"{record['path']}: {exc.strerror or exc}")
            continue
        if stat.st_size != record["bytes"]:
            problems.append(f"{record['path']}: {stat.st_size:,} bytes, the manifest says {record['bytes']:,}")
        elif checked.get(record["path"]) != [stat.st_size, stat.st_mtime_ns]:
            problems += _check_file(version, record)
    problems += _unlisted(version, {str(r["path"]) for r in records})
    if not problems:
        _record_checked(corpus_root, version, records)
    return problems


def _manifest_records(version: Path, manifest: dict | None = None) -> list[dict]:
    if manifest is None:
        manifest = json.loads((version / "manifest.json").read_text(encoding="utf-8"))
    records = list(manifest["files"].values())
    for name in SPLIT_NAMES:
        records.append(manifest["splits"][name]["parquet"])
        records.extend(manifest["splits"][name]["shards"])
    return records


def _read_checked(corpus_root: Path) -> dict:
    try:
        record = json.loads((corpus_root / CHECKED).read_text(encoding="utf-8"))
        return record if isinstance(record, dict) else {}
    except (OSError, ValueError):
        return {}


def record_checked(corpus_root: Path, version: Path) -> None:
    """Remember that every file of ``version`` matched its sha256 (just published, or verified)."""
    _record_checked(corpus_root, version, _manifest_records(version))


def _record_checked(corpus_root: Path, version: Path, records: list[dict]) -> None:
    """Remember each file's size and mtime now that its sha256 matched (only the versions still on disk)."""
    checked = {name: files for name, files in _read_checked(corpus_root).items() if (corpus_root / name).is_dir()}
    files = {}
    for record in records:
        stat = (version / record["path"]).stat()
        files[record["path"]] = [stat.st_size, stat.st_mtime_ns]
    if checked.get(version.name) == files:
        return
    checked[version.name] = files
    try:
        write_atomically(corpus_root / CHECKED, json.dumps(checked).encode("utf-8"), root=corpus_root)
    except OSError:
        pass  # only a cache of work done: the next build checks those files again


def manifest_checksum(manifest: dict) -> str:
    """The sha256 of a manifest's fields, ``manifest_sha256`` aside, in one canonical form."""
    fields = {key: value for key, value in manifest.items() if key != "manifest_sha256"}
    return hashlib.sha256(json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
                          .encode("utf-8")).hexdigest()


def _unlisted(root: Path, listed: set[str]) -> list[str]:
    """Files in the version folder that the manifest does not list (manifest.json aside, and ``tokens/``,
    where the trainer caches a version's encoded splits beside it)."""
    found = []
    for folder, subfolders, names in os.walk(root):
        if Path(folder) == root and TOKEN_CACHE in subfolders:
            subfolders.remove(TOKEN_CACHE)
        for name in names:
            relative = (Path(folder) / name).relative_to(root).as_posix()
            if relative != "manifest.json" and relative not in listed:
                found.append(f"{relative}: not listed in the manifest")
    return sorted(found)


def _check_file(root: Path, record: dict) -> list[str]:
    digest, size = hashlib.sha256(), 0
    try:
        with open(root / record["path"], "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
                size += len(block)
    except OSError as exc:
        return [f"{record['path']}: {exc.strerror or exc}"]
    if size != record["bytes"]:
        return [f"{record['path']}: {size:,} bytes, the manifest says {record['bytes']:,}"]
    if digest.hexdigest() != record["sha256"]:
        return [f"{record['path']}: sha256 differs from the manifest"]
    return []


def _kept_rows(books_csv: Path, problems: list[str]) -> dict[int, dict] | None:
    try:
        with open(books_csv, encoding="utf-8", newline="") as handle:
            return {int(r["id"]): r for r in csv.DictReader(handle) if r.get("status") == "kept"}
    except (OSError, ValueError, KeyError, TypeError, csv.Error) as exc:
        problems.append(f"books.csv: cannot be read ({exc})")
        return None


def _check_split(root: Path, name: str, split: dict, separator: bytes, kept: dict[int, dict] | None) -> list[str]:
    problems = []
    where = split["parquet"]["path"]
    shards = _ShardReader(root, split["shards"])
    shard_problem = None
    ids, chars = [], 0
    try:
        parquet = pq.ParquetFile(root / where)
        for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=["id", "chars", "sha256", "text"]):
            for row in batch.to_pylist():
                data = row["text"].encode("utf-8")
                label = f"{where}: row {len(ids)} (#{row['id']})"
                if len(row["text"]) != row["chars"]:
                    problems.append(f"{label}: text has {len(row['text']):,} characters, the row says {row['chars']:,}")
                if hashlib.sha256(data).hexdigest() != row["sha256"]:
                    problems.append(f"{label}: text does not match its sha256")
                if kept is not None:
                    listed = kept.get(row["id"])
                    if listed is None or listed["split"] != name:
                        problems.append(f"{label}: books.csv does not list it as kept in {name}")
                    elif listed["sha256"] != row["sha256"]:
                        problems.append(f"{label}: books.csv gives it another sha256")
                if shard_problem is None and not shards.follows(data, separator if ids else b""):
                    shard_problem = f"{name}/: the text shards differ from the text of #{row['id']} in {where}"
                ids.append(row["id"])
                chars += len(row["text"])
    except Exception as exc:  # pyarrow raises a dozen kinds for a damaged file; each is one problem line
        shards.close()
        return problems + [f"{where}: cannot be read as Parquet ({type(exc).__name__}: {exc})"]
    if ids != split["ids"]:
        problems.append(f"{where}: holds books {_ids(ids)}, the manifest lists {_ids(split['ids'])}")
    elif chars != split["chars"]:
        problems.append(f"{where}: {chars:,} characters, the manifest says {split['chars']:,}")
    if kept is not None:
        present = set(ids)
        missing = sorted(i for i, r in kept.items() if r["split"] == name and i not in present)
        if missing:
            problems.append(f"{where}: books.csv lists {_ids(missing)} as kept in {name}, the file lacks them")
    extra = shards.remaining()
    if shard_problem is None and extra:
        shard_problem = f"{name}/: the text shards hold {extra:,} bytes after the last text of {where}"
    shards.close()
    if shard_problem and not shards.missing:  # a missing shard is already reported as a missing file
        problems.append(shard_problem)
    return problems


class _ShardReader:
    """The text shards of a split read as one stream, as ShardWriter wrote them: books joined by the
    separator within a shard, none where a shard ends between two books (a long book may straddle)."""

    def __init__(self, root: Path, records: list[dict]):
        self.paths = [root / r["path"] for r in records]
        self.index, self.handle, self.left = -1, None, 0
        self.missing = False
        self._advance()

    def _advance(self) -> None:
        self.close()
        self.index += 1
        self.left = 0
        if self.index < len(self.paths):
            try:
                self.handle = open(self.paths[self.index], "rb")
                self.left = os.fstat(self.handle.fileno()).st_size
            except OSError:
                self.missing = True
                self.index = len(self.paths)

    def read(self, n: int) -> bytes:
        parts = []
        while n > 0 and self.handle is not None:
            if self.left == 0:
                self._advance()
                continue
            chunk = self.handle.read(min(n, self.left))
            if not chunk:
                self.left = 0
                continue
            parts.append(chunk)
            n -= len(chunk)
            self.left -= len(chunk)
        return b"".join(parts)

    def follows(self, data: bytes, separator: bytes) -> bool:
        """Whether the stream goes on with ``data``, after ``separator`` unless a shard ends here."""
        if separator:
            if self.left == 0:
                self._advance()
            elif self.read(len(separator)) != separator:
                return False
        return self.read(len(data)) == data

    def remaining(self) -> int:
        extra = self.left
        for path in self.paths[self.index + 1:]:
            try:
                extra += path.stat().st_size
            except OSError:
                self.missing = True
        return extra

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None


def _ids(ids: list[int]) -> str:
    shown = ", ".join(f"#{i}" for i in ids[:5])
    return f"{shown}, ... ({len(ids)} books)" if len(ids) > 5 else (shown or "none")
