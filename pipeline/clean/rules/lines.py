"""Line and paragraph arithmetic over one text, shared by the cleaning rules.

Offsets, not lists of lines: a rule finds a literal with ``str.find`` and asks for the line or
paragraph around it, so a book is never split into lines just to be searched.
"""

from __future__ import annotations

import bisect
import heapq
import re
from dataclasses import dataclass

RULE_LINE_RE = re.compile(r"^[ \t]*(?:[-=_*~<>+#─━═—][ \t]*){8,}$", re.MULTILINE)
BLANK_LINE_RE = re.compile(r"\n[ \t]*\n")
BRACKET_REACH = 4000
"""How far a bracketed note may run past a blank line looking for its closing bracket."""


@dataclass
class _Span:
    start: int
    end: int
    rule: str
    """The rule that found it, as "family/kind" ("credits/bracketed"); the family alone names a whole job."""
    detail: str = ""

    @property
    def family(self) -> str:
        return self.rule.split("/", 1)[0]


class _Lines:
    """Line arithmetic on one text without indexing every line: finds are local, counts are cached."""

    def __init__(self, text: str):
        self.text = text
        self._checkpoints = [(0, 1)]  # (offset, line number at that offset), sorted
        self._hits: dict[str, list[int]] = {}
        lower = text.lower()
        self.lower = lower if len(lower) == len(text) else None  # None: a character changed length

    @property
    def total(self) -> int:
        return self.text.count("\n") + (0 if self.text.endswith("\n") or not self.text else 1)

    def number(self, offset: int) -> int:
        index = bisect.bisect_right(self._checkpoints, (offset, float("inf"))) - 1
        base, line = self._checkpoints[index]
        line += self.text.count("\n", base, offset)
        bisect.insort(self._checkpoints, (offset, line))
        return line

    def start_of(self, offset: int) -> int:
        return self.text.rfind("\n", 0, offset) + 1

    def end_of(self, offset: int) -> int:
        """Offset just past the newline ending the line that holds ``offset``."""
        end = self.text.find("\n", offset)
        return len(self.text) if end == -1 else end + 1

    def back(self, offset: int, count: int, floor: int = 0) -> int:
        """The start of the line ``count`` lines above the one holding ``offset``."""
        position = self.start_of(offset)
        window = self.text[max(floor, position - 160 * count):position]
        if window.count("\n") > count:  # the usual case, done in C: split the window instead of looping
            return position - sum(len(row) + 1 for row in window.split("\n")[-count - 1:-1])
        for _ in range(count):
            if position <= floor:
                return floor
            position = self.start_of(position - 1)
        return max(position, floor)

    def forward(self, offset: int, count: int, ceiling: int) -> int:
        window = self.text[offset:min(ceiling, offset + 160 * count)]
        if window.count("\n") > count:
            return offset + sum(len(row) + 1 for row in window.split("\n", count)[:count])
        position = offset
        for _ in range(count):
            if position >= ceiling:
                return ceiling
            position = self.end_of(position)
        return min(position, ceiling)

    def hits(self, needles: tuple[str, ...], start: int, end: int) -> list[int]:
        """Offsets of lower-case literals between two offsets, in order: a C-speed scan instead of a regex.

        Each needle is looked for once in the whole text; later calls filter what was found.
        """
        found: set[int] = set()
        for needle in needles:
            positions = self._hits.get(needle)
            if positions is None:
                positions = self._hits[needle] = self._find_all(needle)
            found.update(positions[bisect.bisect_left(positions, start):bisect.bisect_left(positions, end)])
        return sorted(found)

    def _find_all(self, needle: str) -> list[int]:
        if self.lower is None:
            return [m.start() for m in re.finditer(re.escape(needle), self.text, re.IGNORECASE)]
        low = self.lower
        anchor = next((index for index, char in enumerate(needle) if not char.isalnum() and not char.isspace()), None)
        if anchor is not None:
            # A needle with punctuation in it ("<<", ":pt", "tn:", "+---") is found through that character: a scan
            # for one character runs at memchr speed, ten times a scan for a short string.
            char, found = needle[anchor], []
            position = low.find(char, anchor)
            while position != -1:
                if low.startswith(needle, position - anchor):
                    found.append(position - anchor)
                position = low.find(char, position + 1)
            return found
        found, position = [], low.find(needle)
        while position != -1:
            found.append(position)
            position = low.find(needle, position + 1)
        return found

    def iter_hits(self, needles: tuple[str, ...], start: int, end: int):
        """Offsets of lower-case literals in order, found lazily: for markers, where the first good hit ends it."""
        if self.lower is None:
            yield from self.hits(needles, start, end)
            return
        low = self.lower
        heap = [(p, n) for n in needles if (p := low.find(n, start, end)) != -1]
        heapq.heapify(heap)
        while heap:
            position, needle = heapq.heappop(heap)
            yield position
            following = low.find(needle, position + 1, end)
            if following != -1:
                heapq.heappush(heap, (following, needle))

    def local_hits(self, needles: tuple[str, ...], start: int, end: int) -> list[int] | None:
        """Like ``hits``, but searching only between two offsets (a small zone); None where case folding failed."""
        if self.lower is None:
            return None
        found = []
        for needle in needles:
            known = self._hits.get(needle)
            if known is not None:  # already found over the whole text: read the zone off that list
                found += known[bisect.bisect_left(known, start):bisect.bisect_left(known, end)]
                continue
            position = self.lower.find(needle, start, end)
            while position != -1:
                found.append(position)
                position = self.lower.find(needle, position + 1, end)
        return sorted(found)


    def skip_blank_lines(self, offset: int, limit: int) -> int:
        """From a line start, past any blank lines (not beyond ``limit``)."""
        text = self.text
        while offset < limit:
            end = text.find("\n", offset, limit)
            end = limit if end == -1 else end + 1
            if text[offset:end].strip():
                break
            offset = end
        return offset


