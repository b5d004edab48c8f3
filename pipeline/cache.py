"""The raw download cache: one file per URL, indexed in an embedded SQLite database.

Files are written to a temporary name in their final folder and renamed into place; only then is
the index row written. An entry whose file is missing, of the wrong size or of the wrong sha256
is not trusted: it is dropped and fetched again. That check on every read is what makes the
cache safe after a kill or a power cut, so no fsync is spent on each of thousands of files.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    url TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    fetched_at REAL NOT NULL,
    checked_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS book_sources (
    source TEXT NOT NULL,
    book_id INTEGER NOT NULL,
    url TEXT NOT NULL,
    PRIMARY KEY (source, book_id)
);
"""
PART_SUFFIX = ".part"
STALE_PART_SECONDS = 3600


@dataclass(frozen=True)
class CacheEntry:
    url: str
    path: Path
    etag: str | None
    last_modified: str | None
    size: int
    sha256: str
    fetched_at: float


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _safe(segment: str) -> str:
    return re.sub(r"[^A-Za-z0-9._=-]", "_", segment)[:120] or "_"


class RawCache:
    """Raw bytes under ``root/raw/<host>/<path>``, indexed in ``root/http.sqlite``."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.raw_dir = self.root / "raw"
        self.raw_dir.mkdir(parents=True, exist_ok=True)
        self.db_path = self.root / "http.sqlite"
        self._lock = threading.Lock()
        # isolation_level=None: each statement commits on its own; WAL lets two builds share the file.
        self._db = sqlite3.connect(self.db_path, timeout=60, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def path_for(self, url: str) -> Path:
        """Where the bytes of ``url`` live: readable, one folder per path segment."""
        parts = urlsplit(url)
        host = _safe(parts.netloc or "local")
        segments = [_safe(s) for s in parts.path.split("/") if s]
        leaf = segments.pop() if segments and not parts.path.endswith("/") else "_index"
        if parts.query:
            leaf = f"{leaf}@{_safe(parts.query)}"
        return self.raw_dir.joinpath(host, *segments, leaf)

    def temp_path(self, url: str) -> Path:
        final = self.path_for(url)
        final.parent.mkdir(parents=True, exist_ok=True)
        # The pid tells a later run whether the writer is still alive (its temp file is not garbage).
        return final.with_name(f".{final.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}{PART_SUFFIX}")

    def lookup(self, url: str) -> CacheEntry | None:
        with self._lock:
            row = self._db.execute(
                "SELECT url, path, etag, last_modified, size, sha256, fetched_at FROM entries WHERE url = ?",
                (url,)).fetchone()
        if row is None:
            return None
        return CacheEntry(row[0], self.root / row[1], row[2], row[3], row[4], row[5], row[6])

    @staticmethod
    def is_intact(entry: CacheEntry) -> bool:
        try:
            if entry.path.stat().st_size != entry.size:
                return False
        except OSError:
            return False
        return sha256_file(entry.path) == entry.sha256

    def commit(self, url: str, temp: Path, *, etag: str | None, last_modified: str | None,
               size: int, sha256: str) -> CacheEntry:
        """Move a fully written temp file into place and index it."""
        final = self.path_for(url)
        os.replace(temp, final)
        now = time.time()
        with self._lock:
            self._db.execute(
                "INSERT INTO entries (url, path, etag, last_modified, size, sha256, fetched_at, checked_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(url) DO UPDATE SET path=excluded.path, "
                "etag=excluded.etag, last_modified=excluded.last_modified, size=excluded.size, "
                "sha256=excluded.sha256, fetched_at=excluded.fetched_at, checked_at=excluded.checked_at",
                (url, str(final.relative_to(self.root)), etag, last_modified, size, sha256, now, now))
        return CacheEntry(url, final, etag, last_modified, size, sha256, now)

    def touch(self, url: str, etag: str | None = None) -> None:
        with self._lock:
            if etag:
                self._db.execute("UPDATE entries SET checked_at = ?, etag = ? WHERE url = ?", (time.time(), etag, url))
            else:
                self._db.execute("UPDATE entries SET checked_at = ? WHERE url = ?", (time.time(), url))

    def forget(self, url: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM entries WHERE url = ?", (url,))

    def remember_text_url(self, source: str, book_id: int, url: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO book_sources (source, book_id, url) VALUES (?, ?, ?) "
                "ON CONFLICT(source, book_id) DO UPDATE SET url = excluded.url", (source, book_id, url))

    def text_url(self, source: str, book_id: int) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT url FROM book_sources WHERE source = ? AND book_id = ?",
                                   (source, book_id)).fetchone()
        return row[0] if row else None

    def remove_stale_parts(self, older_than: float = STALE_PART_SECONDS) -> int:
        """Delete temp files left by killed runs: their writer is gone, or they are over an hour old."""
        cutoff = time.time() - older_than
        removed = 0
        for part in self.raw_dir.rglob(f"*{PART_SUFFIX}"):
            try:
                if not _writer_alive(part) or part.stat().st_mtime < cutoff:
                    part.unlink()
                    removed += 1
            except OSError:
                pass
        return removed


def _writer_alive(part: Path) -> bool:
    match = re.search(r"\.(\d+)-[0-9a-f]+\.part$", part.name)
    if not match:
        return False
    pid = int(match.group(1))
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
