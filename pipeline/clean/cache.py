"""The cleaning stage of a build: each downloaded book cleaned once per (raw sha256, cleaner version).

Cleaned texts and their audits are cached under ``CACHE/clean/``, so a rerun re-cleans only the
books whose bytes changed, or all of them when the cleaner's rules change (``CLEANER_VERSION``).

Nothing read back is trusted blindly. The audit file is sealed (its first line is the sha256 of
the rest) and records the cleaned text's size and sha256. A lookup checks the text's size (a
stat, so a no-op refresh stays cheap); every read of the text checks its sha256. A text that
does not match is cleaned again from the raw file, itself checked against its sha256.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import asdict
from pathlib import Path

from ..book import Book
from ..errors import PipelineError
from ..files import FolderSyncs, make_folder, seal, unseal, write_atomically
from .cleaner import CLEANER_VERSION, CleanOptions, clean

log = logging.getLogger(__name__)

# C0 controls but tab, newlines and form feed; DEL; C1 controls (what binary bytes decode to)
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")


class CacheDamagedError(PipelineError):
    """A cached text does not match its recorded sha256, and cannot be rebuilt from a verified raw file."""


class CleanCache:
    def __init__(self, cache_dir: Path, options: CleanOptions | None = None, folders: FolderSyncs | None = None):
        self.options = options or CleanOptions()
        self.root = Path(cache_dir) / "clean"
        self.folders = folders
        """Where the folders of new entries wait for their flush (None: each flushed as it is written)."""

    def _key(self, raw_sha256: str) -> str:
        defaults = self.options == CleanOptions()
        suffix = "" if defaults else "-" + "".join("1" if v else "0" for v in asdict(self.options).values())
        return f"{raw_sha256}.v{CLEANER_VERSION}{suffix}"

    def paths(self, raw_sha256: str) -> tuple[Path, Path]:
        folder = self.root / raw_sha256[:2]
        key = self._key(raw_sha256)
        return folder / f"{key}.txt", folder / f"{key}.audit.json"

    def clean_book(self, book: Book) -> bool:
        """Give ``book`` its cleaned text and audit; True when they came from the cache."""
        assert book.raw_path is not None and book.raw_sha256, "clean only downloaded books"
        text_path, audit_path = self.paths(book.raw_sha256)
        entry = self._load(audit_path)
        if entry is not None:
            size = _size(text_path)
            if size == entry["text"]["bytes"]:
                self._attach(book, text_path, entry)
                return True
            log.warning("the cached cleaned text of #%s is damaged (%s bytes, %s recorded); cleaning it again",
                        book.id, "no" if size is None else f"{size:,}", f"{entry['text']['bytes']:,}")
        self._attach(book, text_path, self._clean(book, text_path, audit_path)[1])
        return False

    def read_text(self, book: Book) -> str:
        """The book's cleaned text, checked against its recorded sha256 (cleaned again when it does not match)."""
        assert book.clean_path is not None and book.clean_sha256, "read only cleaned books"
        try:
            data = book.clean_path.read_bytes()
        except OSError:
            data = None
        if data is not None and hashlib.sha256(data).hexdigest() == book.clean_sha256:
            return data.decode("utf-8")
        log.warning("the cached cleaned text of #%s does not match its sha256; cleaning it again", book.id)
        text_path, audit_path = self.paths(book.raw_sha256)
        text, entry = self._clean(book, text_path, audit_path)
        if entry["text"]["sha256"] != book.clean_sha256:
            raise CacheDamagedError(f"book #{book.id}: its raw file changed while the build ran; rerun the build")
        return text

    def _load(self, audit_path: Path) -> dict | None:
        try:
            payload = unseal(audit_path.read_bytes())
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("cannot read %s (%s); cleaning that book again", audit_path, exc.strerror or exc)
            return None
        try:
            entry = json.loads(payload) if payload is not None else None
            if entry is not None and not {"sha256", "bytes", "nul", "controls"} <= set(entry["text"]):
                entry = None
        except (ValueError, KeyError, TypeError):
            entry = None
        if entry is None:  # damaged, or written by an older version without the text's checksum
            log.info("the clean cache entry %s does not verify; cleaning that book again", audit_path.name)
        return entry

    def _clean(self, book: Book, text_path: Path, audit_path: Path) -> tuple[str, dict]:
        raw = book.raw_path.read_bytes()
        if hashlib.sha256(raw).hexdigest() != book.raw_sha256:
            raise CacheDamagedError(f"book #{book.id}: the cached download {book.raw_path} does not match its "
                                    f"sha256; rerun the build to fetch it again")
        result = clean(raw, self.options)
        data = result.text.encode("utf-8")
        entry = {"audit": result.to_record(),
                 "text": {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
                          "nul": result.text.count("\x00"),
                          "controls": sum(1 for _ in CONTROL_CHARACTERS.finditer(result.text))}}
        make_folder(text_path.parent, self.root)
        write_atomically(text_path, data, folders=self.folders, root=self.root)
        # the text first: an audit on disk always describes a text that is there
        write_atomically(audit_path, seal(json.dumps(entry, ensure_ascii=False).encode("utf-8")), folders=self.folders,
                         root=self.root)
        return result.text, entry

    @staticmethod
    def _attach(book: Book, text_path: Path, entry: dict) -> None:
        record, text = entry["audit"], entry["text"]
        book.clean_path = text_path
        book.clean_key = text_path.name.removesuffix(".txt")
        book.clean_chars = record["output_chars"]
        book.clean_sha256 = text["sha256"]
        book.nul_chars, book.control_chars = text["nul"], text["controls"]
        book.encoding = record["encoding"]
        book.clean_audit = record


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None
