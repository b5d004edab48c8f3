"""What the corpus stage needs to know about each cleaned book, computed once and cached.

Per cleaned text (keyed like the clean cache, by raw sha256 + cleaner version + options):
the language chunks' votes, the foreign passages (with ``--passage-filter``), and the final
text's size, sha256, normalised fingerprint and MinHash signature. A no-op refresh reads these
small JSON files instead of running langdetect and MinHash again.

Each file is sealed (its first line is the sha256 of the rest) and names the sha256 of the cleaned
text it describes; one that does not verify, or that describes another text, is computed again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..book import Book
from ..config import CorpusConfig
from ..files import FolderSyncs, make_folder, seal, unseal, write_atomically
from .dedup import minhash, normalise, text_fingerprint
from .language import LanguageVerdict, analyse_language, detect_passages, foreign_runs, judge, remove_spans

log = logging.getLogger(__name__)

ANALYSIS_VERSION = 1


class AnalysisCache:
    def __init__(self, cache_dir: Path, folders: FolderSyncs | None = None):
        self.root = Path(cache_dir) / "analysis"
        self.folders = folders
        """Where the folders of new records wait for their flush (None: each flushed as it is written)."""

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.a{ANALYSIS_VERSION}.json"

    def load(self, key: str, text_sha256: str) -> dict:
        """The record of the cleaned text ``key``, or {} when there is none that verifies."""
        path = self.path(key)
        try:
            payload = unseal(path.read_bytes())
            record = json.loads(payload) if payload is not None else None
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            record = None
        if not isinstance(record, dict) or record.get("text_sha256") != text_sha256:
            log.info("the analysis %s does not verify; analysing that book again", path.name)
            return {}
        return record

    def save(self, key: str, record: dict) -> None:
        path = self.path(key)
        make_folder(path.parent, self.root)
        write_atomically(path, seal(json.dumps(record).encode("utf-8")), folders=self.folders, root=self.root)


def corpus_text(book: Book, cleaned: str) -> str:
    """The text that goes into the corpus: the cleaned text less any foreign passages."""
    return remove_spans(cleaned, book.passages_removed)


class BookAnalysis:
    """The analysis of one cleaned book, read from the cache and completed where it is missing.

    ``language()`` then, if the language is wanted, ``profile()``; ``save()`` writes back what was computed.
    """

    def __init__(self, book: Book, cache: AnalysisCache, read_text: Callable[[Book], str]):
        self.book, self.cache, self.read_text = book, cache, read_text
        self.record = cache.load(book.clean_key, book.clean_sha256)
        self.changed = False
        self._text: str | None = None

    def cleaned_text(self) -> str:
        """The cleaned text, read (and checked against its sha256) once, only when something is computed."""
        if self._text is None:
            self._text = self.read_text(self.book)
        return self._text

    def language(self, config: CorpusConfig) -> None:
        """Set the book's detected language, its wanted share and any disagreement with the metadata."""
        if "language" not in self.record:
            self.record["language"] = analyse_language(self.cleaned_text()).to_record()
            self.changed = True
        judgement = judge(LanguageVerdict.from_record(self.record["language"]), config.languages,
                          self.book.languages)
        self.book.language_detected = judgement.detected
        self.book.language_share = judgement.wanted_share
        self.book.language_disagrees = judgement.disagrees

    def profile(self, config: CorpusConfig) -> None:
        """Cut foreign passages (with the passage filter), then size, hash and MinHash the text that remains."""
        book = self.book
        if config.passage_filter:
            if "passages" not in self.record:
                self.record["passages"] = [list(p) for p in detect_passages(self.cleaned_text())]
                self.changed = True
            book.passages_removed = [tuple(r) for r in foreign_runs(
                [tuple(p) for p in self.record["passages"]], config.languages)]
        # the profile describes the final text, so it is keyed by what was cut from the cleaned one
        key = "profile" if not book.passages_removed else "profile:" + hashlib.sha256(
            json.dumps(book.passages_removed).encode()).hexdigest()[:16]
        profile = self.record.get(key)
        if profile is None:
            final = remove_spans(self.cleaned_text(), book.passages_removed)
            normalised = normalise(final)
            profile = {"chars": len(final), "words": len(final.split()),
                       "sha256": hashlib.sha256(final.encode("utf-8")).hexdigest(),
                       "fingerprint": text_fingerprint(final, normalised=normalised),
                       "minhash": minhash(final, normalised=normalised).tobytes().hex()}
            self.record[key] = profile
            self.changed = True
        book.chars, book.words = profile["chars"], profile["words"]
        book.sha256, book.fingerprint = profile["sha256"], profile["fingerprint"]
        book.signature = np.frombuffer(bytes.fromhex(profile["minhash"]), dtype=np.uint64)

    def save(self) -> None:
        if self.changed:
            self.record["text_sha256"] = self.book.clean_sha256
            self.cache.save(self.book.clean_key, self.record)
            self.changed = False
