"""Nothing corrupt is ever published: damaged caches are rebuilt, texts verified, ``current`` repaired, verify."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import THIRDS
from fake_gutenberg import FakeBook, gutenberg_text, prose
from test_corpus_cli import run

from pipeline.book import Book
from pipeline.build.run import Build
from pipeline.clean.cache import CacheDamagedError, CleanCache
from pipeline.config import CorpusConfig
from pipeline.corpus.publish import ParquetSplitWriter
from pipeline.corpus.splits import SplitKeyRegistry, SplitSettings
from pipeline.corpus.verify import verify_version
from pipeline.errors import PublishError
from pipeline.files import seal

KEPT = {101, 102, 104, 106, 108}
CLEANED = 6  # the kept books and 103, which is French


def build(make_config, **corpus):
    return Build(make_config(corpus=CorpusConfig(**corpus)), progress=False).run()


def by_id(result):
    return {b.id: b for b in result.books}


def parquet_rows(version: Path) -> dict[int, dict]:
    frames = pd.concat([pd.read_parquet(version / f"{s}.parquet") for s in ("train", "val", "test")])
    return {int(r.id): {"text": r.text, "sha256": r.sha256, "chars": r.chars} for r in frames.itertuples()}


def csv_rows(version: Path) -> dict[int, dict]:
    frame = pd.read_csv(version / "books.csv", dtype=str, keep_default_na=False)
    return {int(r["id"]): r for r in frame.to_dict("records")}


def change_book(site, book_id: int, seed: int) -> None:
    site.books[book_id].text = gutenberg_text(book_id, site.books[book_id].title, "Some Writer",
                                              prose(seed)).encode()
    site.render()


def assert_published_texts_are_whole(version: Path, expected: dict[int, str]) -> None:
    assert verify_version(version) == []
    rows, table = parquet_rows(version), csv_rows(version)
    for book_id, text in expected.items():
        assert rows[book_id]["text"] == text
        digest = hashlib.sha256(text.encode()).hexdigest()
        assert rows[book_id]["sha256"] == digest == table[book_id]["sha256"]
        assert rows[book_id]["chars"] == len(text) == int(table[book_id]["chars"])


# -- cached artefacts are verified before use ------------------------------------------------------------

def test_a_truncated_cached_text_is_cleaned_again_and_the_republish_ships_the_whole_text(site, make_config):
    first = build(make_config)
    book = by_id(first)[102]
    whole = book.clean_path.read_text(encoding="utf-8")
    book.clean_path.write_bytes(whole.encode()[:998])  # a crash, a full disk, a hand

    unchanged = build(make_config)  # nothing changed on the site: nothing is published...
    assert not unchanged.published and verify_version(first.version) == []
    assert by_id(unchanged)[102].clean_path.read_text(encoding="utf-8") == whole  # ...but the cache is repaired

    book.clean_path.write_bytes(whole.encode()[:998])
    change_book(site, 101, 7000)  # another book changes: a republish reads 102's cached text
    second = build(make_config)
    assert second.published and second.cleaned_from_cache == CLEANED - 2  # 101 changed, 102 damaged
    assert_published_texts_are_whole(second.version, {102: whole})


def test_a_same_size_corruption_is_caught_when_the_text_is_read(site, make_config):
    first = build(make_config)
    book = by_id(first)[104]
    whole = book.clean_path.read_bytes()
    book.clean_path.write_bytes(whole.replace(b"e", b"x"))  # same size: the stat check cannot see it
    change_book(site, 101, 7001)
    second = build(make_config)
    assert second.published
    assert_published_texts_are_whole(second.version, {104: whole.decode()})
    assert book.clean_path.read_bytes() == whole  # cleaned again and written back


def test_a_damaged_clean_audit_or_analysis_is_rebuilt_not_trusted(site, make_config, tmp_path):
    first = build(make_config)
    book = by_id(first)[101]
    cache = tmp_path / "corpora" / ".cache"
    audit = CleanCache(cache).paths(book.raw_sha256)[1]
    analysis = next((cache / "analysis").rglob(f"{book.clean_key}.a*.json"))
    # payloads that still parse as JSON, with another number in them: only the seal can tell
    audit.write_bytes(audit.read_bytes().replace(b'"bytes": ', b'"bytes": 1'))
    tampered = analysis.read_bytes().replace(b'"words": ', b'"words": 9')
    analysis.write_bytes(tampered)
    second = build(make_config, min_words=2001)  # an option change republishes, reading every cache
    assert second.published and second.cleaned_from_cache == CLEANED - 1
    assert by_id(second)[101].words == book.words
    assert analysis.read_bytes() != tampered
    # a record sealed for another text (written over a damaged one before this fix) is not used either
    record = json.loads(analysis.read_bytes().partition(b"\n")[2])
    record["text_sha256"] = "0" * 64
    record["profile"]["words"] = 1
    analysis.write_bytes(seal(json.dumps(record).encode()))
    third = build(make_config, min_words=2002)
    assert by_id(third)[101].words == book.words
    assert_published_texts_are_whole(third.version, {101: book.clean_path.read_text(encoding="utf-8")})


def test_a_damaged_text_is_cleaned_again_only_from_a_raw_file_that_verifies(tmp_path):
    raw = gutenberg_text(1, "A Title", "An Author", prose(1)).encode()
    (tmp_path / "raw").write_bytes(raw)
    book = Book(1, raw_path=tmp_path / "raw", raw_sha256=hashlib.sha256(raw).hexdigest())
    cache = CleanCache(tmp_path / "cache")
    assert cache.clean_book(book) is False
    whole = book.clean_path.read_text(encoding="utf-8")
    assert cache.read_text(book) == whole
    book.clean_path.write_text(whole[:-1] + "!", encoding="utf-8")
    assert cache.read_text(book) == whole and book.clean_path.read_text(encoding="utf-8") == whole
    book.clean_path.write_text("", encoding="utf-8")
    assert cache.clean_book(Book(1, raw_path=book.raw_path, raw_sha256=book.raw_sha256)) is False  # the size check
    book.clean_path.write_text(whole[:-1] + "!", encoding="utf-8")
    (tmp_path / "raw").write_bytes(raw[:-1])
    with pytest.raises(CacheDamagedError, match=r"book #1: the cached download .* does not match its sha256"):
        cache.read_text(book)


def test_cache_and_split_key_writes_are_flushed_before_and_after_the_rename(site, make_config, monkeypatch, tmp_path):
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        return real_fsync(fd)

    def replace(src, dst):
        events.append(("replace", str(src), str(dst)))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    # one job: the cache writes happen in this process, where the patches are (a worker's: test_steps.py)
    Build(make_config(jobs=1, corpus=CorpusConfig()), progress=False).run()
    corpus = tmp_path / "corpora"
    written = [e for e in events if e[0] == "replace" and (corpus / ".cache" / "clean").as_posix() in e[2]
               or e[0] == "replace" and (corpus / ".cache" / "analysis").as_posix() in e[2]
               or e[0] == "replace" and e[2].endswith("split_keys.json")]
    assert any(e[2].endswith("split_keys.json") for e in written)
    assert any(e[2].endswith(".audit.json") for e in written) and any(e[2].endswith(".txt") for e in written)
    assert any("/analysis/" in e[2] for e in written)
    for event in written:
        at = events.index(event)
        _, temp, final = event
        assert ("fsync", temp) in events[:at], f"{final} renamed before its data was flushed"
        assert ("fsync", str(Path(final).parent)) in events[at + 1:], f"{final}'s folder not flushed after"


# -- the current link ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("target", ["20000101T000000Z", "../elsewhere", "/tmp", "split_keys.json", "current"])
def test_a_broken_current_link_is_repaired_by_the_next_build(site, make_config, tmp_path, capsys, target):
    argv = ["build", "--shelf", "68", "--base-url", site.base_url, "--out", str(tmp_path / "corpora")]
    code, out, err = run(capsys, *argv)
    corpus = tmp_path / "corpora" / "science-fiction"
    version = (corpus / "current").resolve()
    (tmp_path / "corpora" / "elsewhere").mkdir()
    (corpus / "current").unlink()
    os.symlink(target, corpus / "current")
    code, out, err = run(capsys, *argv, "-q")
    assert code == 1  # 107 still has no text
    assert (corpus / "current").resolve() == version and os.readlink(corpus / "current") == version.name
    problem = f"dangles ({target} is gone)" if target[0] == "2" else \
        f"does not point at a version of this corpus ({target})"
    assert f"repaired: current {problem}; it now names {version.name}" in out
    assert f"unchanged: {corpus / 'current'} is now {version.name}" in out and "is still" not in out
    code, out, err = run(capsys, *argv)
    assert "repaired" not in out and "is still" in out


def test_a_current_link_to_a_damaged_version_is_moved_to_the_newest_complete_one(site, make_config, tmp_path):
    first = build(make_config)
    change_book(site, 101, 7002)
    second = build(make_config)
    next(second.version.glob("train/*.txt")).unlink()  # the newest version lost a shard
    third = build(make_config)
    assert third.repaired and "names an incomplete version" in third.repaired
    # built on the newest complete version (first), which holds other content: a new version is published
    assert third.published and third.previous_version == first.version.name
    assert (third.corpus_dir / "current").resolve() == third.version and verify_version(third.version) == []


# -- binary "text" -------------------------------------------------------------------------------------------

def test_a_binary_text_is_dropped_with_that_reason_and_counted(site, make_config, capsys, tmp_path):
    rng = random.Random(5)
    site.books[108].text = bytes(rng.randrange(256) for _ in range(60_000))  # an image served as text
    site.books[106].text = "A book\n\nthat came as UTF-16 without its BOM.\n".encode("utf-16-le") * 400
    site.render()
    code, out, err = run(capsys, "build", "--shelf", "68", "--base-url", site.base_url,
                         "--out", str(tmp_path / "corpora"), "-v")
    assert code == 1  # 107 has no text; the binary books are dropped, not failed
    table = csv_rows(tmp_path / "corpora" / "science-fiction" / "current")
    assert table[108]["status"] == "dropped" and table[108]["reason"].startswith("binary: ")
    assert table[106]["status"] == "dropped" and "NUL characters" in table[106]["reason"]
    manifest = json.loads((tmp_path / "corpora" / "science-fiction" / "current" / "manifest.json").read_text())
    assert manifest["counts"]["dropped"]["binary"] == 2
    assert "\n          2  binary\n" in out and f"#108  {table[108]['reason']}" in out


# -- published text verifies --------------------------------------------------------------------------------

def test_the_manifest_says_what_was_verified_before_publishing(site, make_config):
    result = build(make_config)
    manifest = json.loads((result.version / "manifest.json").read_text())
    assert manifest["verified"]["parquet_rows"] == len(KEPT)
    assert any("sha256 and chars" in check for check in manifest["verified"]["before_publish"])


def test_a_text_that_does_not_match_its_sha256_is_never_published(site, make_config, monkeypatch, tmp_path):
    first = build(make_config)
    change_book(site, 101, 7003)
    monkeypatch.setattr(Build, "corpus_text", lambda self, book: "x" * book.chars)
    with pytest.raises(PublishError, match=r"the text of book #\d+ does not match its recorded sha256"):
        build(make_config)
    corpus = tmp_path / "corpora" / "science-fiction"
    assert (corpus / "current").resolve() == first.version
    assert {p.name for p in corpus.iterdir()} == {".lock", "split_keys.json", ".checked.json", "current",
                                                 first.version.name}


def test_a_version_that_fails_verification_is_never_renamed_into_place(site, make_config, monkeypatch, tmp_path):
    first = build(make_config)
    change_book(site, 101, 7004)
    real_add = ParquetSplitWriter.add

    def add_wrong_row(self, book, text):  # a writer bug: the row's sha256 is another book's
        real_add(self, book, text)
        self.rows[-1]["sha256"] = "f" * 64

    monkeypatch.setattr(ParquetSplitWriter, "add", add_wrong_row)
    with pytest.raises(PublishError, match=r"the new version did not verify \(.*text does not match its sha256"):
        build(make_config)
    corpus = tmp_path / "corpora" / "science-fiction"
    assert (corpus / "current").resolve() == first.version
    assert not [p for p in corpus.iterdir() if p.name.startswith(".tmp-") or p.name[0].isdigit()
                and p.name != first.version.name]


def rewrite_parquet(path: Path, manifest_path: Path, change) -> None:
    """Rewrite a Parquet file with ``change`` applied to its rows, and record its new sha256 in the manifest."""
    table = pq.read_table(path)
    rows = table.to_pylist()
    change(rows)
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), path)
    manifest = json.loads(manifest_path.read_text())
    for split in manifest["splits"].values():
        if split["parquet"]["path"] == path.name:
            split["parquet"]["bytes"] = path.stat().st_size
            split["parquet"]["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    manifest_path.write_text(json.dumps(manifest))


def test_verify_passes_a_whole_version_and_names_every_problem(site, make_config, tmp_path, capsys):
    for n in range(6):
        site.books[300 + n] = FakeBook(300 + n, f"Made-up {n}", "Writer, Some", ["Science Fiction"],
                                       text=gutenberg_text(300 + n, f"Made-up {n}", "S W", prose(300 + n)).encode())
    site.render()
    result = build(make_config, split_ratios=THIRDS)
    shelf = tmp_path / "corpora" / "science-fiction"
    code, out, err = run(capsys, "verify", str(shelf))
    assert (code, out, err) == (0, f"ok: {result.version} is whole\n", "")
    code, out, _ = run(capsys, "verify", str(result.version))
    assert code == 0

    copy = tmp_path / "copy"
    shutil.copytree(result.version, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    shard = copy / manifest["splits"]["train"]["shards"][0]["path"]
    shard.write_bytes(shard.read_bytes().replace(b"e", b"E", 1))
    (copy / "cleaning.jsonl").unlink()
    code, out, err = run(capsys, "verify", str(copy))
    lines = out.splitlines()
    assert code == 1 and len(lines) == 3, out
    assert f"{copy}: {shard.relative_to(copy)}: sha256 differs from the manifest" in lines
    assert f"{copy}: cleaning.jsonl: No such file or directory" in lines
    assert any("train/: the text shards differ from the text of #" in line for line in lines)
    assert err == f"error: {copy} is not whole: 3 problems\n"

    # rows whose text no longer matches, in a file whose own sha256 was updated to match the manifest
    fresh = tmp_path / "fresh"
    shutil.copytree(result.version, fresh)

    def damage(rows):
        rows[0]["text"] = rows[0]["text"][:998]

    rewrite_parquet(fresh / "val.parquet", fresh / "manifest.json", damage)
    code, out, _ = run(capsys, "verify", str(fresh))
    assert code == 1
    assert "val.parquet: row 0 (#" in out and "text has 998 characters, the row says" in out
    assert "text does not match its sha256" in out and "val/: the text shards differ" in out


def test_verify_reports_a_broken_current_and_refuses_a_folder_without_a_corpus(site, make_config, tmp_path, capsys):
    build(make_config)
    shelf = tmp_path / "corpora" / "science-fiction"
    (shelf / "current").unlink()
    os.symlink("20000101T000000Z", shelf / "current")
    code, out, _ = run(capsys, "verify", str(shelf))
    assert code == 1 and out == f"{shelf / 'current'}: current dangles (20000101T000000Z is gone)\n"
    code, out, err = run(capsys, "verify", str(tmp_path))
    assert code == 2 and "no published corpus at" in err and len(err.strip().splitlines()) == 1
    code, out, err = run(capsys, "report", str(shelf))
    assert code == 2 and err.strip().splitlines() == [
        f"error: {shelf / 'current'} dangles (20000101T000000Z is gone); run the build again to repair it, "
        f"or give a version folder"]


def test_split_key_registry_records_the_settings(tmp_path):
    registry = SplitKeyRegistry(tmp_path)
    registry.save({1: 1}, SplitSettings("salt", (0.5, 0.25, 0.25)))
    again = SplitKeyRegistry(tmp_path)
    assert again.load() == {1: 1} and again.settings() == SplitSettings("salt", (0.5, 0.25, 0.25))
