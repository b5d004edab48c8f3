"""Integration: build the science-fiction shelf from ../shared/gutenberg/serve.py, the stand-in site
made of real Gutenberg files. Skipped where that folder is absent (a clone elsewhere)."""

from __future__ import annotations

import re
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import STANDIN

from pipeline.build.run import Build
from pipeline.config import BuildConfig, HttpConfig
from pipeline.corpus.publish import CorpusDir, verify_version

pytestmark = [pytest.mark.standin,
              pytest.mark.skipif(not (STANDIN / "serve.py").is_file(), reason="../shared/gutenberg is absent")]

SHELF_ID = 68


def shelf_book_ids() -> set[int]:
    """The shelf's books read straight from the stand-in's page files, not through the pipeline."""
    ids: set[int] = set()
    for page in (STANDIN / "site" / "ebooks" / "bookshelf" / str(SHELF_ID)).glob("*.html"):
        ids.update(int(n) for n in re.findall(r'href="/ebooks/(\d+)"', page.read_text(encoding="utf-8")))
    return ids


@contextmanager
def standin(log: Path, *faults: str):
    process = subprocess.Popen([sys.executable, str(STANDIN / "serve.py"), "--port", "0", "--log", str(log), *faults],
                               stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith("serving http://127.0.0.1:"), line
        yield line.split()[-1]
    finally:
        process.terminate()
        process.wait(timeout=10)


def statuses(log: Path) -> list[str]:
    return [line.split()[2] for line in log.read_text().splitlines()] if log.exists() else []


def build(base_url: str, out: Path, **overrides):
    config = BuildConfig(shelf="science-fiction", base_url=base_url, out=out, **overrides)
    return Build(config, progress=False).run()


def assert_byte_identical(result) -> None:
    for book in result.books:
        site_file = STANDIN / "site" / "cache" / "epub" / str(book.id) / f"pg{book.id}.txt"
        assert book.raw_path is not None, (book.id, book.status, book.reason)
        assert book.raw_path.read_bytes() == site_file.read_bytes(), book.id


def rdf_languages(book_id: int) -> set[str]:
    """The book's languages read straight from the stand-in's RDF file; empty when it has none."""
    rdf = STANDIN / "site" / "cache" / "epub" / str(book_id) / f"pg{book_id}.rdf"
    if not rdf.is_file():
        return set()
    return set(re.findall(r'RFC4646">([^<]+)<', rdf.read_text(encoding="utf-8")))


def test_the_shelf_is_built_keeping_english_books_and_a_rerun_changes_nothing(tmp_path):
    log = tmp_path / "requests.log"
    with standin(log) as base_url:
        first = build(base_url, tmp_path / "corpora")
        assert {b.id for b in first.books} == shelf_book_ids()
        assert {b.fetched for b in first.books} == {"downloaded"}
        assert first.exit_code == 0 and first.published
        assert_byte_identical(first)
        log.write_text("")
        second = build(base_url, tmp_path / "corpora")
    assert {b.fetched for b in second.books} == {"not_modified"}
    assert statuses(log) and "200" not in statuses(log)
    assert not second.published and second.version == first.version
    assert CorpusDir(tmp_path / "corpora" / "science-fiction").versions() == [first.version]
    assert verify_version(first.version) == []

    foreign = {b.id for b in first.books if rdf_languages(b.id) and "en" not in rdf_languages(b.id)}
    english = {b.id for b in first.books if "en" in rdf_languages(b.id)}
    assert len(foreign) >= 4 and len(english) > 100
    for book in first.books:
        if book.id in foreign:
            assert not book.usable and book.reason.startswith("language: detected "), (book.id, book.reason)
        elif book.id in english:
            # English books are kept, unless too short or another edition of a kept one
            assert book.usable or book.reason.startswith(("too short", "duplicate", "near-duplicate")), book.reason
    kept = {b.id for b in first.kept}
    assert len(kept) >= len(english) - 5


def test_injected_faults_still_end_with_every_book_byte_identical(tmp_path):
    log = tmp_path / "requests.log"
    with standin(log, "--fail-every", "7", "--truncate-every", "11") as base_url:
        result = build(base_url, tmp_path / "corpora", http=HttpConfig(backoff=0.05))
    seen = statuses(log)
    assert "503" in seen and "200-truncated" in seen  # the faults really happened
    assert {b.id for b in result.books} == shelf_book_ids()
    assert result.exit_code == 0, [(b.id, b.reason) for b in result.failed]
    assert_byte_identical(result)


def test_the_catalog_lists_the_same_books_as_the_shelf_pages(tmp_path):
    with standin(tmp_path / "requests.log") as base_url:
        result = build(base_url, tmp_path / "corpora", source="catalog", dry_run=True)
    assert {b.id for b in result.books} == shelf_book_ids()
