"""What closes a book: the lists and notes a transcriber leaves after the author's last line.

Errata lists told by their rows, corrections lists under their introduction, a decorated
"Notes:" section that speaks of transcription, a bracketed note that runs to the end, the
producer's end line, a list of modernised spellings. Each runs to the end of the body only when
nothing but notes follows it.
"""

from __future__ import annotations

import re
import unicodedata

from .lines import _block, _first_words, _inside, _Lines, _paragraph_around, _paragraphs, _Span
from .vocabulary import (
    CORRECTION_ROW_RE,
    CORRECTIONS_INTRO_RE,
    NOTE_VOCABULARY_RE,
    NOTES_HEADING_RE,
    TRANSCRIPTION_RE,
    _rest_is_notes,
)


def _notes_at_end(text: str, lines: _Lines, bottom_from: int, end: int, found: list[_Span]) -> list[_Span]:
    """A "Notes:" section that closes the book and speaks of transcription at once, to the end."""
    for match in NOTES_HEADING_RE.finditer(text, bottom_from, end):
        following = _paragraphs(text, lines.end_of(match.start()), end)[:1]
        # An author's endnotes have a plain heading; a producer's, decorated ("******* Notes:"), may speak
        # more freely, but a plain one must talk of transcription at once.
        vocabulary = NOTE_VOCABULARY_RE if match.group(1) else TRANSCRIPTION_RE
        if following and not _inside(found, match.start()) and vocabulary.search(
                text, following[0][0], following[0][1]) and _rest_is_notes(text, lines, following[0][0], end):
            return [_block(text, lines, match.start(), end, end, "transcriber-note/closing", "notes at the end")]
    return []


CORRECTIONS_INTRO_NEEDLES = ("following", "errors", "latter", "list of fixed", "original")
"""A line holding none of these cannot start CORRECTIONS_INTRO_RE."""


def _corrections_lists(text: str, lines: _Lines, start: int, bottom_from: int, end: int,
                       found: list[_Span]) -> list[_Span]:
    """A list of corrections under its introduction ("The following typographical errors have been corrected")."""
    spans: list[_Span] = []
    hits = lines.local_hits(CORRECTIONS_INTRO_NEEDLES, bottom_from, end)
    if hits is None:
        matches = list(CORRECTIONS_INTRO_RE.finditer(text, bottom_from, end))
    else:  # the regex is read only around its words: searching the whole zone with it costs more than the rest
        windows = [(lines.back(hit, 1, bottom_from), lines.forward(lines.end_of(hit), 1, end)) for hit in hits]
        matches = list({m.start(): m for a, b in windows if (m := CORRECTIONS_INTRO_RE.search(text, a, b))}.values())
    for match in matches:
        if _inside(found, match.start()) or _inside(spans, match.start()):
            continue
        p_start, p_end = _paragraph_around(text, lines, match.start(), start, end)
        if not _rest_is_notes(text, lines, p_end, end, lists=True):
            continue
        p_start = _include_notes_heading(text, lines, p_start, start)
        spans.append(_block(text, lines, p_start, end, end, "transcriber-note/closing", "corrections list"))
    return spans


ERRATA_HEADING_RE = re.compile(
    r"^[ \t]*(?:Errata|Erratum|Corrigenda|Fe\s+de\s+erratas|Errata\s+corrige|Druckfehler(?:verzeichnis)?"
    r"|Verbesserungen|Korrekturen|Corrections|Liste\s+des\s+corrections)[ \t]*[.:]?[ \t]*$",
    re.IGNORECASE | re.MULTILINE)
TRANSCRIBER_RE = re.compile(r"transcri|\be-?texts?\b|\betexts?\b|\bscann", re.IGNORECASE)
END_LINE_RE = re.compile(
    r"End\s+of\s+(?:the\s+|this\s+)?(?:file|e-?text|e-?book)\.?"
    r"|End\s+of\s+[^\n]{1,80}?[.!]?\s+(?:The|Our)\s+next\s+(?:e-?)?text\b[^\n]*(?:\n[^\n]+){0,2}", re.IGNORECASE)
"""A producer's end line: "End of file.", or the end of the title with the next etext of the series ("End of
Ten Years Later. The next text in the series is Louise de la Valliere.")."""
END_LINE_NOTES_MAX = 600
"""Below a producer's end line only the producer's short notes stand (their footnotes): no paragraph of prose."""
ERRATA_NEEDLES = ("errat", "corrigenda", "druckfehler", "verbesserungen", "korrekturen", "corrections")


