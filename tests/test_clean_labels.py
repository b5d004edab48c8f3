"""The cleaner against hand-made labels of real Gutenberg files in ../shared/gutenberg.

``cleaning_labels.json`` says, for each file, the first and last line of the book's body, lines of
credits and transcriber's notes inside it that must go, and author text that must stay. The
labels were written by reading each file; the files themselves stay in ../shared. Skipped where
that folder is absent.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import STANDIN

from pipeline.clean.cleaner import clean

LABELS = json.loads((Path(__file__).with_name("cleaning_labels.json")).read_text(encoding="utf-8"))

pytestmark = [pytest.mark.standin,
              pytest.mark.skipif(not STANDIN.is_dir(), reason="../shared/gutenberg is absent")]


def test_there_are_at_least_30_labelled_books_with_old_formats_among_them():
    assert len({label["file"] for label in LABELS}) >= 30
    assert sum("old-formats" in label["file"] for label in LABELS) >= 3


@pytest.mark.parametrize("label", LABELS, ids=[Path(label["file"]).stem for label in LABELS])
def test_the_body_is_kept_whole_and_nothing_else(label):
    result = clean((STANDIN / label["file"]).read_bytes())
    lines = [line.strip() for line in result.text.splitlines() if line.strip()]
    assert lines, result.flags
    assert lines[0] == label["first_line"]
    assert lines[-1] == label["last_line"]
    for note in label["absent"]:
        assert note not in result.text, f"left in: {note!r}"
    for text in label["present"]:
        assert text in result.text, f"cut: {text!r}"
    assert not [flag for flag in result.flags if "removed" in flag or "empty" in flag]
