"""A corpus can be trained on, or the build says so: every split gets a book, and no book ever moves for it.

Selections of a few books (``--ids 35,36``, ``--top 20``, an author) split by hash alone often leave
val or test empty. With at least 3 kept books the build places the books nearest an empty split's
interval into it and records the placement in ``split_keys.json``; with fewer it refuses, in one
line, unless ``--allow-empty-splits``.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest
from fake_gutenberg import FakeBook, FakeGutenberg, gutenberg_text, prose

from pipeline.cli import main
from pipeline.corpus.splits import SPLITS, fill_empty_splits, split_of

SALT = "gutenberg-lstm"
RATIOS = (0.9, 0.05, 0.05)


def kept_splits(corpus: Path) -> dict[int, str]:
    with open(corpus / "current" / "books.csv", newline="", encoding="utf-8") as handle:
        return {int(row["id"]): row["split"] for row in csv.DictReader(handle) if row["status"] == "kept"}


def build(capsys, site, out: Path, ids: list[int], *extra: str) -> tuple[int, str, str]:
    code = main(["build", "--ids", ",".join(map(str, ids)), "--name", "picks", "--base-url", site.base_url,
                 "--out", str(out), "--jobs", "1", "--min-words", "200", *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def many_books():
    """A site of 40 made-up English books, ids 500-539, on no shelf (selected by id)."""
    fake = FakeGutenberg(books=[])
    for book_id in range(500, 540):
        title = f"Made-up Book {book_id}"
        fake.books[book_id] = FakeBook(book_id, title, "Writer, Some", [], downloads=1,
                                       text=gutenberg_text(book_id, title, "Some Writer",
                                                           prose(book_id, paragraphs=6)).encode())
    fake.render()
    fake.start()
    yield fake
    fake.stop()


def hash_leaves_a_split_empty(ids: list[int]) -> bool:
    return len({split_of(i, SALT, RATIOS) for i in ids}) < 3


def test_an_empty_split_is_filled_by_the_key_nearest_its_interval():
    keys = list(range(1, 4))
    placed = fill_empty_splits(keys, set(keys), SALT, RATIOS, {})
    splits = {k: placed.get(k) or split_of(k, SALT, RATIOS) for k in keys}
    assert sorted(Counter(splits.values())) == sorted(SPLITS)
    assert placed and all(split_of(k, SALT, RATIOS) == "train" for k in placed)  # only train could give


def test_placed_keys_never_move_and_old_keys_are_never_taken():
    old, new = [1, 2, 3], [4, 5, 6, 7]
    placed = fill_empty_splits(old, set(old), SALT, RATIOS, {})
    # a refresh adds books: nothing placed before moves, and only new keys may fill a split
    more = fill_empty_splits(old + new, set(new), SALT, RATIOS, placed)
    assert not set(more) & set(placed) and set(more) <= set(new)
    # a split the hash fills already takes nothing
    assert fill_empty_splits(list(range(1000)), set(range(1000)), SALT, RATIOS, {}) == {}
    # no new key, no move: an empty split stays empty rather than moving a published book
    assert fill_empty_splits([1, 2, 3], set(), SALT, RATIOS, {}) == {}


def test_a_zero_share_is_left_empty():
    keys = list(range(1, 10))
    placed = fill_empty_splits(keys, set(keys), SALT, (0.9, 0.1, 0.0), {})
    assert "test" not in placed.values()


@pytest.mark.parametrize("count", [3, 4, 20])
def test_every_split_gets_a_book_and_keeps_it_through_refreshes(many_books, tmp_path, capsys, count):
    ids = list(range(500, 500 + count))
    if count <= 4:
        assert hash_leaves_a_split_empty(ids)  # the case this guards against, not luck
    code, out, err = build(capsys, many_books, tmp_path, ids)
    assert code == 0, out + err
    first = kept_splits(tmp_path / "picks")
    assert len(first) == count and set(first.values()) == set(SPLITS), first
    assert "warning:" not in out
    recorded = json.loads((tmp_path / "picks" / "split_keys.json").read_text())
    placed = {int(k): v for k, v in recorded.get("placed", {}).items()}
    assert all(first[key] == split for key, split in placed.items())  # placements recorded like keys
    # a refresh that adds two books and removes one: every book kept before stays where it was
    refreshed = ids[1:] + [530, 531]
    code, out, err = build(capsys, many_books, tmp_path, refreshed)
    assert code == 0, out + err
    second = kept_splits(tmp_path / "picks")
    assert all(second[i] == first[i] for i in ids[1:]), (first, second)
    # the removed book comes back: it returns to its own split
    code, out, err = build(capsys, many_books, tmp_path, ids + [530, 531])
    third = kept_splits(tmp_path / "picks")
    assert all(third[i] == first[i] for i in ids) and all(third[i] == second[i] for i in (530, 531))


def test_a_lost_split_keys_file_is_recovered_from_the_published_books(many_books, tmp_path, capsys):
    ids = [500, 501, 502]
    assert build(capsys, many_books, tmp_path, ids)[0] == 0
    first = kept_splits(tmp_path / "picks")
    (tmp_path / "picks" / "split_keys.json").unlink()
    assert build(capsys, many_books, tmp_path, ids + [503])[0] == 0
    second = kept_splits(tmp_path / "picks")
    assert all(second[i] == first[i] for i in ids), (first, second)


@pytest.mark.parametrize("ids", [[500], [500, 501]])
def test_fewer_than_three_books_is_one_line_and_nothing_is_published(many_books, tmp_path, capsys, ids):
    code, out, err = build(capsys, many_books, tmp_path, ids)
    assert code != 0
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in err, err
    assert f"gave {len(ids)} kept book" in errors[0] and "a trainable corpus needs 3" in errors[0]
    assert "--allow-empty-splits" in errors[0]
    assert not (tmp_path / "picks" / "current").exists()
    code, out, err = build(capsys, many_books, tmp_path, ids, "--allow-empty-splits")
    assert code == 0 and len(kept_splits(tmp_path / "picks")) == len(ids), out + err
    assert "warning:" in out  # published anyway, and the summary says what is missing


def test_the_summary_names_the_selector_not_shelf_pages(many_books, tmp_path, capsys):
    code, out, _ = build(capsys, many_books, tmp_path, [500, 501, 502])
    header = out.splitlines()[0]
    assert "shelf pages" not in header and "book ids given, texts from " + many_books.base_url in header, header
