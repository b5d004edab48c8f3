"""Writing versions: shards, the lock, the current link, pruning."""

from __future__ import annotations

import os
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from pipeline.book import Book
from pipeline.corpus import publish
from pipeline.corpus.lock import CorpusLock
from pipeline.corpus.publish import ParquetSplitWriter, ShardWriter
from pipeline.corpus.versions import CorpusDir
from pipeline.errors import LockedError


def test_shards_stay_under_the_limit_and_books_do_not_straddle_them(tmp_path):
    books = [("é" * 300 + f" book {i}").encode() for i in range(10)]  # 610 bytes each
    writer = ShardWriter(tmp_path / "train", tmp_path, "train", limit=1500, separator=b"\n--\n")
    for data in books:
        writer.add(data)
    records = writer.close()
    assert all(r.bytes <= 1500 for r in records)
    assert [r.books for r in records] == [2, 2, 2, 2, 2]
    joined = b"\n--\n".join((tmp_path / r.path).read_bytes() for r in records)
    assert joined == b"\n--\n".join(books)


def test_a_book_larger_than_a_shard_is_cut_between_characters(tmp_path):
    big = ("ü" * 2000).encode()  # 4,000 bytes of two-byte characters
    writer = ShardWriter(tmp_path / "train", tmp_path, "train", limit=1001, separator=b"|")
    writer.add(b"small")
    writer.add(big)
    records = writer.close()
    parts = [(tmp_path / r.path).read_bytes() for r in records]
    assert all(len(p) <= 1001 for p in parts)
    for part in parts:
        part.decode("utf-8")  # every shard is valid UTF-8 on its own
    assert b"".join(parts[1:]) == big and parts[0] == b"small"


def test_parquet_rows_are_written_in_bounded_row_groups_in_order(tmp_path, monkeypatch):
    monkeypatch.setattr(publish, "PARQUET_ROW_GROUP_CHARS", 2500)
    writer = ParquetSplitWriter(tmp_path / "train.parquet", tmp_path)
    texts = [f"book {i} " + "ß" * (300 * i) for i in range(1, 11)]  # 300 to 3,000 characters
    for i, text in enumerate(texts, 1):
        writer.add(Book(i, title=f"Title {i}", author="A. Writer", words=i), text)
    record = writer.close()
    parquet = pq.ParquetFile(tmp_path / "train.parquet")
    groups = [parquet.metadata.row_group(g).num_rows for g in range(parquet.num_row_groups)]
    # a group closes once it holds 2,500 characters or more: books 1-4 (3,028), 5-6, 7-8, 9, 10
    assert groups == [4, 2, 2, 1, 1]
    table = parquet.read()
    assert table.column("text").to_pylist() == texts
    assert table.column("id").to_pylist() == list(range(1, 11))
    assert table.column("words").to_pylist() == list(range(1, 11))
    assert record.bytes == (tmp_path / "train.parquet").stat().st_size


def test_a_second_lock_is_refused_with_the_owners_pid(tmp_path):
    with CorpusLock(tmp_path):
        with pytest.raises(LockedError, match=rf"another build is running \(pid {os.getpid()}\)") as caught:
            CorpusLock(tmp_path).acquire()
        assert caught.value.exit_code == 75
    with CorpusLock(tmp_path):  # released: free again
        pass


def test_a_lock_left_by_a_killed_process_is_taken_over(tmp_path):
    code = ("import os, signal, sys; from pipeline.corpus.lock import CorpusLock; "
            f"CorpusLock({str(tmp_path)!r}).acquire(); print(os.getpid(), flush=True); "
            "os.kill(os.getpid(), signal.SIGKILL)")
    dead = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert dead.returncode == -9
    lock = CorpusLock(tmp_path)
    lock.acquire()
    assert lock.taken_over_from == int(dead.stdout)
    assert (tmp_path / ".lock").read_text().strip() == str(os.getpid())
    lock.release()


def test_versions_are_named_in_order_even_within_one_second(tmp_path):
    corpus = CorpusDir(tmp_path)
    names = []
    for _ in range(3):
        name = corpus.new_version_name()
        (tmp_path / name).mkdir()
        names.append(name)
    assert [p.name for p in corpus.versions()] == names and len(set(names)) == 3


def test_pruning_keeps_the_newest_and_never_the_current(tmp_path):
    corpus = CorpusDir(tmp_path)
    names = ["20260101T000000Z", "20260102T000000Z", "20260103T000000Z", "20260104T000000Z"]
    for name in names:
        (tmp_path / name).mkdir()
        (tmp_path / name / "manifest.json").write_text('{"files": {}, "splits": {}}')
    os.symlink(names[0], tmp_path / "current")  # an old version made current again by hand
    assert corpus.prune(keep=2) == [names[1]]
    assert [p.name for p in corpus.versions()] == [names[0], names[2], names[3]]


def test_a_broken_current_link_falls_back_to_the_newest_complete_version(tmp_path):
    corpus = CorpusDir(tmp_path)
    for name in ("20260101T000000Z", "20260102T000000Z", "20260103T000000Z"):
        (tmp_path / name).mkdir()
    for name in ("20260101T000000Z", "20260102T000000Z"):
        (tmp_path / name / "manifest.json").write_text('{"version": "%s", "files": {}, "splits": {}}' % name)
        (tmp_path / name / "books.csv").write_text("id,status,split,split_key\n1,kept,train,1\n")
    os.symlink("20269999T000000Z", tmp_path / "current")  # deleted by hand
    previous = corpus.read_current()
    assert previous.path.name == "20260102T000000Z" and previous.split_keys == {1: 1}
