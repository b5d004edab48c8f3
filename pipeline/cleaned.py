"""The cleaning stage of a build: each downloaded book cleaned once per (raw sha256, cleaner version).

Cleaned texts and their audits are cached under ``CACHE/clean/``, so a rerun re-cleans only the
books whose bytes changed, or all of them when the cleaner's rules change (``CLEANER_VERSION``).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from .book import Book
from .clean import CLEANER_VERSION, CleanOptions, clean
from .files import write_atomically


class CleanCache:
    def __init__(self, cache_dir: Path, options: CleanOptions | None = None):
        self.options = options or CleanOptions()
        self.root = Path(cache_dir) / "clean"

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
        if text_path.is_file() and audit_path.is_file():
            try:
                record = json.loads(audit_path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                record = None
            if record is not None:
                self._attach(book, text_path, record)
                return True
        result = clean(book.raw_path.read_bytes(), self.options)
        record = result.to_record()
        text_path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(text_path, result.text.encode("utf-8"))
        write_atomically(audit_path, json.dumps(record, ensure_ascii=False).encode("utf-8"))
        self._attach(book, text_path, record)
        return False

    @staticmethod
    def _attach(book: Book, text_path: Path, record: dict) -> None:
        book.clean_path = text_path
        book.clean_key = text_path.name.removesuffix(".txt")
        book.clean_chars = record["output_chars"]
        book.encoding = record["encoding"]
        book.clean_audit = record

