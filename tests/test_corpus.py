"""The published corpus end to end against the tests' site: filters, splits, versions, refresh."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import THIRDS
from fake_gutenberg import FakeBook, french, gutenberg_text, prose
from test_dedup import edition

from pipeline.build.run import Build
from pipeline.config import CorpusConfig
from pipeline.corpus.publish import BOOKS_COLUMNS
from pipeline.corpus.verify import verify_version
from pipeline.corpus.versions import CorpusDir
from pipeline.errors import PipelineError

REPO = Path(__file__).resolve().parents[1]
KEPT = {101, 102, 104, 106, 108}  # English, with text; 103 is French, 105 audio, 107 has no text


def add_book(site, book_id: int, body: str, *, language: str = "en", title: str | None = None,
             author: str = "Some Writer") -> None:
    title = title or f"Made-up Book {book_id}"
    text = gutenberg_text(book_id, title, author, body).encode("utf-8")
    site.books[book_id] = FakeBook(book_id, title, "Writer, Some", ["Science Fiction"], language=language,
                                   downloads=10, text=text)
    site.render()


def build(make_config, **corpus):
    return Build(make_config(corpus=CorpusConfig(**corpus)), progress=False).run()


def rows(version: Path) -> dict[int, dict]:
    with open(version / "books.csv", encoding="utf-8", newline="") as handle:
        return {int(r["id"]): r for r in csv.DictReader(handle)}


def splits_of(version: Path) -> dict[int, str]:
    return {i: r["split"] for i, r in rows(version).items() if r["status"] == "kept"}


def test_a_build_publishes_a_complete_version_with_every_file(site, make_config, tmp_path):
    result = build(make_config)
    corpus = tmp_path / "corpora" / "science-fiction"
    current = corpus / "current"
    assert current.is_symlink() and current.resolve() == result.version and result.published
    assert verify_version(current) == []

    manifest = json.loads((current / "manifest.json").read_text())
    assert manifest["schema_version"] == 1 and manifest["tool"]["version"]
    assert manifest["source"]["base_url"] == site.base_url
    assert manifest["config"]["corpus"]["languages"] == ["en"]
    assert manifest["counts"]["kept"] == len(KEPT)
    assert manifest["counts"]["dropped"] == {"failed": 1, "language": 1, "not text": 1}
    assert sum(s["books"] for s in manifest["splits"].values()) == len(KEPT)

    table = rows(current)
    assert list(next(iter(table.values()))) == BOOKS_COLUMNS
    assert set(table) == {101, 102, 103, 104, 105, 106, 107, 108}
    assert {i for i, r in table.items() if r["status"] == "kept"} == KEPT
    assert all(table[i]["split"] in ("train", "val", "test") and table[i]["sha256"] for i in KEPT)
    french_row = table[103]
    assert french_row["status"] == "dropped" and french_row["reason"].startswith("language: detected fr")
    assert (french_row["language_meta"], french_row["language_detected"]) == ("fr", "fr")
    assert table[105]["reason"] == "not text: Sound" and table[107]["reason"].startswith("failed: no plain-text")

    books = {b.id: b for b in result.books}
    frames = pd.concat([pd.read_parquet(current / f"{s}.parquet") for s in ("train", "val", "test")])
    assert set(frames["id"]) == KEPT
    for row in frames.itertuples():
        assert row.text == books[row.id].clean_path.read_text(encoding="utf-8")
        assert row.title == books[row.id].title and row.author == books[row.id].author
    audit = [json.loads(line)["id"] for line in (current / "cleaning.jsonl").open()]
    assert audit == sorted(KEPT | {103})


def test_shards_hold_every_kept_book_joined_by_the_separator(site, make_config):
    for n in range(8):
        add_book(site, 200 + n, prose(200 + n))
    result = build(make_config, shard_size=40_000, separator="\n\n#####\n\n", split_ratios=THIRDS)
    manifest = json.loads((result.version / "manifest.json").read_text())
    books = {b.id: b for b in result.books}
    for split, info in manifest["splits"].items():
        texts = [books[i].clean_path.read_text(encoding="utf-8") for i in info["ids"]]
        assert all(books[i].split == split for i in info["ids"])
        shards = [(result.version / s["path"]).read_bytes() for s in info["shards"]]
        assert all(len(s) <= 40_000 for s in shards)
        assert b"\n\n#####\n\n".join(shards).decode() == "\n\n#####\n\n".join(texts)
        assert info["chars"] == sum(len(t) for t in texts)
    assert all(manifest["splits"][s]["books"] for s in ("train", "val", "test")), "every split should get books"


def test_parquet_splits_load_with_hugging_face_datasets(site, make_config, monkeypatch, tmp_path):
    import datasets  # in the test extra

    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    for n in range(8):
        add_book(site, 200 + n, prose(200 + n))
    result = build(make_config, split_ratios=THIRDS)
    files = {s: str(result.version / f"{s}.parquet") for s in ("train", "val", "test")}
    loaded = datasets.load_dataset("parquet", data_files=files, cache_dir=str(tmp_path / "hf"))
    manifest = json.loads((result.version / "manifest.json").read_text())
    for split in files:
        assert sorted(loaded[split]["id"]) == manifest["splits"][split]["ids"]
        assert {"id", "title", "author", "text"} <= set(loaded[split].column_names)


def test_short_books_and_duplicate_editions_are_dropped_with_the_kept_id(site, make_config):
    add_book(site, 120, prose(120, paragraphs=10))  # about 600 words
    add_book(site, 121, prose(101), title="The Clockwork Comet", author="Ada Vance")  # 101 under another number
    add_book(site, 122, edition(prose(104), 0.005))  # another transcription of 104
    result = build(make_config)
    books = {b.id: b for b in result.books}
    assert re.fullmatch(r"too short: 6\d\d words \(needs 2,000\)", books[120].reason)
    assert books[121].reason == "duplicate: same text as #101" and books[121].kept_id == 101
    assert books[122].reason.startswith("near-duplicate: edition of #104 (Jaccard 0.9")
    table = rows(result.version)
    assert table[121]["kept_id"] == "101" and table[121]["split_key"] == "101"
    assert table[122]["split_key"] == "104"
    assert {i for i, r in table.items() if r["status"] == "kept"} == KEPT


def test_adding_and_removing_books_never_moves_a_kept_book(site, make_config):
    add_book(site, 121, prose(101), title="The Clockwork Comet", author="Ada Vance")  # a copy of 101
    first = build(make_config, split_ratios=THIRDS)
    before = splits_of(first.version)
    for n in range(30):
        add_book(site, 300 + n, prose(300 + n))
    second = build(make_config, split_ratios=THIRDS)
    after = splits_of(second.version)
    assert {i: after[i] for i in before} == before
    added = sorted(i for change in second.changes.values() for i in change["added"])
    assert added == list(range(300, 330))
    assert not any(change["moved_in"] or change["moved_out"] or change["removed"] for change in second.changes.values())

    del site.books[101]  # 101 leaves the shelf: its copy 121 is kept now, where the work already was
    site.render()
    third = build(make_config, split_ratios=THIRDS)
    now = splits_of(third.version)
    assert 101 not in now and now[121] == before[101]
    assert {i: now[i] for i in after if i != 101} == {i: s for i, s in after.items() if i != 101}
    assert third.changes[before[101]]["removed"] == [101] and third.changes[before[101]]["added"] == [121]


def test_a_refresh_with_nothing_changed_downloads_and_publishes_nothing(site, make_config, tmp_path):
    first = build(make_config)
    site.clear_log()
    second = build(make_config)
    assert not second.published and second.version == first.version
    assert site.count(200) == 0
    assert CorpusDir(tmp_path / "corpora" / "science-fiction").versions() == [first.version]


def test_a_changed_book_publishes_a_new_version_and_keeps_the_old_ones(site, make_config, tmp_path):
    first = build(make_config, keep_versions=2)
    versions = [first.version]
    for n in range(3):
        site.books[101].text = gutenberg_text(101, "The Clockwork Comet", "Ada Vance", prose(1000 + n)).encode()
        site.render()
        result = build(make_config, keep_versions=2)
        assert result.published and result.previous_version == versions[-1].name
        split = {b.id: b for b in result.books}[101].split
        assert result.changes[split]["changed"] == [101]
        versions.append(result.version)
    corpus = CorpusDir(tmp_path / "corpora" / "science-fiction")
    assert corpus.versions() == versions[-2:]
    assert all(verify_version(v) == [] for v in versions[-2:])
    assert (corpus.root / "current").resolve() == versions[-1]


def test_a_failed_refresh_keeps_the_last_good_copy_and_reports_it(site, make_config):
    first = build(make_config)
    site.fail("/cache/epub/101/pg101.txt", *["503"] * 10)
    site.retry_after = "0"
    result = Build(make_config(http=make_config().http.__class__(backoff=0.01, retries=1)), progress=False).run()
    book = {b.id: b for b in result.books}[101]
    assert book.usable and "503" in book.stale
    assert result.exit_code == 1
    assert not result.published and result.version == first.version


def test_when_no_book_is_kept_nothing_is_published(site, make_config, tmp_path):
    with pytest.raises(PipelineError, match=r"no book of shelf 'Science Fiction' was kept \(.*language.*\); "
                                            r"nothing was published"):
        build(make_config, languages=["de"])
    assert not (tmp_path / "corpora" / "science-fiction" / "current").exists()


def test_other_languages_can_be_wanted(site, make_config):
    result = build(make_config, languages=["fr"], min_words=100, allow_empty_splits=True)  # one French book
    assert {b.id for b in result.kept} == {103}


def test_the_passage_filter_cuts_a_foreign_half_and_records_it(site, make_config):
    english, foreign = prose(130, paragraphs=40), french(130, paragraphs=12)
    add_book(site, 130, english + "\n\n" + foreign)
    kept_whole = {b.id: b for b in build(make_config, min_language_share=0.6).books}[130]
    assert kept_whole.usable and kept_whole.passages_removed == []
    result = build(make_config, min_language_share=0.6, passage_filter=True)
    book = {b.id: b for b in result.books}[130]
    assert book.usable and [lang for _, _, lang in book.passages_removed] == ["fr"]
    text = pd.read_parquet(result.version / f"{book.split}.parquet").set_index("id").loc[130, "text"]
    assert foreign.split("\n\n")[3] not in text and english.split("\n\n")[-1] in text
    assert int(rows(result.version)[130]["passage_chars_removed"]) >= len(foreign) - 10
    audit = {json.loads(line)["id"]: json.loads(line) for line in (result.version / "cleaning.jsonl").open()}
    assert audit[130]["passages_removed"][0]["language"] == "fr"


KILLER = """
import os, signal, sys
import pipeline.corpus.publish as publish
from pipeline.cli import main

