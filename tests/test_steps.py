"""The per-book steps: keep or drop with a reason, timed and counted; the CPU steps in worker processes."""

from __future__ import annotations

import hashlib
import os
import random

import numpy as np
from conftest import fast_http
from fake_gutenberg import gutenberg_text, prose

import pipeline.build.run
from pipeline.book import DOWNLOADED, DROPPED, FAILED, Book, Outcome
from pipeline.build.run import Build
from pipeline.build.steps import CPU_STEPS, BookContext, CpuServices, Step, run_cpu_steps, run_steps
from pipeline.build.workers import CpuPool
from pipeline.config import CorpusConfig


def downloaded_book(tmp_path, book_id: int, body: str | None = None) -> Book:
    data = gutenberg_text(book_id, f"Book {book_id}", "Some Writer", body or prose(book_id)).encode("utf-8")
    raw = tmp_path / f"raw-{book_id}.txt"
    raw.write_bytes(data)
    return Book(book_id, languages=["en"], status=DOWNLOADED, fetched=DOWNLOADED, raw_path=raw,
                raw_sha256=hashlib.sha256(data).hexdigest(), raw_size=len(data))


def services(tmp_path) -> CpuServices:
    return CpuServices(tmp_path / "cache", CorpusConfig(min_words=500))


def test_a_new_filter_is_one_function_and_one_line(tmp_path):
    def no_sevens(book: Book, ctx: BookContext) -> Outcome:
        return Outcome.dropped("unlucky: id ends in 7") if book.id % 10 == 7 else Outcome.kept()

    steps = (*CPU_STEPS, Step("no sevens", no_sevens))
    kept, dropped = downloaded_book(tmp_path, 11), downloaded_book(tmp_path, 17)
    for book in (kept, dropped):
        ctx = BookContext(services(tmp_path))
        run_steps(book, steps, ctx)
        ctx.finish()
    assert kept.usable and kept.words > 500
    assert dropped.status == DROPPED and dropped.reason == "unlucky: id ends in 7"
    assert set(ctx.seconds) == {s.name for s in steps} and ctx.dropped_by == "no sevens"


def test_a_step_that_raises_fails_its_book_and_stops_it(tmp_path):
    ran = []

    def boom(book, ctx):
        raise ValueError("odd bytes")

    def after(book, ctx):
        ran.append(book.id)
        return Outcome.kept()

    book = downloaded_book(tmp_path, 12)
    ctx = BookContext(services(tmp_path))
    assert not run_steps(book, (Step("boom", boom), Step("after", after)), ctx)
    assert book.status == FAILED and book.reason.startswith("unexpected ValueError: odd bytes")
    assert ran == [] and ctx.dropped_by == "error"


def test_worker_processes_give_what_this_process_gives(tmp_path):
    books = [downloaded_book(tmp_path, n) for n in range(21, 25)]
    here = [run_cpu_steps(downloaded_book(tmp_path, b.id), services(tmp_path / "a"))[0] for b in books]
    pool = CpuPool(2, services(tmp_path / "b"))
    try:
        there = [future.result(timeout=120)[0] for future in [pool.submit(b) for b in books]]
    finally:
        pool.shutdown()
    for mine, theirs in zip(here, there):
        assert theirs.usable and theirs.words > 500
        assert (mine.sha256, mine.fingerprint, mine.words, mine.language_detected) == (
            theirs.sha256, theirs.fingerprint, theirs.words, theirs.language_detected)
        assert np.array_equal(mine.signature, theirs.signature)
        assert theirs.clean_path.is_file() and str(tmp_path / "b") in str(theirs.clean_path)


def test_a_book_failing_in_a_worker_fails_alone(tmp_path):
    broken = downloaded_book(tmp_path, 31)
    broken.raw_path.unlink()
    pool = CpuPool(2, services(tmp_path))
    try:
        failed, ctx = pool.submit(broken).result(timeout=120)
        fine, _ = pool.submit(downloaded_book(tmp_path, 32)).result(timeout=120)
    finally:
        pool.shutdown()
    assert failed.status == FAILED and "No such file" in failed.reason and ctx.dropped_by == "error"
    assert fine.usable


def test_one_job_and_two_build_the_same_corpus_and_count_drops_by_step(site, make_config, tmp_path, monkeypatch):
    monkeypatch.setattr("pipeline.build.run.MIN_BOOKS_FOR_WORKERS", 1)  # the test site's eight books go to workers
    started = []
    real_pool = pipeline.build.run.CpuPool
    monkeypatch.setattr("pipeline.build.run.CpuPool", lambda *a: started.append(a) or real_pool(*a))
    one = Build(make_config(jobs=1, out=tmp_path / "one"), progress=False).run()
    assert started == []
    two = Build(make_config(jobs=2, out=tmp_path / "two"), progress=False).run()
    assert len(started) == 1
    csv_one = (one.version / "books.csv").read_bytes()
    assert csv_one == (two.version / "books.csv").read_bytes()
    assert one.dropped_by_step == two.dropped_by_step == {"text only": 1, "download": 1, "language filter": 1}
    assert two.stage_seconds["language"] > 0 and two.stage_seconds["clean"] > 0