def _any_between(positions: list[int] | None, start: int, end: int) -> bool:
    if positions is None:
        return True
    index = bisect.bisect_left(positions, start)
    return index < len(positions) and positions[index] < end


def _paragraphs(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """(start, end) of each non-blank paragraph between two offsets, each start at a line start."""
    out = []
    position = start
    for blank in BLANK_LINE_RE.finditer(text, start, end):
        if text[position:blank.start()].strip():
            out.append((position, blank.start() + 1))
        position = blank.end() - 1
        while position < end and text[position] == "\n":
            position += 1
    if text[position:end].strip():
        out.append((position, end))
    return [(s + len(text[s:e]) - len(text[s:e].lstrip("\n")), e) for s, e in out]


def _is_balanced(paragraph: str) -> bool:
    return paragraph.count("[") <= paragraph.count("]")


def _is_display(paragraph: str) -> bool:
    """Set like a title page: capitals, or every line indented deep, or one short line without a full stop."""
    if len(paragraph) > 600:
        return False
    rows = [row for row in paragraph.strip("\n").splitlines() if row.strip()]
    return bool(rows) and (_looks_like_title(paragraph) or all(row[:8] == "        " for row in rows) or (
        len(rows) == 1 and len(rows[0].strip()) < 50 and not rows[0].rstrip().endswith((".", ":", ";"))))


NON_LETTERS_RE = re.compile(r"[\W\d_]+")


def _looks_like_title(paragraph: str) -> bool:
    letters = NON_LETTERS_RE.sub("", paragraph)
    return bool(letters) and sum(map(str.isupper, letters)) / len(letters) > 0.8


def _bracket_span(text: str, lines: _Lines, open_at: int, limit: int, rule: str) -> _Span:
    """A bracketed block from ``[`` to its balancing ``]``; unclosed, it ends with its paragraph."""
    depth = 0
    first_blank = None
    close = None
    for match in re.compile(r"[\[\]]|\n[ \t]*\n").finditer(text, open_at, min(limit, open_at + BRACKET_REACH)):
        token = match.group(0)
        if token == "[":
            depth += 1
        elif token == "]":
            depth -= 1
            if depth == 0:
                close = match.end()
                break
        elif first_blank is None:
            first_blank = match.start() + 1
    if close is None:
        close = first_blank if first_blank is not None else lines.end_of(open_at)
        inline = False
    else:
        inline = bool(text[lines.start_of(open_at):open_at].strip()) or bool(
            text[close:lines.end_of(max(open_at, close - 1))].strip())
    detail = _first_words(text[open_at:open_at + 60])
    if inline:
        start = open_at - 1 if open_at > 0 and text[open_at - 1] == " " else open_at
        return _Span(start, close, rule, detail)
    return _block(text, lines, lines.start_of(open_at), lines.end_of(max(open_at, close - 1)), limit, rule, detail)


def _bracket_blocks(text: str, lines: _Lines, start: int, end: int, pattern: re.Pattern, rule: str) -> list[_Span]:
    return [_bracket_span(text, lines, m.start(), end, rule) for m in pattern.finditer(text, start, end)]


def _paragraph_around(text: str, lines: _Lines, offset: int, floor: int, ceiling: int) -> tuple[int, int]:
    """The paragraph (between blank lines) that holds ``offset``, kept within the body."""
    p_start = lines.start_of(offset)
    while p_start > floor:
        previous = lines.start_of(p_start - 1)
        if not text[previous:p_start].strip():
            break
        p_start = previous
    after = BLANK_LINE_RE.search(text, offset, ceiling)
    return max(p_start, floor), after.start() + 1 if after else ceiling


def _block(text: str, lines: _Lines, start: int, end: int, limit: int, rule: str, detail: str = "") -> _Span:
    """A line-aligned block, with the blank lines after it, so no hole is left in the text."""
    start = lines.start_of(start)
    end = lines.skip_blank_lines(min(end, limit), limit)
    return _Span(start, max(start, end), rule, detail)


def _inside(spans: list[_Span], offset: int) -> bool:
    return any(s.start <= offset < s.end for s in spans)


def _merge(spans: list[_Span]) -> list[_Span]:
    merged: list[_Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if merged and span.start < merged[-1].end:
            if span.end > merged[-1].end:
                merged[-1] = _Span(merged[-1].start, span.end, merged[-1].rule, merged[-1].detail)
            continue
        merged.append(span)
    return merged


def _first_words(text: str, limit: int = 60) -> str:
    line = " ".join(text.strip().split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


SEPARATOR_CHARS = " \t*_=~#.-─━═—"


def _tidy(body: str) -> str:
    """Strip blank lines, and rules of asterisks or dashes, left at either end; inside, the book's spacing stays."""
    body = body.strip("\n").rstrip()
    while body:
        last_start = body.rfind("\n") + 1
        if body[last_start:].strip(SEPARATOR_CHARS):
            break
        body = body[:last_start].rstrip()
    while body:
        first_end = body.find("\n")
        first = body if first_end == -1 else body[:first_end]
        if first.strip(SEPARATOR_CHARS):
            break
        body = "" if first_end == -1 else body[first_end + 1:].lstrip("\n")
    return body