countdown = int(sys.argv[1])
calls = 0

def wrap(name):
    real = getattr(os, name)
    def step(*args, **kwargs):
        global calls
        if armed[0]:
            calls += 1
            if calls == countdown:
                os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)
    setattr(os, name, step)

armed = [False]
for name in ("fsync", "rename", "replace", "symlink"):
    wrap(name)
real_publish = publish.publish
def publish_and_count(*args, **kwargs):
    armed[0] = True
    return real_publish(*args, **kwargs)
publish.publish = publish_and_count
import pipeline.build.run
pipeline.build.run.publish = publish_and_count
sys.exit(main(sys.argv[2:]))
"""


def test_kill_9_at_every_step_of_publishing_leaves_a_complete_current(site, make_config, tmp_path):
    out = tmp_path / "corpora"
    first = build(make_config)
    old = first.version
    argv = ["build", "--shelf", "68", "--base-url", site.base_url, "--out", str(out), "-q"]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    outcomes = set()
    for step in range(1, 60):
        site.books[101].text = gutenberg_text(101, "The Clockwork Comet", "Ada Vance", prose(5000 + step)).encode()
        site.render()
        killed = subprocess.run([sys.executable, "-c", KILLER, str(step), *argv], cwd=REPO, env=env,
                                capture_output=True, text=True, timeout=120)
        current = (out / "science-fiction" / "current").resolve()
        assert verify_version(current) == [], (step, current)
        if killed.returncode != -signal.SIGKILL:
            assert killed.returncode == 1, killed.stderr  # ran to the end: 107 has no text
            break
        outcomes.add("old" if current == old else "new")
        old = current
    else:
        raise AssertionError("publishing took more than 60 steps")
    assert outcomes == {"old", "new"}, "kills should land both before and after the switch"
    again = build(make_config)
    assert not [p for p in (out / "science-fiction").iterdir() if p.name.startswith(".tmp-")]
    assert verify_version(again.version) == []


def test_a_book_missing_for_a_night_comes_back_in_its_split(site, make_config):
    add_book(site, 121, prose(101), title="The Clockwork Comet", author="Ada Vance")  # a copy of 101
    first = build(make_config, split_ratios=THIRDS)
    work_split = splits_of(first.version)[101]
    del site.books[101]
    site.render()
    assert splits_of(build(make_config, split_ratios=THIRDS).version)[121] == work_split
    text = site.books[121].text
    site.books[121].text = None  # gone for one run: 404 everywhere, so the cached copy is not used
    site.render()
    missing = build(make_config, split_ratios=THIRDS)
    assert 121 not in splits_of(missing.version) and rows(missing.version)[121]["split_key"] == "101"
    site.books[121].text = text
    site.render()
    back = build(make_config, split_ratios=THIRDS)
    assert splits_of(back.version)[121] == work_split


def test_losing_the_current_version_forgets_no_split(site, make_config, tmp_path):
    import shutil

    add_book(site, 121, prose(101), title="The Clockwork Comet", author="Ada Vance")
    for n in range(12):
        add_book(site, 300 + n, prose(300 + n))
    first = build(make_config, split_ratios=THIRDS)
    del site.books[101]
    site.render()
    second = build(make_config, split_ratios=THIRDS)
    before = splits_of(second.version)
    shutil.rmtree(second.version)
    shutil.rmtree(first.version)  # no version left at all: only the key registry remembers
    third = build(make_config, split_ratios=THIRDS)
    assert splits_of(third.version) == before
