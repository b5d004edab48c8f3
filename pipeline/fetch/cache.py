"""The raw download cache: one file per URL, indexed in an embedded SQLite database.

Files are written to a temporary name in their final folder and renamed into place; then a small
sidecar (``.NAME.meta``: URL, validators, size, sha256) and only then the index row. An entry whose
file is missing, of the wrong size or of the wrong sha256 is not trusted: it is dropped and fetched
again. That check on every read is what makes the cache safe after a kill or a power cut, so no
fsync is spent on each of thousands of files. An index that is not a database any more, or whose
pages are damaged, is moved aside and rebuilt from the sidecars whose files verify.

Every path is derived from the URL one sanitised segment at a time (no '.', '..', separators or
leading dots survive), so no URL can name a file outside ``raw/``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import CacheCorruptError, CacheWriteError
from ..files import check_inside, create_file, make_folder

log = logging.getLogger(__name__)

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
META_SUFFIX = ".meta"
STALE_PART_SECONDS = 3600
MAX_SEGMENT = 120
# what SQLite says of a file that is not (or no longer) a sound database
CORRUPT_MESSAGES = ("not a database", "malformed", "corrupt")


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
    """One path component: ASCII letters, digits and ``._=-`` only, never starting with a dot (so never
    '.', '..' or a hidden name that could pass for a temp file or a sidecar)."""
    cleaned = re.sub(r"[^A-Za-z0-9._=-]", "_", segment)
    cleaned = re.sub(r"^\.+", lambda dots: "_" * len(dots.group()), cleaned)
    if len(cleaned) > MAX_SEGMENT:  # a long name is shortened, and kept apart from its neighbours by a hash
        cleaned = cleaned[:MAX_SEGMENT - 17] + "~" + hashlib.sha256(segment.encode("utf-8", "replace")).hexdigest()[:16]
    return cleaned or "_"


def _is_corrupt(exc: sqlite3.Error) -> bool:
    return not isinstance(exc, sqlite3.OperationalError) or any(m in str(exc).lower() for m in CORRUPT_MESSAGES)


class RawCache:
    """Raw bytes under ``root/raw/<host>/<path>``, indexed in ``root/http.sqlite``."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.raw_dir = self.root / "raw"
        self.db_path = self.root / "http.sqlite"
        self._lock = threading.Lock()
        self.rebuilt_from: Path | None = None
        """Where a corrupt index found at open was moved to; None when the index was sound."""
        try:
            make_folder(self.raw_dir, self.root)
            for path in (self.db_path, *(self.db_path.with_name(self.db_path.name + s) for s in ("-wal", "-shm"))):
                check_inside(path, self.root)  # SQLite would write through a link planted there
        except OSError as exc:
            raise CacheWriteError(f"cannot use the cache folder {self.root}: {exc.strerror or exc}") from None
        if self._emptied():
            self._db = self._rebuild("it is empty, 0 bytes, while cached files remain")
            return
        try:
            self._db = self._open()
        except sqlite3.Error as exc:
            if not _is_corrupt(exc):
                raise CacheCorruptError(f"cannot open the cache index {self.db_path}: {exc}; "
                                        f"check the disk and the folder's permissions") from None
            self._db = self._rebuild(str(exc))

    def _emptied(self) -> bool:
        """An index of 0 bytes beside cached files: SQLite would take it for a new, empty database and
        every file would be downloaded again. A new index is never empty once opened (WAL's header)."""
        try:
            if self.db_path.stat().st_size != 0:
                return False
        except OSError:
            return False
        return next(self.raw_dir.rglob(f".*{META_SUFFIX}"), None) is not None

    def _open(self) -> sqlite3.Connection:
        # isolation_level=None: each statement commits on its own; WAL lets two builds share the file.
        db = sqlite3.connect(self.db_path, timeout=60, isolation_level=None, check_same_thread=False)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(SCHEMA)
            problems = [row[0] for row in db.execute("PRAGMA quick_check").fetchall()]
            if problems != ["ok"]:
                raise sqlite3.DatabaseError(f"database disk image is malformed ({problems[0]})")
        except BaseException:
            db.close()
            raise
        return db

    def _rebuild(self, why: str) -> sqlite3.Connection:
        """Move a corrupt index aside (with its WAL, which must not be replayed into a new file), open a
        fresh one and refill it from the sidecars whose files still verify."""
        stamp = time.strftime("%Y%m%dT%H%M%S")
        aside = self.db_path.with_name(f"{self.db_path.name}.corrupt-{stamp}-{os.getpid()}")
        try:
            os.replace(self.db_path, aside)
            for suffix in ("-wal", "-shm"):
                extra = self.db_path.with_name(self.db_path.name + suffix)
                if suffix == "-wal" and extra.exists():
                    os.replace(extra, aside.with_name(aside.name + suffix))
                else:
                    extra.unlink(missing_ok=True)
            db = self._open()
        except (OSError, sqlite3.Error) as exc:
            raise CacheCorruptError(f"the cache index {self.db_path} is corrupt ({why}) and could not be "
                                    f"replaced ({exc}); delete it and rerun") from None
        self.rebuilt_from = aside
        restored = 0
        for meta in self.raw_dir.rglob(f".*{META_SUFFIX}"):
            row = self._verified_sidecar(meta)
            if row is not None:
                db.execute("INSERT OR REPLACE INTO entries (url, path, etag, last_modified, size, sha256, fetched_at, "
                           "checked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
                restored += 1
        log.warning("the cache index %s was corrupt (%s): moved it to %s and rebuilt it from the %d cached "
                    "files that verify", self.db_path, why, aside.name, restored)
        return db

    def _verified_sidecar(self, meta: Path) -> tuple | None:
        try:
            record = json.loads(meta.read_text(encoding="utf-8"))
            url, size, sha256 = record["url"], record["size"], record["sha256"]
            if not (isinstance(url, str) and isinstance(size, int) and isinstance(sha256, str)):
                return None
            final = self.path_for(url)
            if final != meta.with_name(meta.name[1:-len(META_SUFFIX)]):  # a sidecar speaks only for its own file
                return None
            if final.stat().st_size != size or sha256_file(final) != sha256:
                return None
        except (OSError, ValueError, KeyError, TypeError):
            return None
        etag, last_modified = record.get("etag"), record.get("last_modified")
        fetched_at = record.get("fetched_at") if isinstance(record.get("fetched_at"), (int, float)) else 0.0
        return (url, str(final.relative_to(self.root)), etag if isinstance(etag, str) else None,
                last_modified if isinstance(last_modified, str) else None, size, sha256, fetched_at, fetched_at)

    def _sql(self, statement: str, params: tuple = ()) -> list:
        with self._lock:
            try:
                return self._db.execute(statement, params).fetchall()
            except sqlite3.Error as exc:
                if _is_corrupt(exc):
                    raise CacheCorruptError(f"the cache index {self.db_path} is damaged ({exc}); the next run "
                                            f"moves it aside and rebuilds it") from None
                raise CacheWriteError(f"cannot use the cache index {self.db_path}: {exc}") from None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def path_for(self, url: str) -> Path:
        """Where the bytes of ``url`` live: readable, one folder per path segment."""
        parts = urlsplit(url)
        host = _safe(parts.netloc or "local")
        segments = [_safe(s) for s in parts.path.split("/") if s]
        leaf = segments.pop() if segments and not parts.path.endswith("/") else "_index"
        if parts.query:
            leaf = f"{leaf}@{_safe(parts.query)}"
        path = self.raw_dir.joinpath(host, *segments, leaf)
        if os.path.commonpath([self.raw_dir, path]) != str(self.raw_dir):  # cannot happen; never write if it did
            raise CacheWriteError(f"refused to cache {ascii(url)} outside {self.raw_dir}", url=url)
        return path

    def temp_path(self, url: str) -> Path:
        final = self.path_for(url)
        try:
            make_folder(final.parent, self.root)
        except OSError as exc:
            raise CacheWriteError(f"cannot create {final.parent}: {exc.strerror or exc}", url=url) from None
        # The pid tells a later run whether the writer is still alive (its temp file is not garbage).
        return final.with_name(f".{final.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}{PART_SUFFIX}")

    def lookup(self, url: str) -> CacheEntry | None:
        rows = self._sql("SELECT url, path, etag, last_modified, size, sha256, fetched_at FROM entries WHERE url = ?",
                         (url,))
        if not rows:
            return None
        row = rows[0]
        path = Path(row[1])
        if path.is_absolute() or ".." in path.parts:  # an index row edited by hand is not followed anywhere
            return None
        return CacheEntry(row[0], self.root / path, row[2], row[3], row[4], row[5], row[6])

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
        """Move a fully written temp file into place, write its sidecar and index it."""
        final = self.path_for(url)
        now = time.time()
        record = {"url": url, "etag": etag, "last_modified": last_modified, "size": size, "sha256": sha256,
                  "fetched_at": now}
        meta = final.with_name(f".{final.name}{META_SUFFIX}")
        meta_temp = meta.with_name(f"{meta.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}{PART_SUFFIX}")
        try:
            check_inside(final, self.root)
            os.replace(temp, final)
            with create_file(meta_temp, self.root, exclusive=True) as handle:
                handle.write(json.dumps(record).encode("utf-8"))
            os.replace(meta_temp, meta)
        except OSError as exc:
            meta_temp.unlink(missing_ok=True)
            raise CacheWriteError(f"cannot write {final}: {exc.strerror or exc}", url=url) from None
        self._sql(
                "INSERT INTO entries (url, path, etag, last_modified, size, sha256, fetched_at, checked_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(url) DO UPDATE SET path=excluded.path, "
                "etag=excluded.etag, last_modified=excluded.last_modified, size=excluded.size, "
                "sha256=excluded.sha256, fetched_at=excluded.fetched_at, checked_at=excluded.checked_at",
                (url, str(final.relative_to(self.root)), etag, last_modified, size, sha256, now, now))
        return CacheEntry(url, final, etag, last_modified, size, sha256, now)

    def touch(self, url: str, etag: str | None = None) -> None:
        if etag:
            self._sql("UPDATE entries SET checked_at = ?, etag = ? WHERE url = ?", (time.time(), etag, url))
        else:
            self._sql("UPDATE entries SET checked_at = ? WHERE url = ?", (time.time(), url))

    def forget(self, url: str) -> None:
        self._sql("DELETE FROM entries WHERE url = ?", (url,))

    def remember_text_url(self, source: str, book_id: int, url: str) -> None:
        self._sql("INSERT INTO book_sources (source, book_id, url) VALUES (?, ?, ?) "
                  "ON CONFLICT(source, book_id) DO UPDATE SET url = excluded.url", (source, book_id, url))

    def text_url(self, source: str, book_id: int) -> str | None:
        rows = self._sql("SELECT url FROM book_sources WHERE source = ? AND book_id = ?", (source, book_id))
        return rows[0][0] if rows else None

    def remove_stale_parts(self, older_than: float = STALE_PART_SECONDS) -> int:
        """Delete temp files left by killed runs: their writer is gone, or they are over an hour old."""
        return remove_stale_parts(self.raw_dir, older_than)


def remove_stale_parts(folder: Path, older_than: float = STALE_PART_SECONDS) -> int:
    """Delete the temp files under ``folder`` whose writer is gone (a killed run or worker process), or that
    are over ``older_than`` seconds old."""
    cutoff = time.time() - older_than
    removed = 0
    for part in folder.rglob(f"*{PART_SUFFIX}"):
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
