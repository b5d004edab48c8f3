"""What cleaning returns: the text, every cut with the rule that made it, and the options asked for.

Plain records, so that the rule modules can fill a result without importing the cleaner that calls them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

RULES = {
    "header": "Project Gutenberg's licence header, up to the *** START OF ... *** line (or the 1990s small print)",
    "footer": "Project Gutenberg's licence footer, from the first end marker on",
    "credits": "producers' credits (\"Produced by\", \"E-text prepared by\", Distributed Proofreaders lines)",
    "transcriber-note": "transcriber's notes and their correction lists",
    "producer-comment": "a producer's comments in braces or in the etext's own comment syntax",
    "part-marker": "a producer's part markers on their own line",
    "copyright-research": "notes that no U.S. copyright renewal was found",
    "title-prefix": "\"The Project Gutenberg Etext of\" before a 1990s title (the title stays)",
    "illustration": "[Illustration: ...] markers (only when asked for)",
    "footnote": "[Footnote N: ...] blocks (only when asked for)",
}
"""Each rule a ``Cut`` names, and what it removes, in a line (for the dataset card; docs/cleaning.md says more)."""


@dataclass(frozen=True)
class Cut:
    """One removal: the rule that made it and the input lines (1-based, inclusive) it covered."""

    rule: str
    """The family of rules ("credits"), a key of ``RULES``."""
    first_line: int
    last_line: int
    detail: str = ""
    by: str = ""
    """The one rule that made the cut, "family/kind" ("credits/bracketed"): what ``--explain`` names."""


@dataclass
class CleanOptions:
    remove_illustrations: bool = False
    """Drop ``[Illustration: ...]`` markers (captions included)."""
    remove_footnotes: bool = False
    """Drop ``[Footnote N: ...]`` blocks (the references in the text stay)."""
    remove_underscores: bool = False
    """``_italic_`` → ``italic``."""
    unwrap: bool = False
    """Join the hard-wrapped lines of each prose paragraph into one line; verse and tables stay as they are."""


@dataclass
class CleanResult:
    text: str
    encoding: str
    cuts: list[Cut] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    """Reasons to look at this book: empty or suspiciously small results, missing markers."""
    input_lines: int = 0
    fired: dict[str, int] = field(default_factory=dict)
    """Every rule that matched, with how many times, before overlapping matches were merged into cuts."""

    def to_record(self) -> dict:
        return {"encoding": self.encoding, "input_lines": self.input_lines, "output_chars": len(self.text),
                "flags": list(self.flags),
                "cuts": [{"rule": c.rule, "by": c.by, "first_line": c.first_line, "last_line": c.last_line,
                          "detail": c.detail}
                         for c in self.cuts]}
