"""Kept lines that carry the marks of boilerplate: a label-free check on what cleaning left.

A line of a cleaned book that names Project Gutenberg, an etext, a transcriber's or producer's
credit, an e-mail address or a URL, that opens or closes with a brace or double brackets, or that
speaks of "small print", is more often the producer's than the author's. Most such lines in a
clean text are the author's all the same (a novel set among e-mail, a preface quoting a URL), so
this lists them for a reader to judge; it removes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MARKS = {
    "project name": r"Project\s+Gutenberg|Gutenberg\s+Project|Proje[ck]te?\s+Gutenberg|Proyecto\s+Gutenberg"
                    r"|Projet\s+Gutenberg|Progetto\s+Gutenberg|Gutenberg[- ]tm|gutenberg\.(?:org|net)|\bPGLAF\b",
    "etext": r"\be-?texts?\b|\be-?books?\b",
    # A credit opens its line with a capital ("Produced by"); "produced by the friction" wraps in mid-sentence.
    "credit": r"^[ \t]*(?-i:Produced|Prepared|Transcribed|Scanned|Digiti[sz]ed|Proof-?read|Typed\s+in|Keyed\s+in)"
              r"\s+by\b|\btranscriber|\bproof-?readers?\b|\bdistributed\s+proofread",
    "e-mail": r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+",
    "url": r"https?://|\bwww\.\w|\bftp\.\w",
    # Braces that hold words, not a page number ("{291a}") or a formula's subscript ("N_{2}").
    "edge bracket": r"^[ \t]*(?:\{[^\W\d_]|\[\[)|\{[^{}\n]*[^\W\d_]{2}[^{}\n]*\}[ \t]*$"
                    r"|^[^{\n]*[^\W\d_][.!?\"')]?\}[ \t]*$|\]\][ \t]*$",
    "small print": r"small\s+print",
}
"""Each mark of boilerplate, by name."""
MARKS_RE = re.compile("|".join(f"(?P<m{index}>{pattern})" for index, pattern in enumerate(MARKS.values())),
                      re.IGNORECASE | re.MULTILINE)
MARK_NAMES = list(MARKS)


@dataclass(frozen=True)
class Suspect:
    """A kept line with a mark of boilerplate: its number in the cleaned text (1-based), its text, the mark."""

    line_number: int
    line: str
    mark: str


NEEDLES = ("gutenberg", "pglaf", "etext", "e-text", "ebook", "e-book", " by", "transcri", "proof", "@", "http",
           "www.", "ftp.", "{", "}", "[[", "]]", "small print")
"""Every line a mark can match holds one of these (lower case): only those lines are read with the marks."""


def suspect_lines(text: str) -> list[Suspect]:
    """Every line of ``text`` that carries a mark of boilerplate, once, with the first mark it carries."""
    lower = text.lower()
    starts = set()
    for needle in NEEDLES:
        position = lower.find(needle)
        while position != -1:
            line_start = text.rfind("\n", 0, position) + 1
            starts.add(line_start)
            next_line = text.find("\n", position)
            position = -1 if next_line == -1 else lower.find(needle, next_line)
    found: list[Suspect] = []
    line_number, counted_to = 1, 0
    for start in sorted(starts):
        line_number += text.count("\n", counted_to, start)  # counted on from the last line, not from the top
        counted_to = start
        end = text.find("\n", start)
        line = text[start:end if end != -1 else len(text)]
        match = MARKS_RE.search(line)
        if match:
            found.append(Suspect(line_number, line.strip(), MARK_NAMES[int(match.lastgroup[1:])]))
    return found


def not_allowed(name: str, suspects: list[Suspect], allowlist: list[dict]) -> list[Suspect]:
    """The suspects of file ``name`` that no allow-list entry explains.

    An entry names a file, a mark and the reason its lines are the author's, and either the lines
    themselves (``lines``: stripped, exact) or, for a book whose whole text carries the mark (a
    hacker's dictionary full of e-mail addresses), how many such lines it may keep (``count``).
    """
    entries = [entry for entry in allowlist if entry["file"] == name]
    listed = {line for entry in entries for line in entry.get("lines", [])}
    counted = {entry["mark"]: entry["count"] for entry in entries if "count" in entry}
    left = [suspect for suspect in suspects if suspect.line not in listed]
    by_mark: dict[str, list[Suspect]] = {}
    for suspect in left:
        by_mark.setdefault(suspect.mark, []).append(suspect)
    return [suspect for mark, group in by_mark.items() if len(group) > counted.get(mark, 0) for suspect in group]
