"""Cleaning: keep the author's work as printed, remove what Project Gutenberg and its volunteers added.

Removed, and recorded as a ``Cut`` (rule, first line, last line of the input):

- ``header``: the licence header of every era, up to the ``*** START OF ...`` line (or the 1990s
  ``*END*THE SMALL PRINT!...*END*`` line, or a leading block of ``Title:``/``Credits:`` fields);
- ``footer``: from the first end marker on ("End of the Project Gutenberg EBook...", ``*** END OF``,
  "Ende dieses Projekt Gutenberg...", a trailing licence or small print);
- ``credits``: production credits near either end of the body ("Produced by", "E-text prepared by",
  "This etext was produced from", Distributed Proofreaders lines, HTML-version notes...);
- ``transcriber-note``: bracketed notes anywhere, headed blocks (with the correction lists that
  follow them), ``+---+`` boxes, footnote-style notes; in English, French, German, Spanish, Italian,
  Portuguese and Dutch;
- ``copyright-research``: notes that no copyright renewal was found.

Optional transforms (off by default): drop ``[Illustration...]`` markers and ``[Footnote ...]``
blocks, strip ``_italic_`` underscores, unwrap hard-wrapped paragraphs.

The rules look for literal anchors first and only then examine the lines around them, so cost
is a few passes of C-speed searching over the text, not a Python loop per line.

This module holds the interface (``clean``, ``clean_text``, the options, the result and its audit);
the rules live by job in ``rules/`` (its ``__init__`` lists them); the records a run returns are in
``result``. Every cut names the rule that made it ("credits/bracketed"), and ``CleanResult.fired``
counts every rule that matched, so ``bench/score_clean.py`` can tell in how many files each fires.
"""

from __future__ import annotations

import os
import re
import sys

from .decode import decode
from .result import CleanOptions, CleanResult, Cut  # noqa: F401  (Cut: part of the interface)
from .rules.body import _body_spans
from .rules.lines import _bracket_blocks, _Lines, _merge, _Span, _tidy
from .rules.markers import _footer_start, _header_end

CLEANER_VERSION = 4
"""Bump when a rule changes what is cut: cached cleaned texts are keyed by it."""
ILLUSTRATION_RE = re.compile(r"\[[ \t]*(?:Illustrations?|Pictures?|Ilustraci[óo]n|Illustrazione|Abbildung)\b",
                             re.IGNORECASE)
"""An illustration marker, as producers write it in several languages ("[Picture: Book cover]", "[Ilustración]")."""
FOOTNOTE_RE = re.compile(r"\[[ \t]*Footnote\b", re.IGNORECASE)
UNDERSCORE_RE = re.compile(r"(?<![\w_])_(?=\S)((?:[^_\n]|\n(?![ \t]*\n))+?)(?<=\S)_(?![\w_])")
SUSPICIOUS_SHARE = 0.4


def clean(raw: bytes, options: CleanOptions | None = None) -> CleanResult:
    decoded = decode(raw)
    return clean_text(decoded.text, options, encoding=decoded.encoding)


def clean_text(text: str, options: CleanOptions | None = None, *, encoding: str = "unicode") -> CleanResult:
    options = options or CleanOptions()
    lines = _Lines(text)
    result = CleanResult(text="", encoding=encoding, input_lines=lines.total)
    spans: list[_Span] = []

    body_start = _header_end(text, lines, spans, result)
    body_end = _footer_start(text, lines, body_start, spans, result)
    body_spans = _body_spans(text, lines, body_start, body_end)
    body_chars = len(text[body_start:body_end].strip())
    spans.extend(body_spans)
    if options.remove_illustrations:
        spans.extend(_bracket_blocks(text, lines, body_start, body_end, ILLUSTRATION_RE, "illustration"))
    if options.remove_footnotes:
        spans.extend(_bracket_blocks(text, lines, body_start, body_end, FOOTNOTE_RE, "footnote"))

    for span in spans:
        result.fired[span.rule] = result.fired.get(span.rule, 0) + 1
    merged = _merge(spans)
    kept = []
    position = 0
    for span in merged:
        kept.append(text[position:span.start])
        position = span.end
        first = lines.number(span.start)
        last = lines.number(max(span.start, span.end - 1))
        result.cuts.append(Cut(span.family, first, last, span.detail, span.rule))
    kept.append(text[position:])
    body = "".join(kept)
    body = _tidy(body)
    if options.remove_underscores:
        body = UNDERSCORE_RE.sub(r"\1", body)
    if options.unwrap:
        body = unwrap_paragraphs(body)
    result.text = body + "\n" if body else ""

    removed_inside = sum(s.end - s.start for s in _merge(body_spans))
    if not result.text.strip():
        result.flags.append("empty after cleaning")
    elif body_chars and removed_inside / body_chars > SUSPICIOUS_SHARE:
        result.flags.append(f"note and credit rules removed {removed_inside / body_chars:.0%} of the text between "
                            f"header and footer; check with --explain")
    return result


