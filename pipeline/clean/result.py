"""What cleaning returns: the text, every cut with the rule that made it, and the options asked for.

Plain records, so that the rule modules can fill a result without importing the cleaner that calls them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Cut:
    """One removal: the rule that made it and the input lines (1-based, inclusive) it covered."""

    rule: str
    first_line: int
    last_line: int
    detail: str = ""


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

    def to_record(self) -> dict:
        return {"encoding": self.encoding, "input_lines": self.input_lines, "output_chars": len(self.text),
                "flags": list(self.flags),
                "cuts": [{"rule": c.rule, "first_line": c.first_line, "last_line": c.last_line, "detail": c.detail}
                         for c in self.cuts]}
