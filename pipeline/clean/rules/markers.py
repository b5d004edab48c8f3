"""Where Project Gutenberg's header ends and its footer begins, in every era.

START lines, the 1990s small print, ``Title:`` field blocks (also after the 2000s licence
paragraphs), footers in several languages, and files holding several etexts, each with its own
footer and header.
"""

from __future__ import annotations

import re

from ..result import CleanResult
from .lines import _first_words, _Lines, _paragraphs, _Span

START_RE = re.compile(
    r"^[ \t]*\*{3}[ \t]*START\s+OF\s+(?:THE\s+|THIS\s+)?(?:COPYRIGHTED\s+)?PROJECT\s+GUTENBERG"
    r"(?:'S)?\s+(?:E-?BOOK|E-?TEXT|EBOOK|ETEXT)?", re.IGNORECASE | re.MULTILINE)
SMALL_PRINT_END_RE = re.compile(
    r"^[ \t]*(?:\*+[ \t]*END\*?[ \t]*THE SMALL PRINT!?.*"
    r"|\*[^\n*]{0,20}SMALL PRINT!?[^\n]*\*[ \t]*END[ \t]*\*[ \t]*)$", re.IGNORECASE | re.MULTILINE)
"""The small print's last line: "*END*THE SMALL PRINT! FOR PUBLIC DOMAIN ETEXTS*Ver.04.29.93*END*", or
with its version first, "*SMALL PRINT! Ver.06.28.92* Zen and the Art of the Internet*END*"."""
FOOTER_RE = re.compile(
    r"^[ \t]*(?:"
    r"\*{3}[ \t]*END\s+OF\s+(?:THE\s+|THIS\s+)?(?:COPYRIGHTED\s+)?PROJECT\s+GUTENBERG"
    r"|(?:The\s+)?End\s+of\s+(?:the\s+|this\s+)?Project\s+Gutenberg(?:['’]s|\b)"
    r"|End\s+of\s+(?:this|the)\s+E-?text\b"
    r"|Ende\s+(?:dieses|des)\s+Proje[ck]t(?:es)?\s+Gutenberg|Ende\s+dieses\s+E-?textes\b"
    r"|Fin\s+d(?:u|e|el)\s+(?:Proyecto|Project|Projet)\s+Gutenberg"
    r"|Einde\s+van\s+(?:het\s+)?(?:Project\s+Gutenberg|dit\s+Project)"
    r"|\*{0,3}[ \t]*START:?[ \t]*FULL\s+LICENSE"
    r"|\*{3,}[ \t]*START\*\*THE\s+SMALL\s+PRINT"
    r")", re.IGNORECASE | re.MULTILINE)
HEADER_FIELD_RE = re.compile(
    r"\[?(?:Title|Author|Editor|Translator|Illustrator|Credits|Release [Dd]ate|Posting [Dd]ate|Most recently updated"
    r"|Edition|Etext|E-?[Bb]ook"
    r"|Last [Uu]pdated|Language|Character set encoding|Produced by|Original publication)\s*:")


def _header_end(text: str, lines: _Lines, spans: list[_Span], result: CleanResult) -> int:
    start = _first_line_match(lines, START_RE, ("start",), 0, len(text))
    if start is not None:
        end = _marker_end(text, lines, start)
        spans.append(_Span(0, end, "header/start-marker", "*** START marker"))
        return end
    start = _first_line_match(lines, SMALL_PRINT_END_RE, ("small print",), 0, len(text))
    if start is not None and not _is_trailing(text, lines.end_of(start)):
        end = lines.end_of(start)
        spans.append(_Span(0, end, "header/no-start-line", "1990s small print"))
        return end
    end = _field_block_end(text, lines)
    if end:
        spans.append(_Span(0, end, "header/no-start-line", "Title:/Author:/Credits: fields"))
        return end
    result.flags.append("no Gutenberg header found: kept from the first line")
    return 0


FOOTER_NEEDLES = ("gutenberg", "etext")
"""Every footer line names Gutenberg or an etext, or sits just above a line that does ("START: FULL LICENSE")."""


def _first_line_match(lines: _Lines, pattern: re.Pattern, needles: tuple[str, ...], start: int,
                      end: int, *, lazy: bool = True) -> int | None:
    """The start of the first line from ``start`` on that ``pattern`` matches, looking only near a needle.

    The needle's own line is tried, and the two non-blank lines above it: a marker may wrap, and a
    licence's opening line may not name Gutenberg while the next one does.
    """
    hits = lines.iter_hits(needles, start, end) if lazy else lines.hits(needles, start, end)
    for hit in hits:
        line_start = max(start, lines.start_of(hit))
        candidates = [line_start]
        probe = line_start
        while len(candidates) < 3 and probe > start:
            probe = max(start, lines.start_of(probe - 1))
            if lines.text[probe:line_start].strip():
                candidates.append(probe)
        for candidate in sorted(candidates):
            match = pattern.match(lines.text, candidate)
            if match and (candidate < line_start or match.end() > hit):
                return candidate
    return None


