"""Published corpus versions: written whole beside their final place, verified, renamed in, then ``current`` switched.

A version, ``<out>/<shelf-slug>/<UTC timestamp>/``::

    manifest.json                 schema, config, source, counts, splits, every file's sha256
    books.csv                     one row per discovered book: kept (with its split) or dropped (with why)
    train.parquet val.parquet test.parquet
    train/train-00000.txt ...     UTF-8 text shards, books joined by the separator
    cleaning.jsonl                what the cleaner (and the passage filter) cut from each book
    README.md                     the dataset card (Hugging Face's format), written from the manifest (card.py)

A version is written into ``.tmp-<name>-<pid>/``: each book's text is checked against its sha256
and length as it is written, then the whole folder is read back and verified (verify.py) and
flushed to disk, renamed to ``<name>/``, and only then does ``current`` move (a new symlink
renamed over the old). Killed at any moment, ``current`` names the old complete version or the
new one. Leftover temporary folders are removed by the next build, under the lock (versions.py).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .. import __version__
from ..book import Book
from ..clean.cleaner import CLEANER_VERSION
from ..config import SPLIT_NAMES, BuildConfig, CorpusConfig
from ..errors import PublishError
from ..files import create_file, fsync_dir
from .analysis import ANALYSIS_VERSION
from .card import CARD_NAME, card_text
from .verify import manifest_checksum, record_checked, verify_version
from .versions import CorpusDir

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
BOOKS_COLUMNS = ["id", "title", "author", "language_meta", "language_detected", "language_share",
                 "language_disagrees", "status", "split", "reason", "kept_id", "split_key", "chars", "words",
                 "sha256", "raw_sha256", "encoding", "passage_chars_removed", "text_url", "selected_by"]
PARQUET_SCHEMA = pa.schema([("id", pa.int64()), ("title", pa.string()), ("author", pa.string()),
                            ("language", pa.string()), ("chars", pa.int64()), ("words", pa.int64()),
                            ("sha256", pa.string()), ("text", pa.large_string())])
PARQUET_ROW_GROUP_CHARS = 8 * 1024 * 1024
"""Text per row group. Building and compressing a row group takes several times its size in memory
(Arrow's builders and allocator): 32 MB groups cost the main process ~300 MB, 8 MB ones ~100 MB."""
PARQUET_DICTIONARY_COLUMNS = ["title", "author", "language"]
"""A book's text never repeats: dictionary-encoding it only costs memory before Parquet gives up on it."""
VERIFIED = ["every file's size and sha256", "every Parquet row's text against its sha256 and chars",
            "the text shards against the Parquet texts"]
"""What the publish step checked before the version was renamed into place (recorded in the manifest)."""


# -- the books table ---------------------------------------------------------------------------------

def book_row(book: Book) -> dict:
    kept = book.usable
    return {
        "id": book.id, "title": book.title, "author": book.author,
        "language_meta": "+".join(book.languages), "language_detected": book.language_detected,
        "language_share": f"{book.language_share:.4f}" if book.language_detected else "",
        "language_disagrees": int(book.language_disagrees) if book.language_detected else "",
        "status": "kept" if kept else "dropped", "split": book.split if kept else "",
        "reason": "" if kept else (f"failed: {book.reason}" if book.status == "failed" else book.reason),
        "kept_id": book.kept_id if book.kept_id is not None else "",
        "split_key": book.split_key if book.split_key is not None else "",
        "chars": book.chars if book.sha256 else "", "words": book.words if book.sha256 else "",
        "sha256": book.sha256, "raw_sha256": book.raw_sha256 or "", "encoding": book.encoding or "",
        "passage_chars_removed": sum(end - start for start, end, _ in book.passages_removed) if kept else "",
        "text_url": book.text_url or "",
        "selected_by": " ".join(book.selected_by),
    }


def books_csv(books: list[Book]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=BOOKS_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for book in sorted(books, key=lambda b: b.id):
        writer.writerow(book_row(book))
    return out.getvalue().encode("utf-8")


def content_key(books_table: bytes, config: CorpusConfig) -> str:
    """Equal for two builds that would publish the same corpus: the no-op refresh test.

    It covers the content (the books table: every book's status, split and text sha256) and the
    options that shape it, nothing else: ``--keep-versions`` changes no published byte.
    """
    digest = hashlib.sha256()
    versions = {"schema": SCHEMA_VERSION, "cleaner": CLEANER_VERSION, "analysis": ANALYSIS_VERSION}
    digest.update(json.dumps({**versions, "config": config.content_options()}, sort_keys=True).encode())
    digest.update(books_table)
    return digest.hexdigest()


# -- writing a version ----------------------------------------------------------------------------------

@dataclass
class FileRecord:
    path: str
    bytes: int
    sha256: str
    books: int | None = None

    def to_dict(self) -> dict:
        record = {"path": self.path, "bytes": self.bytes, "sha256": self.sha256}
        if self.books is not None:
            record["books"] = self.books
        return record


class _HashingFile:
    """A file written once, whose size and sha256 are known when it closes."""

    def __init__(self, path: Path, root: Path):
        self.path, self.root = path, root
        self.handle = create_file(path, root)
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.handle.write(data)
        self.digest.update(data)
        self.size += len(data)

    def close(self, books: int | None = None) -> FileRecord:
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()
        return FileRecord(self.path.relative_to(self.root).as_posix(), self.size, self.digest.hexdigest(), books)


class ShardWriter:
    """Text shards of at most ``limit`` bytes. A book is never split unless it alone is over the limit."""

    def __init__(self, folder: Path, root: Path, split: str, limit: int, separator: bytes):
        self.folder, self.root, self.split = folder, root, split
        self.limit, self.separator = limit, separator
        self.records: list[FileRecord] = []
        self._file: _HashingFile | None = None
        self._books = 0
        folder.mkdir(parents=True, exist_ok=True)

    def _open(self) -> _HashingFile:
        self._close()
        self._file = _HashingFile(self.folder / f"{self.split}-{len(self.records):05d}.txt", self.root)
        return self._file

    def _close(self) -> None:
        if self._file is not None:
            self.records.append(self._file.close(self._books))
            self._file, self._books = None, 0

    def add(self, data: bytes) -> None:
        current = self._file
        gap = self.separator if current is not None and current.size else b""
        if current is None or (current.size and current.size + len(gap) + len(data) > self.limit):
            current, gap = self._open(), b""
        current.write(gap)
        self._books += 1
        while current.size + len(data) > self.limit:
            cut = _utf8_boundary(data, self.limit - current.size)
            current.write(data[:cut])
            data = data[cut:]
            current = self._open()
            self._books = 1
        current.write(data)

    def close(self) -> list[FileRecord]:
        self._close()
        return self.records


def _utf8_boundary(data: bytes, at: int) -> int:
    """The largest cut at or before ``at`` that does not split a UTF-8 character (at least 1 byte on)."""
    at = max(1, min(at, len(data)))
    while 0 < at < len(data) and (data[at] & 0xC0) == 0x80:
        at -= 1
    return at or 1


class ParquetSplitWriter:
    """One row per book, written in row groups of about 8 MB of text, so memory stays flat."""

    def __init__(self, path: Path, root: Path):
        self.path, self.root = path, root
        self.writer = pq.ParquetWriter(path, PARQUET_SCHEMA, compression="zstd",
                                       use_dictionary=PARQUET_DICTIONARY_COLUMNS)
        self.rows: list[dict] = []
        self.pending = 0

    def add(self, book: Book, text: str) -> None:
        self.rows.append({"id": book.id, "title": book.title, "author": book.author,
                          "language": book.language_detected, "chars": book.chars, "words": book.words,
                          "sha256": book.sha256, "text": text})
        self.pending += len(text)
        if self.pending >= PARQUET_ROW_GROUP_CHARS:
            self._flush()

    def _flush(self) -> None:
        if self.rows:
            self.writer.write_table(pa.Table.from_pylist(self.rows, schema=PARQUET_SCHEMA))
            self.rows, self.pending = [], 0

    def close(self) -> FileRecord:
        self._flush()
        self.writer.close()
        return _record_file(self.path, self.root)


def _record_file(path: Path, root: Path, books: int | None = None) -> FileRecord:
    digest = hashlib.sha256()
    with open(path, "rb+") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
        os.fsync(handle.fileno())
    return FileRecord(path.relative_to(root).as_posix(), path.stat().st_size, digest.hexdigest(), books)


def _write_file(path: Path, root: Path, data: bytes) -> FileRecord:
    with create_file(path, root) as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    return FileRecord(path.relative_to(root).as_posix(), len(data), hashlib.sha256(data).hexdigest())


@dataclass
class PublishPlan:
    """Everything a version's manifest says beyond its files."""

    shelf: dict
    source: dict
    counts: dict
    content_key: str
    changes: dict = field(default_factory=dict)
    previous_version: str | None = None


def publish(corpus: CorpusDir, books: list[Book], table: bytes, plan: PublishPlan, config: BuildConfig,
            text_of: Callable[[Book], str], *, progress=None) -> Path:
    """Write a complete version beside the others, verify it, rename it into place, switch ``current`` to it.

    ``text_of(book)``: the text that goes into the corpus for a kept book.
    """
    name = corpus.new_version_name()
    temp = corpus.root / f".tmp-{name}-{os.getpid()}"
    temp.mkdir(parents=True)
    final = corpus.root / name
    switched = False
    try:
        manifest = _write_version(temp, name, books, table, plan, config, text_of, progress)
        manifest["manifest_sha256"] = manifest_checksum(manifest)
        _write_file(temp / "manifest.json", temp, json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8"))
        problems = verify_version(temp)
        if problems:
            raise PublishError(f"the new version did not verify ({problems[0]}"
                               f"{f'; and {len(problems) - 1} more' if len(problems) > 1 else ''}); nothing was "
                               f"published, the current version is unchanged")
        for folder in (temp, *(temp / split for split in SPLIT_NAMES)):
            fsync_dir(folder)
        os.rename(temp, final)
        fsync_dir(corpus.root)
        corpus.switch_current(name)
        switched = True
        record_checked(corpus.root, final)
    except (OSError, PublishError) as exc:
        if not switched:  # nothing half done stays behind: not the folder, not an unpublished version
            shutil.rmtree(temp, ignore_errors=True)
            shutil.rmtree(final, ignore_errors=True)
        if isinstance(exc, PublishError):
            raise
        raise PublishError(f"cannot write the corpus under {corpus.root}: {exc.strerror or exc}; "
                           f"the current version is unchanged") from None
    return final


def _write_version(folder: Path, name: str, books: list[Book], table: bytes, plan: PublishPlan,
                   config: BuildConfig, text_of: Callable[[Book], str], progress) -> dict:
    separator = config.corpus.separator.encode("utf-8")
    splits = {}
    kept = [b for b in books if b.usable]
    for split in SPLIT_NAMES:
        members = sorted((b for b in kept if b.split == split), key=lambda b: b.id)
        shards = ShardWriter(folder / split, folder, split, config.corpus.shard_size, separator)
        parquet = ParquetSplitWriter(folder / f"{split}.parquet", folder)
        chars = text_bytes = words = 0
        for book in members:
            text = text_of(book)
            data = text.encode("utf-8")
            if len(text) != book.chars or hashlib.sha256(data).hexdigest() != book.sha256:
                raise PublishError(f"the text of book #{book.id} does not match its recorded sha256 and length "
                                   f"({len(text):,} characters, {book.chars:,} recorded); nothing was published, "
                                   f"the current version is unchanged; rerun the build")
            shards.add(data)
            parquet.add(book, text)
            chars += len(text)
            words += book.words
            text_bytes += len(data)
            if progress is not None:
                progress.update(1)
        splits[split] = {"books": len(members), "chars": chars, "words": words, "bytes": text_bytes,
                         "ids": [b.id for b in members],
                         "parquet": parquet.close().to_dict(), "shards": [r.to_dict() for r in shards.close()]}
    audit = _audit_lines(books)
    files = {"books.csv": _write_file(folder / "books.csv", folder, table).to_dict(),
             "cleaning.jsonl": _write_file(folder / "cleaning.jsonl", folder, audit).to_dict()}
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "version": name,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "tool": {"name": "gutenberg-lstm", "version": __version__, "cleaner_version": CLEANER_VERSION,
                 "analysis_version": ANALYSIS_VERSION},
        "shelf": plan.shelf,
        "source": plan.source,
        "config": _config_record(config),
        "separator": config.corpus.separator,
        "content_key": plan.content_key,
        "previous_version": plan.previous_version,
        "counts": plan.counts,
        "changes": plan.changes,
        "splits": splits,
        "files": files,
        "verified": {"before_publish": VERIFIED, "parquet_rows": len(kept),
                     "command": "python -m pipeline verify <this folder>"},
    }
    # the card tells the manifest's story, so it is written from it, and then listed in it like every file
    card = card_text(manifest, table, audit).encode("utf-8")
    files[CARD_NAME] = _write_file(folder / CARD_NAME, folder, card).to_dict()
    return manifest


def _config_record(config: BuildConfig) -> dict:
    record = asdict(config)
    for key in ("out", "cache_dir"):
        record[key] = str(record[key]) if record[key] is not None else None
    record.pop("dry_run", None)
    return record


def _audit_lines(books: list[Book]) -> bytes:
    lines = []
    for book in sorted(books, key=lambda b: b.id):
        if book.clean_audit is None:
            continue
        record = {"id": book.id, "title": book.title, "text_url": book.text_url, "raw_sha256": book.raw_sha256,
                  **book.clean_audit}
        if book.passages_removed:
            record["passages_removed"] = [{"start": s, "end": e, "language": lang, "chars": e - s}
                                          for s, e, lang in book.passages_removed]
        lines.append(json.dumps(record, ensure_ascii=False) + "\n")
    return "".join(lines).encode("utf-8")
