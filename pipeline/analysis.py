"""What the corpus stage needs to know about each cleaned book, computed once and cached.

Per cleaned text (keyed like the clean cache, by raw sha256 + cleaner version + options):
the language chunks' votes, the foreign passages (with ``--passage-filter``), and the final
text's size, sha256, normalised fingerprint and MinHash signature. A no-op refresh reads these
small JSON files instead of running langdetect and MinHash again.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from .book import Book
from .config import CorpusConfig
from .dedup import minhash, text_fingerprint
from .files import write_atomically
from .language import LanguageVerdict, analyse_language, detect_passages, foreign_runs, judge, remove_spans

ANALYSIS_VERSION = 1


class AnalysisCache:
    def __init__(self, cache_dir: Path):
        self.root = Path(cache_dir) / "analysis"

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.a{ANALYSIS_VERSION}.json"

    def load(self, key: str) -> dict:
        try:
            return json.loads(self.path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def save(self, key: str, record: dict) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, json.dumps(record).encode("utf-8"))


def corpus_text(book: Book) -> str:
    """The text that goes into the corpus: the cleaned text less any foreign passages."""
    assert book.clean_path is not None
    return remove_spans(book.clean_path.read_text(encoding="utf-8"), book.passages_removed)


def analyse_book(book: Book, cache: AnalysisCache, config: CorpusConfig) -> None:
    """Give a cleaned ``book`` its language judgement and, when its language is wanted, its text profile.

    Sets the book's fields; the filters in ``filters.py`` decide from them.
    """
    record = cache.load(book.clean_key)
    changed = False
    text: str | None = None

    def cleaned_text() -> str:
        nonlocal text
        if text is None:
            assert book.clean_path is not None
            text = book.clean_path.read_text(encoding="utf-8")
        return text

    if "language" not in record:
        record["language"] = analyse_language(cleaned_text()).to_record()
        changed = True
    judgement = judge(LanguageVerdict.from_record(record["language"]), config.languages, book.languages)
    book.language_detected = judgement.detected
    book.language_share = judgement.wanted_share
    book.language_disagrees = judgement.disagrees
    if judgement.wanted_share < config.min_language_share:
        if changed:
            cache.save(book.clean_key, record)
        return

    if config.passage_filter:
        if "passages" not in record:
            record["passages"] = [list(p) for p in detect_passages(cleaned_text())]
            changed = True
        book.passages_removed = [tuple(r) for r in foreign_runs(
            [tuple(p) for p in record["passages"]], config.languages)]
    profile_key = "profile" if not book.passages_removed else "profile:" + hashlib.sha256(
        json.dumps(book.passages_removed).encode()).hexdigest()[:16]
    profile = record.get(profile_key)
    if profile is None:
        final = remove_spans(cleaned_text(), book.passages_removed)
        profile = {"chars": len(final), "words": len(final.split()),
                   "sha256": hashlib.sha256(final.encode("utf-8")).hexdigest(),
                   "fingerprint": text_fingerprint(final), "minhash": minhash(final).tobytes().hex()}
        record[profile_key] = profile
        changed = True
    book.chars, book.words = profile["chars"], profile["words"]
    book.sha256, book.fingerprint = profile["sha256"], profile["fingerprint"]
    book.signature = np.frombuffer(bytes.fromhex(profile["minhash"]), dtype=np.uint64)
    if changed:
        cache.save(book.clean_key, record)