def _marker_end(text: str, lines: _Lines, start: int) -> int:
    """End of a START marker, which may wrap: it runs to the line where its closing asterisks are."""
    first_end = lines.end_of(start)
    line = text[start:first_end].rstrip()
    if line.endswith("***") and line.count("*") >= 6:
        return first_end
    candidate = first_end
    for _ in range(2):  # the title may continue on up to two more lines
        next_end = lines.end_of(candidate)
        nxt = text[candidate:next_end].strip()
        if not nxt:
            break
        if nxt.endswith("***"):
            return next_end
        candidate = next_end
    return first_end


def _is_trailing(text: str, offset: int) -> bool:
    """True when only whitespace follows: the 2002–04 small print closes the file instead of opening it."""
    return not text[offset:].strip()


LICENCE_WORDS_RE = re.compile(r"gutenberg|e-?books?\b|e-?texts?\b|copyright|small\s+print|volunteers", re.IGNORECASE)
FIELDS_REACH = 12_000
"""How far into a file its Title: field may come, after the licence paragraphs of the 2000s."""
BARE_RULE_RE = re.compile(r"[ \t]*\*{3,}[ \t]*\n")


def _field_block_end(text: str, lines: _Lines) -> int:
    """A file that opens with Title:/Author:/Credits: fields and no START line: the block ends at its last field.

    The fields may come after the licence paragraphs of the 2000s ("Copyright laws are changing...",
    "**Welcome To The World of Free Plain Vanilla Electronic Texts**"), when every paragraph before them
    speaks of Gutenberg, etexts or copyright; a bare line of asterisks after the fields goes with them.
    """
    start = lines.skip_blank_lines(0, len(text))
    if not re.match(r"\s*Title\s*:", text[start:start + 200]):
        title = re.compile(r"^Title\s*:", re.MULTILINE).search(text, start, min(len(text), FIELDS_REACH))
        if title is None or not all(LICENCE_WORDS_RE.search(text, a, b) or text[a:b].lstrip().startswith("*")
                                    for a, b in _paragraphs(text, start, title.start())):
            return 0
        start = title.start()
    position, fields, last_field_end = start, 0, 0
    while position < len(text) and fields < 40:
        end = lines.end_of(position)
        line = text[position:end]
        if HEADER_FIELD_RE.match(line.strip()):
            fields += 1
            last_field_end = end
        elif line.strip() and not line[:1].isspace() and fields and not _continues_field(text, position, lines):
            break
        position = end
    if fields >= 2:
        end = lines.skip_blank_lines(last_field_end, len(text))
        rule = BARE_RULE_RE.match(text, end)
        return lines.skip_blank_lines(rule.end(), len(text)) if rule else end
    return 0


def _continues_field(text: str, position: int, lines: _Lines) -> bool:
    previous_end = position
    previous_start = lines.start_of(max(0, previous_end - 1))
    return bool(text[previous_start:previous_end].strip()) and text[position:position + 1] in " \t"


def _footer_start(text: str, lines: _Lines, body_start: int, spans: list[_Span], result: CleanResult) -> int:
    position = body_start
    while True:
        start = _first_line_match(lines, FOOTER_RE, FOOTER_NEEDLES, position, len(text), lazy=False)
        if start is None:
            result.flags.append("no Gutenberg footer found: kept to the last line")
            return len(text)
        # Some 1990s files hold several etexts, each with its own footer and header: between two of
        # them Gutenberg's text goes, and the next etext stays.
        next_body = _next_etext_start(text, lines, start)
        if next_body is None:
            spans.append(_Span(start, len(text), "footer/end-marker", _first_words(text[start:start + 80])))
            return start
        spans.append(_Span(start, next_body, "header/between-etexts", "between two etexts in one file: "
                           + _first_words(text[start:start + 60], 40)))
        position = next_body


NEXT_ETEXT_REACH = 60_000
"""How far after one etext's footer the next one's header may end (the longest small print is ~25,000 characters)."""
MIN_NEXT_ETEXT = 5_000


def _next_etext_start(text: str, lines: _Lines, footer: int) -> int | None:
    """Where the next etext's body starts, when a footer is followed by another etext's header and its text."""
    reach = min(len(text), footer + NEXT_ETEXT_REACH)
    ends = [found for pattern, needles in ((START_RE, ("start",)), (SMALL_PRINT_END_RE, ("small print",)))
            if (found := _first_line_match(lines, pattern, needles, lines.end_of(footer), reach)) is not None]
    if not ends:
        return None
    marker = min(ends)
    body = lines.skip_blank_lines(_marker_end(text, lines, marker) if START_RE.match(text, marker)
                                  else lines.end_of(marker), len(text))
    following = text[body:body + MIN_NEXT_ETEXT]
    # The 2002 small print closes the file after the footer: a next etext is text, not more licence.
    if len(text) - body < MIN_NEXT_ETEXT or following.lower().count("gutenberg") > 3:
        return None
    return body
