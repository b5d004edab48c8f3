"""Book-level splits: a pure function of (salt, split key), and keys that never change."""

from __future__ import annotations

from collections import Counter

from pipeline.corpus.splits import split_keys, split_of


def test_a_split_depends_only_on_the_salt_and_the_key():
    assert split_of(1234, "salt", (0.9, 0.05, 0.05)) == split_of(1234, "salt", (90, 5, 5))
    shuffled = sum(split_of(k, "a", (1, 1, 1)) != split_of(k, "b", (1, 1, 1)) for k in range(300))
    assert shuffled > 100  # another salt is another shuffle


def test_the_ratios_are_honoured_over_many_books():
    counts = Counter(split_of(k, "gutenberg-lstm", (0.9, 0.05, 0.05)) for k in range(20_000))
    assert abs(counts["train"] / 20_000 - 0.9) < 0.01
    assert abs(counts["val"] / 20_000 - 0.05) < 0.01 and abs(counts["test"] / 20_000 - 0.05) < 0.01
    assert set(split_of(k, "s", (1, 0, 1)) for k in range(500)) == {"train", "test"}


def test_kept_books_keep_their_old_keys_and_duplicates_follow_their_kept_copy():
    keys = split_keys(kept=[1, 2, 5], duplicates={3: 1, 4: 5}, previous={})
    assert keys == {1: 1, 2: 2, 5: 5, 3: 1, 4: 5}
    # 1 is gone from the shelf; its edition 3 is kept now and stays where the work was
    keys = split_keys(kept=[2, 3, 5], duplicates={4: 5}, previous={1: 1, 2: 2, 3: 1, 5: 5, 4: 5})
    assert keys == {2: 2, 3: 1, 5: 5, 4: 5}
    # a new book that is a copy of nothing placed before gets its own id
    assert split_keys(kept=[9], duplicates={}, previous={1: 1}) == {9: 9}
    # a new kept book whose dropped copy was placed before joins that placement
    assert split_keys(kept=[9], duplicates={4: 9}, previous={4: 5}) == {9: 5, 4: 5}