def _closing_lists(text: str, lines: _Lines, bottom_from: int, end: int, bottom: list[tuple[int, int]],
                   found: list[_Span]) -> list[_Span]:
    """Lists a transcriber closes the book with, told by their rows.

    An "Errata" heading is the printer's as often as the transcriber's: the list goes only when its
    rows are the transcriber's ("reading  [original]", "old=> new {pg 12}", "_text has comma_") or it
    speaks of transcription. A bracket that opens a paragraph near the end, speaks of transcription
    and closes only at the end of the body is one note, however long.
    """
    spans: list[_Span] = []
    hits = lines.local_hits(ERRATA_NEEDLES, bottom_from, end)
    for hit in hits if hits is not None else [m.start() for m in ERRATA_HEADING_RE.finditer(text, bottom_from, end)]:
        line_start = lines.start_of(hit)
        match = ERRATA_HEADING_RE.match(text, line_start)
        if not match or _inside(found, line_start) or _inside(spans, line_start):
            continue
        rest_start = lines.end_of(line_start)
        rest = text[rest_start:end]
        if len(rest) < 20_000 and _rest_is_notes(text, lines, rest_start, end, lists=True) and (
                TRANSCRIBER_RE.search(rest) or sum(bool(CORRECTION_ROW_RE.search(row)) for row in rest.splitlines()) * 4
                >= sum(1 for row in rest.splitlines() if row.strip())):
            spans.append(_block(text, lines, line_start, end, end, "transcriber-note/closing",
                                "errata list of the etext"))
            break
    for index, (p_start, p_end) in enumerate(bottom):
        if END_LINE_RE.fullmatch(text[p_start:p_end].strip()) and not _inside(found, p_start) and all(
                p_end_after - p_start_after <= END_LINE_NOTES_MAX for p_start_after, p_end_after in bottom[index + 1:]):
            spans.append(_block(text, lines, p_start, end, end, "footer/producer-end-line",
                                "the producer's end line: " + _first_words(text[p_start:p_end], 40)))
            break
    for p_start, p_end in bottom:
        paragraph = text[p_start:p_end]
        if not paragraph.lstrip().startswith("[") or _inside(found, p_start) or _inside(spans, p_start):
            continue
        if text[p_start:end].rstrip().endswith("]") and len(
                {m.group(0).lower() for m in TRANSCRIPTION_RE.finditer(paragraph)}) >= 2:
            spans.append(_block(text, lines, p_start, end, end, "transcriber-note/closing",
                                "bracketed note to the end: " + _first_words(paragraph, 40)))
            break
    return spans


def _include_notes_heading(text: str, lines: _Lines, p_start: int, floor: int) -> int:
    """A corrections paragraph headed by a bare 'Notes:' line (within three lines above) takes the heading along."""
    probe = p_start
    for _ in range(3):
        if probe <= floor:
            break
        above = lines.start_of(probe - 1)
        line = text[above:probe].rstrip("\n")
        if line.strip():
            return above if NOTES_HEADING_RE.fullmatch(line) else p_start
        probe = above
    return p_start


RESPELLING_ROW_RE = re.compile(r"[ \t]*([^\W\d_][\w'’·-]*)[ \t]+[-–—=>]+[ \t]+([^\W\d_][\w'’·-]*)[ \t]*")
ORTHOGRAPHY_RE = re.compile(r"ortogr|orthogr|spelling|Rechtschreib|ortograf|oikeinkirj|\bnorm", re.IGNORECASE)


def _bare(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c)).casefold()


def _is_respelling(pair: re.Match | None) -> bool:
    return bool(pair) and pair.group(1) != pair.group(2) and _bare(pair.group(1)) == _bare(pair.group(2))


def _respellings(text: str, lines: _Lines, end: int, bottom: list[tuple[int, int]],
                 spans: list[_Span]) -> list[_Span]:
    """A list of the spellings the producer modernised, closing the book: every row pairs a word with its own
    accented form ("Haviem – Havíem"), which no glossary does; a short note on the spelling norms just above
    it goes with it ("Diccionari ortogràfic: 1917")."""
    for index, (p_start, p_end) in enumerate(bottom):
        rows = [row for row in text[p_start:p_end].splitlines() if row.strip()]
        if len(rows) < 2 or _inside(spans, p_start):
            continue
        if not all(_is_respelling(RESPELLING_ROW_RE.fullmatch(row)) for row in rows):
            continue
        if not _rest_is_notes(text, lines, p_end, end, lists=True):
            return []
        if index:
            above_start, above_end = bottom[index - 1]
            above = text[above_start:above_end]
            if len(above.splitlines()) <= 8 and ORTHOGRAPHY_RE.search(above) and not _inside(spans, above_start):
                p_start = above_start
        return [_block(text, lines, p_start, end, end, "transcriber-note/closing",
                       "respellings: " + _first_words(rows[0], 40))]
    return []

