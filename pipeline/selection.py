"""What the user asked a corpus to hold: the selectors as given, checked before any request is made.

A ``Selector`` is plain data (``--shelf``, ``--author``, ``--top``, ``--ids``, ``--ids-file``,
``--subject``, ``--language``): how books.csv labels it, the folder a corpus of it alone is
published under, and the checks that make a typo one line before any work. Turning selectors into
books is ``discover``'s job; this module imports nothing that fetches, so the config can hold it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .book import MAX_BOOK_ID, parse_book_id
from .errors import ConfigError

PERIODS = (1, 7, 30)
"""Days the Top 100 page counts downloads over: yesterday, the last 7 and the last 30 days."""
MAX_SLUG = 80
MAX_SLUG_BYTES = 120
"""A folder name's limit is in bytes (255 on most file systems): 80 four-byte characters would not fit."""
KINDS = ("shelf", "author", "top", "ids", "ids-file", "subject", "language")
CATALOG_ONLY = ("subject", "language")
MAX_TOP = 100
MAX_IDS_IN_NAME = 5
FOLDER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass(frozen=True)
class Selector:
    """One selector as the user gave it."""

    kind: str
    """One of KINDS."""
    value: str
    """The shelf, author, count, comma-separated ids, file path, subject or language code, as given."""
    period: int = 1
    """For ``top``: days the Top 100 list counts downloads over (1, 7 or 30)."""

    @property
    def label(self) -> str:
        """How books.csv names the selector: ``shelf:science-fiction``, ``author:wells-h-g``, ``top:100``."""
        if self.kind == "top":
            return f"top:{int(self.value)}" + (f":last{self.period}" if self.period != 1 else "")
        if self.kind == "ids":
            return "ids"
        if self.kind == "ids-file":
            return f"ids-file:{Path(self.value).name}"
        if self.kind == "language":
            return f"language:{self.value.strip().lower().replace(' ', '')}"
        return f"{self.kind}:{slugify(self.value)}"

    def validate(self) -> None:
        value = self.value.strip() if isinstance(self.value, str) else ""
        option = f"--{self.kind}"
        if self.kind not in KINDS:
            raise ConfigError(f"unknown selector {self.kind!r}; use one of {', '.join('--' + k for k in KINDS)}")
        if not value:
            what = "a shelf slug, name or id (list them with `python -m pipeline shelves`)" \
                if self.kind == "shelf" else "a value (see --help)"
            raise ConfigError(f"{option} is empty: give {what}")
        if self.kind == "top":
            if not (value.isascii() and value.isdigit()) or len(value) > 3 or not 1 <= int(value) <= MAX_TOP:
                shown = value if len(value) <= 20 else _shown(value)
                raise ConfigError(f"--top {shown}: give a count from 1 to {MAX_TOP}")
            if self.period not in PERIODS:
                raise ConfigError(f"--top-period {self.period}: give 1, 7 or 30 (days)")
        elif self.kind in ("ids", "ids-file"):
            self.ids()
        elif self.kind == "author" and author_id(value) is None and value.isdigit():
            raise ConfigError(f"--author {_shown(value)}: an author id is ASCII digits from 1 to {MAX_BOOK_ID:,} "
                              f"(the N of /ebooks/author/N); or give the author's name")

    def ids(self) -> list[int]:
        if self.kind == "ids":
            return parse_ids(self.value)
        return read_ids_file(Path(self.value))

    def slug(self) -> str:
        """The folder a corpus of this selector alone is published under (shelves: the shelf's own slug)."""
        if self.kind == "top":
            return f"top-{int(self.value)}" + (f"-last{self.period}" if self.period != 1 else "")
        if self.kind == "ids":
            ids = self.ids()
            if len(ids) > MAX_IDS_IN_NAME:
                raise ConfigError(f"--ids lists {len(ids)} books: name the corpus folder with --name NAME")
            return "ids-" + "-".join(str(i) for i in ids)
        if self.kind == "ids-file":
            return "ids-" + slugify(Path(self.value).stem)
        if self.kind == "author" and author_id(self.value) is not None:
            return f"author-{author_id(self.value)}"
        return f"{self.kind}-{slugify(self.value)}"