def test_books_listed_from_the_catalog_need_no_rdf(site, make_config):
    result = Build(make_config(source="catalog"), progress=False).run()
    assert not [r for r in site.log if r.path.endswith(".rdf")]
    books = {b.id: b for b in result.books}
    assert books[105].reason == "not text: Sound" and books[103].languages == ["fr"]
    assert books[101].title == "The Clockwork Comet" and books[101].usable


def test_a_refresh_or_a_small_build_starts_no_worker(site, make_config, monkeypatch):
    started = []
    real_pool = pipeline.build.run.CpuPool
    monkeypatch.setattr("pipeline.build.run.CpuPool", lambda *a: started.append(a) or real_pool(*a))
    Build(make_config(jobs=2), progress=False).run()
    assert started == []  # eight books: below MIN_BOOKS_FOR_WORKERS
    monkeypatch.setattr("pipeline.build.run.MIN_BOOKS_FOR_WORKERS", 1)
    refresh = Build(make_config(jobs=2), progress=False).run()
    assert started == [] and not refresh.published  # everything cached: nothing for a worker to do


# -- 9a's and 9b's guarantees, as steps and in worker processes -------------------------------------

def test_a_binary_text_is_dropped_by_its_step_in_a_worker(tmp_path):
    binary = downloaded_book(tmp_path, 41)
    data = random.Random(41).randbytes(200_000)
    binary.raw_path.write_bytes(data)
    binary.raw_sha256, binary.raw_size = hashlib.sha256(data).hexdigest(), len(data)
    pool = CpuPool(2, services(tmp_path))
    try:
        book, ctx = pool.submit(binary).result(timeout=120)
    finally:
        pool.shutdown()
    assert book.status == DROPPED and book.reason.startswith("binary: ")
    assert ctx.dropped_by == "binary filter" and "language" not in ctx.seconds


def test_a_worker_trusts_no_damaged_cache_and_sends_its_folders_back_to_flush(tmp_path):
    here, _ = run_cpu_steps(downloaded_book(tmp_path, 42), services(tmp_path))
    text = here.clean_path.read_bytes()
    here.clean_path.write_bytes(bytes([text[0] ^ 1]) + text[1:])  # same size: only its sha256 tells
    cpu = services(tmp_path)
    cpu.analysis_cache.path(here.clean_key).unlink()  # so the worker reads the cleaned text again
    pool = CpuPool(2, cpu)
    try:
        there, ctx = pool.submit(downloaded_book(tmp_path, 42)).result(timeout=120)
    finally:
        pool.shutdown()
    assert there.usable and (there.sha256, there.words) == (here.sha256, here.words)
    assert here.clean_path.read_bytes() == text  # cleaned again from the verified raw file
    assert {here.clean_path.parent, cpu.analysis_cache.path(here.clean_key).parent} <= set(ctx.unsynced_folders)


def test_a_book_whose_rdf_fails_stops_at_the_metadata_step_when_workers_run(site, make_config, monkeypatch):
    monkeypatch.setattr("pipeline.build.run.MIN_BOOKS_FOR_WORKERS", 1)
    site.fail("/cache/epub/101/pg101.rdf", *["503"] * 10)
    site.retry_after = "0"
    result = Build(make_config(jobs=2, http=fast_http(retries=1)), progress=False).run()
    book = {b.id: b for b in result.books}[101]
    assert book.status == FAILED and book.reason.startswith("RDF metadata could not be fetched: HTTP 503")
    assert result.dropped_by_step["metadata"] == 1 and result.exit_code == 1
    assert not site.requests_for("/cache/epub/101/pg101.txt")  # its text is not even fetched
    assert result.kept and 101 not in {b.id for b in result.kept}


def test_the_folders_workers_wrote_into_are_flushed_before_the_version_is_renamed_in(site, make_config, monkeypatch):
    monkeypatch.setattr("pipeline.build.run.MIN_BOOKS_FOR_WORKERS", 1)
    events = []
    real_fsync, real_rename = os.fsync, os.rename

    def fsync(fd):  # only this process's: the workers' own file fsyncs are not seen here
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        return real_fsync(fd)

    def rename(src, dst):
        events.append(("rename", str(dst)))
        return real_rename(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "rename", rename)
    result = Build(make_config(jobs=2), progress=False).run()
    cache = result.corpus_dir.parent / ".cache"
    folders = {str(p) for kind in ("clean", "analysis") for p in (cache / kind).iterdir() if p.is_dir()}
    assert folders
    published = events.index(("rename", str(result.version)))
    flushed = {path for what, path in events[:published] if what == "fsync"}
    assert folders <= flushed, f"not flushed before publishing: {sorted(folders - flushed)}"
