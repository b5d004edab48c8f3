"""The cleaner against hand-made labels of the real files in ../shared/gutenberg/pool and pool2.

``pool_labels.json`` has the form of ``cleaning_labels.json`` (first and last line of the body,
notes that must go, author text that must stay) plus line numbers, which both files carry for
bench/score_clean.py: ``body`` is the first and last line of the author's text and ``notes`` the
line ranges inside it that are not the author's, 1-based, counted on
``pipeline.clean.decode.decode(raw).text.split("\\n")`` (the numbering of ``pipeline clean --explain``);
``cut_text`` is text inside a body line that is not the author's (a note in an illustration
bracket, a "Project Gutenberg Etext of" prefix on a title line).
``folder`` names the folder under the stand-in (``pool`` where absent): pool/ holds files chosen to
be hard, pool2/ files drawn at random from the catalog, labelled by readers who did not write the
rules. Each label was written by reading the file's start and end, and every line with a mark of
boilerplate inside it; the files stay in ../shared. Skipped where that folder is absent.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from conftest import STANDIN

from pipeline.clean.cleaner import clean
from pipeline.clean.decode import decode

POOL = STANDIN / "pool"
HERE = Path(__file__).parent
POOL_LABELS = json.loads((HERE / "pool_labels.json").read_text(encoding="utf-8"))
SITE_LABELS = json.loads((HERE / "cleaning_labels.json").read_text(encoding="utf-8"))
ALL_LABELS = [(STANDIN / label.get("folder", "pool") / label["file"], label) for label in POOL_LABELS] + [
    (STANDIN / label["file"], label) for label in SITE_LABELS]

pytestmark = [pytest.mark.standin,
              pytest.mark.skipif(not POOL.is_dir(), reason="../shared/gutenberg/pool is absent")]


def _ids(pairs):
    return [f"{path.parent.name}/{path.name}" for path, _ in pairs]


def test_at_least_60_pool_files_of_many_languages_and_every_era_are_labelled():
    files = [label["file"] for label in POOL_LABELS if label.get("folder", "pool") == "pool"]
    assert len(files) == len(set(files)) >= 60
    with (POOL / "SOURCES.tsv").open(encoding="utf-8") as handle:
        sources = {row["file"]: row for row in csv.DictReader(handle, delimiter="\t")}
    assert set(files) <= set(sources)
    assert len({sources[name]["language"] for name in files}) >= 12
    assert {sources[name]["era"] for name in files} >= {"1990s", "2000s", "2010s", "2020s"}


def test_at_least_30_files_drawn_at_random_are_labelled():
    files = [label["file"] for label in POOL_LABELS if label.get("folder") == "pool2"]
    with (STANDIN / "pool2" / "SOURCES.tsv").open(encoding="utf-8") as handle:
        drawn = {row["file"] for row in csv.DictReader(handle, delimiter="\t")}
    assert len(files) == len(set(files)) >= 30
    assert set(files) <= drawn


@pytest.mark.parametrize("path,label", ALL_LABELS, ids=_ids(ALL_LABELS))
def test_the_line_numbers_agree_with_the_label_text(path, label):
    lines = decode(path.read_bytes()).text.split("\n")
    first, last = label["body"]
    assert 1 <= first <= last <= len(lines)
    assert any(char.isalnum() for char in label["first_line"]) and any(char.isalnum() for char in label["last_line"])
    assert label["first_line"] in lines[first - 1]
    assert label["last_line"] in lines[last - 1]
    notes = {n for start, end in label["notes"] for n in range(start, end + 1)}
    assert all(first < start <= end < last for start, end in label["notes"])
    body = "\n".join(lines[n - 1] for n in range(first, last + 1) if n not in notes)
    rest = "\n".join(line for n, line in enumerate(lines, 1) if not first <= n <= last or n in notes)
    for text in label["present"]:
        assert text in body, f"not in the labelled body: {text!r}"
    for text in label["absent"]:
        assert text in rest, f"not outside the labelled body: {text!r}"
        assert text not in body, f"also in the labelled body, so it could never be absent: {text!r}"
    for text in label.get("cut_text", []):
        assert text in body, f"cut_text not in the labelled body: {text!r}"


POOL_PAIRS = ALL_LABELS[:len(POOL_LABELS)]


@pytest.mark.parametrize("path,label", POOL_PAIRS, ids=_ids(POOL_PAIRS))
def test_the_body_is_kept_whole_and_nothing_else(path, label):
    result = clean(path.read_bytes())
    # Rows of asterisks, dashes or underscores around the body carry no text: they may stay or go.
    lines = [line.strip() for line in result.text.splitlines() if any(char.isalnum() for char in line)]
    assert lines, result.flags
    assert lines[0] == label["first_line"]
    assert lines[-1] == label["last_line"]
    for note in label["absent"] + label.get("cut_text", []):
        assert note not in result.text, f"left in: {note!r}"
    for text in label["present"]:
        assert text in result.text, f"cut: {text!r}"
    assert not [flag for flag in result.flags if "removed" in flag or "empty" in flag]