def author_id(value: str) -> int | None:
    """The author id an ``--author`` value gives (ASCII digits, 1 to MAX_BOOK_ID), or None for a name."""
    return parse_book_id(value)


def _shown(text: str) -> str:
    """A value for an error line, shortened when absurdly long."""
    return repr(text) if len(text) <= 20 else f"{text[:12]!r}... ({len(text)} characters)"


def parse_ids(text: str) -> list[int]:
    ids = []
    for part in re.split(r"[,\s]+", text.strip()):
        if not part:
            continue
        book_id = parse_book_id(part)
        if book_id is None:
            raise ConfigError(f"--ids: {_shown(part)} is not a book id (ASCII digits, 1 to {MAX_BOOK_ID:,}); "
                              f"give numbers like 84,1342,2701")
        ids.append(book_id)
    if not ids:
        raise ConfigError("--ids is empty: give book ids like 84,1342,2701")
    return list(dict.fromkeys(ids))


MAX_IDS_FILE = 16 * 2**20
"""Bytes read of an --ids-file at most: ten million ids a line each hold under 80 MB, a real list far less."""


def read_ids_file(path: Path) -> list[int]:
    """One book id a line; ``#`` starts a comment; blank lines are ignored."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_IDS_FILE + 1)  # bounded: /dev/zero, a FIFO or a huge file ends here
        if len(data) > MAX_IDS_FILE:
            raise ConfigError(f"--ids-file {path}: over {MAX_IDS_FILE // 2**20} MB, too large for a list of book "
                              f"ids; give a text file with one book id a line")
        lines = data.decode("utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"--ids-file {path}: {reason}; give a text file with one book id a line") from None
    ids = []
    for number, line in enumerate(lines, 1):
        item = line.split("#", 1)[0].strip()
        if not item:
            continue
        book_id = parse_book_id(item)
        if book_id is None:
            raise ConfigError(f"--ids-file {path} line {number}: {_shown(item)} is not a book id (ASCII digits, "
                              f"1 to {MAX_BOOK_ID:,}); write one number a line ('#' starts a comment)")
        ids.append(book_id)
    if not ids:
        raise ConfigError(f"--ids-file {path} holds no book id; write one number a line")
    return list(dict.fromkeys(ids))


def validate_selection(selectors: list[Selector], name: str | None, source: str) -> None:
    """The whole selection, before any request: each selector, the catalog-only ones, the folder name."""
    if not selectors:
        raise ConfigError("give at least one selector: --shelf, --author, --top, --ids, --ids-file, --subject, "
                          "or --language with --source catalog")
    for selector in selectors:
        selector.validate()
        if selector.kind in CATALOG_ONLY and source != "catalog":
            raise ConfigError(f"--{selector.kind} reads the offline catalog: add --source catalog")
    if name is not None and (not FOLDER_NAME.match(name) or len(name.encode("utf-8")) > MAX_SLUG_BYTES):
        raise ConfigError(f"--name {name!r}: use letters, digits, '.', '_' and '-' (not first), at "
                          f"most {MAX_SLUG_BYTES} bytes, like scifi-and-wells")
    if name is None and len(selectors) > 1:
        raise ConfigError(f"{len(selectors)} selectors given: name the corpus folder with --name NAME")
    if name is None and selectors[0].kind != "shelf":
        selectors[0].slug()


def describe(selector: Selector) -> str:
    if selector.kind == "top":
        days = {1: "yesterday", 7: "last 7 days", 30: "last 30 days"}[selector.period]
        return f"Top {int(selector.value)} ({days})"
    if selector.kind == "ids":
        return f"ids {', '.join(str(i) for i in selector.ids())}"
    return f"{selector.kind} {selector.value.strip()}"


def slugify(name: str) -> str:
    """A folder name for a shelf: word characters and dashes only (never '.', '/' or '\\'), at most 80 characters
    and 120 bytes of UTF-8 (cut at a character's edge)."""
    slug = re.sub(r"[\W_]+", "-", name.casefold())[:MAX_SLUG]
    slug = slug.encode("utf-8")[:MAX_SLUG_BYTES].decode("utf-8", "ignore")
    return slug.strip("-") or "shelf"
