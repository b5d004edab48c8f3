"""The label-free leak finder: kept lines with marks of boilerplate, and the allow-list that keeps them from growing.

``pipeline.clean.leaks`` lists lines of a cleaned text that name Project Gutenberg, an etext, a
transcriber's or producer's credit, an e-mail address or URL, that open or close with braces or
double brackets, or speak of "small print". Over every real file under ../shared/gutenberg (site,
samples, pool, pool2), each such line the cleaner keeps must be explained by an entry of
``leak_allowlist.json``: the reason it is the author's text. A new leak fails here until it is fixed
or explained. Skipped where ../shared is absent; the unit tests below run everywhere.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import STANDIN

from pipeline.clean.cleaner import clean_text
from pipeline.clean.leaks import Suspect, not_allowed, suspect_lines

ALLOWLIST = json.loads((Path(__file__).with_name("leak_allowlist.json")).read_text(encoding="utf-8"))


def real_files() -> list[Path]:
    return (sorted(STANDIN.glob("site/cache/epub/*/*.txt")) + sorted(STANDIN.glob("samples/old-formats/*.txt"))
            + sorted(STANDIN.glob("pool/*.txt")) + sorted(STANDIN.glob("pool2/*.txt")))


def test_each_mark_of_boilerplate_is_found_once_per_line():
    text = ("The author's own sentence.\n"
            "Produced by Ines Varga and the Online Distributed Proofreading Team\n"
            "write to varga@example.org for corrections\n"
            "{several sentences are missing here in the omnibus edition}\n"
            "see http://www.example.org/etext for more\n"
            "and the sound was produced by the wind,\n"
            "a page number {291a} and N_{2} stay quiet\n")
    found = suspect_lines(text)
    assert [(s.line_number, s.mark) for s in found] == [(2, "credit"), (3, "e-mail"), (4, "edge bracket"), (5, "url")]


def test_an_entry_explains_its_lines_or_a_count_and_nothing_more():
    suspects = [Suspect(1, "{hack}, {lose}", "edge bracket"), Suspect(2, "{flame}", "edge bracket"),
                Suspect(3, "eric@snark.example", "e-mail")]
    counted = [{"file": "a.txt", "mark": "edge bracket", "count": 2, "reason": "cross-references"}]
    assert not_allowed("a.txt", suspects, counted) == suspects[2:]
    assert not_allowed("a.txt", suspects, [dict(counted[0], count=1)]) == suspects
    listed = [{"file": "a.txt", "mark": "e-mail", "lines": ["eric@snark.example"], "reason": "the author's address"}]
    assert not_allowed("a.txt", suspects, listed) == suspects[:2]
    assert not_allowed("b.txt", suspects, listed) == suspects


def test_every_allow_list_entry_gives_a_reason():
    for entry in ALLOWLIST:
        assert entry["reason"].strip() and entry["mark"] and entry["file"]
        assert ("lines" in entry) != ("count" in entry), entry


@pytest.mark.standin
@pytest.mark.skipif(not (STANDIN / "pool2").is_dir(), reason="../shared/gutenberg is absent")
def test_no_kept_line_with_a_mark_of_boilerplate_goes_unexplained():
    from pipeline.clean.cleaner import clean

    unexplained, used = [], set()
    for path in real_files():
        name = str(path.relative_to(STANDIN))
        suspects = suspect_lines(clean(path.read_bytes()).text)
        unexplained += [f"{name}: {s.mark}: {s.line[:80]}" for s in not_allowed(name, suspects, ALLOWLIST)]
        used.update((name, s.mark) for s in suspects)
    assert not unexplained, "kept lines with marks of boilerplate, not fixed, not allowed:\n" + "\n".join(unexplained)
    stale = [(e["file"], e["mark"]) for e in ALLOWLIST if (e["file"], e["mark"]) not in used]
    assert not stale, f"allow-list entries no kept line needs any more (remove them): {stale}"


def test_a_leak_the_cleaner_misses_is_listed_and_explained_by_no_entry():
    # a note in the middle of a chapter, in words no rule knows, naming the etext
    prose = "It was a dark night, and the rain fell on the roofs of the town.\n\n" * 300
    text = f"Chapter I\n\n{prose}The etext keeps the odd spelling here.\n\n{prose}"
    kept = clean_text(text).text
    suspects = suspect_lines(kept)
    assert [(s.line, s.mark) for s in suspects] == [("The etext keeps the odd spelling here.", "etext")]
    assert not_allowed("site/cache/epub/83/pg83.txt", suspects, ALLOWLIST) == suspects
