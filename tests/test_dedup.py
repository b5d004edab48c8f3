"""Exact and near-duplicate detection across a shelf."""

from __future__ import annotations

import random

from fake_gutenberg import prose

from pipeline.corpus.dedup import DedupInput, find_duplicates, minhash, similarity, text_fingerprint


def item(book_id: int, text: str, prefer: bool = False) -> DedupInput:
    return DedupInput(book_id, text_fingerprint(text), minhash(text), prefer)


def edition(text: str, changed: float, seed: int = 0) -> str:
    """Another edition: a share of the words replaced (spelling, typos), as between two transcriptions."""
    rng = random.Random(seed)
    words = text.split(" ")
    for i in rng.sample(range(len(words)), int(len(words) * changed)):
        words[i] = words[i].upper() + "e"
    return " ".join(words)


def test_texts_that_differ_only_in_case_and_spacing_are_exact_duplicates():
    text = prose(1)
    copy = text.upper().replace(" ", "  \n")
    assert text_fingerprint(text) == text_fingerprint(copy)
    [duplicate] = find_duplicates([item(20, copy), item(10, text), item(30, prose(2))])
    assert (duplicate.id, duplicate.kept_id, duplicate.exact) == (20, 10, True)
    assert duplicate.reason == "duplicate: same text as #10"


def test_a_near_duplicate_edition_is_found_and_a_different_book_is_not():
    text = prose(3, paragraphs=60)
    near = edition(text, 0.005)
    assert similarity(minhash(text), minhash(near)) >= 0.9
    assert similarity(minhash(text), minhash(prose(4, paragraphs=60))) < 0.1
    [duplicate] = find_duplicates([item(7, text), item(9, near), item(8, prose(4, paragraphs=60))])
    assert (duplicate.id, duplicate.kept_id, duplicate.exact) == (9, 7, False)
    assert duplicate.reason.startswith("near-duplicate: edition of #7 (Jaccard 0.9")


def test_a_loosely_related_text_is_not_a_duplicate():
    text = prose(5, paragraphs=60)
    assert find_duplicates([item(1, text), item(2, edition(text, 0.2))]) == []


def test_the_copy_kept_before_stays_kept_and_order_does_not_matter():
    text = prose(6)
    items = [item(3, text), item(5, text + " "), item(4, text.upper())]
    assert [(d.id, d.kept_id) for d in find_duplicates(items)] == [(4, 3), (5, 3)]
    assert [(d.id, d.kept_id) for d in find_duplicates(items[::-1])] == [(4, 3), (5, 3)]
    items[1].prefer = True
    assert [(d.id, d.kept_id) for d in find_duplicates(items)] == [(3, 5), (4, 5)]


def test_minhash_is_the_same_in_every_process():
    import subprocess
    import sys

    code = "from pipeline.corpus.dedup import minhash; print(minhash('a b c d e f g h i j k').tobytes().hex())"
    here = minhash("a b c d e f g h i j k").tobytes().hex()
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": "123", "PATH": ""}).stdout.strip()
    assert other == here


def test_a_new_book_close_to_two_kept_works_does_not_merge_them():
    base = prose(8, paragraphs=80)
    first, second = edition(base, 0.012, seed=1), edition(base, 0.012, seed=2)
    middle = edition(base, 0.0, seed=3)
    assert similarity(minhash(first), minhash(second)) < 0.9
    assert similarity(minhash(middle), minhash(first)) >= 0.9 and similarity(minhash(middle), minhash(second)) >= 0.9
    before = [item(10, first, prefer=True), item(30, second, prefer=True)]
    assert find_duplicates(before) == []
    [duplicate] = find_duplicates(before + [item(20, middle)])
    assert duplicate.id == 20 and duplicate.kept_id in (10, 30)


def test_each_signature_value_is_the_smallest_hash_of_the_shingles_under_its_function():
    import numpy as np

    from pipeline.corpus import dedup

    text = prose(7)
    shingles = dedup.shingle_hashes(text)
    with np.errstate(over="ignore"):  # the definition, all functions at once: a*x+b mod 2**64
        expected = (dedup._A[:, None] * shingles[None, :] + dedup._B[:, None]).min(axis=1)
    assert len(shingles) > 100
    assert minhash(text).tolist() == expected.tolist()
    assert minhash(text, normalised=dedup.normalise(text)).tolist() == expected.tolist()
    assert text_fingerprint(text) == text_fingerprint(text, normalised=dedup.normalise(text))


def test_distinct_hashes_are_numpys_unique():
    import numpy as np

    from pipeline.corpus.dedup import _distinct

    rng = np.random.default_rng(3)
    for values in (np.zeros(0, np.uint64), np.array([7], np.uint64), rng.integers(0, 50, 1000).astype(np.uint64),
                   rng.integers(0, 2**63, 5000, dtype=np.uint64)):
        assert _distinct(values).tolist() == np.unique(values).tolist()