def unwrap_paragraphs(text: str) -> str:
    out = []
    for paragraph in re.split(r"(\n[ \t]*\n+)", text):
        if not paragraph.strip() or "\n" not in paragraph.strip("\n"):
            out.append(paragraph)
            continue
        rows = paragraph.split("\n")
        long_rows = sum(1 for r in rows if len(r.rstrip()) >= 50)
        indented = sum(1 for r in rows if r[:2] == "  ")
        if long_rows * 2 < len(rows) or indented * 2 > len(rows):
            out.append(paragraph)  # verse, tables, centred headings: their line breaks are meaning
        else:
            out.append(" ".join(r.strip() for r in rows if r.strip()))
    return "".join(out)


class CleanInputError(ValueError):
    """A file that cannot be cleaned: a directory, unreadable, or binary."""


def read_input(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    if os.path.isdir(path):
        raise CleanInputError(f"{path} is a directory; give the text files in it")
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise CleanInputError(f"cannot read {path}: {exc.strerror or exc}") from None
    if looks_binary(raw):
        raise CleanInputError(f"{path} looks binary, not a plain-text book (NUL or control bytes)")
    return raw


def looks_binary(raw: bytes) -> bool:
    head = raw[:8192]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 text: its NULs are half of every character
        return False
    if b"\x00" in head:
        return True
    controls = len(head) - len(head.translate(None, CONTROL_BYTES))
    return bool(head) and controls / len(head) > 0.05


CONTROL_BYTES = bytes([*range(0, 9), *range(14, 32)])
"""Control characters no text file holds (tab, newlines, form feed and carriage return aside)."""


def explain(text: str, result: CleanResult, *, name: str = "", context: int = 2, width: int = 100) -> str:
    """The cuts of one cleaning, each with a few lines of the input around it."""
    lines = text.split("\n")
    total = result.input_lines
    removed = sum(c.last_line - c.first_line + 1 for c in result.cuts if c.rule not in ("title-prefix",))
    out = [f"{name or 'input'} ({result.encoding}): {len(result.cuts)} cuts, about {max(0, total - removed):,} of "
           f"{total:,} lines kept"]
    for flag in result.flags:
        out.append(f"  flag: {flag}")

    def show(number: int, mark: str) -> str:
        line = lines[number - 1] if 0 < number <= len(lines) else ""
        line = line if len(line) <= width else line[: width - 3] + "..."
        return f"  {mark} {number:>6} | {line}"

    for cut in result.cuts:
        span = (f"line {cut.first_line}" if cut.first_line == cut.last_line
                else f"lines {cut.first_line}-{cut.last_line}")
        out.append("")
        out.append(f"{cut.by:<38} {span:<18} {cut.detail}")
        for number in range(max(1, cut.first_line - context), cut.first_line):
            out.append(show(number, " "))
        size = cut.last_line - cut.first_line + 1
        if size <= 7:
            out.extend(show(n, "-") for n in range(cut.first_line, cut.last_line + 1))
        else:
            out.extend(show(n, "-") for n in range(cut.first_line, cut.first_line + 3))
            out.append(f"  -        ... {size - 5} more lines")
            out.extend(show(n, "-") for n in range(cut.last_line - 1, cut.last_line + 1))
        for number in range(cut.last_line + 1, min(len(lines), cut.last_line + context) + 1):
            out.append(show(number, " "))
    return "\n".join(out) + "\n"
