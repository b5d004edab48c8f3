"""What the producer added that only the book around it gives away.

An English blurb under the credits of a book in another language, an editor's word on the book's
contents naming one of its headings, an index the transcriber's note says was added at the end:
each is told by comparing it with the book's own text, never by its words alone.
"""

from __future__ import annotations

import re

from .lines import _block, _first_words, _inside, _is_display, _Lines, _looks_like_title, _paragraphs, _Span

ENGLISH_WORDS = frozenset(("the", "of", "and", "also", "known", "as", "or", "is", "was", "with", "which", "this",
                           "that", "by", "an", "a", "unknown", "its", "from", "written", "first", "published"))
QUOTED_RE = re.compile(r"\"[^\"]*\"|“[^”]*”")
ENGLISH_PROSE_RE = re.compile(r"\b(?:the|and|of the|which|with)\b")
BLURB_REACH = 3000


def _english_blurb(text: str, lines: _Lines, end: int, top_end: int, spans: list[_Span]) -> list[_Span]:
    """A producer's blurb in English under the credits of a book in another language, before its title
    ("A picaresque romance (1554) of unknown authorship."): short paragraphs of English words (quoted titles
    aside), the title set as a display right after them, and no English prose in the book that follows.

    One of the 332 real files under ../shared has such a blurb (pool pg320, Lazarillo de Tormes); kept because
    the role recurs wherever a producer catalogues foreign books in English, and the book itself must confirm
    it (no English in the text below), so it cannot fire on an English author's paragraph."""
    credits = [span for span in spans if span.family == "credits" and span.end <= top_end]
    if not credits:
        return []
    after = max(span.end for span in credits)
    blurb = []
    for p_start, p_end in _paragraphs(text, after, top_end)[:4]:
        paragraph = text[p_start:p_end]
        if _inside(spans, p_start):
            return []
        if _is_display(paragraph) or _looks_like_title(paragraph.split("\n", 1)[0]):
            break
        words = re.findall(r"[^\W\d_]+", QUOTED_RE.sub(" ", paragraph).lower())
        if len(paragraph.splitlines()) > 4 or not words or sum(w in ENGLISH_WORDS for w in words) * 5 < len(words) * 2:
            return []
        blurb.append((p_start, p_end))
    else:
        return []
    if not blurb or blurb[0][0] != after:
        return []
    book = text[blurb[-1][1]:min(end, blurb[-1][1] + BLURB_REACH)].lower()
    if len(ENGLISH_PROSE_RE.findall(book)) * 200 > len(book):  # the book itself is in English: its own lines
        return []
    return [_block(text, lines, blurb[0][0], blurb[-1][1], end, "credits/english-blurb",
                   "producer's blurb in English: " + _first_words(text[blurb[0][0]:blurb[-1][1]], 40))]


def _word_on_contents(text: str, lines: _Lines, start: int, end: int, top_end: int,
                      spans: list[_Span]) -> list[_Span]:
    """An editor's word on what the book holds, left under the notes at the top and above the title printed
    again ("Part II, The Country of the Saints, deals much with the Mormon Church."): a line or two of prose
    naming one of the book's own headings. A dedication or epigraph names none.

    Fires in one of the 332 real files under ../shared (pool pg244, A Study in Scarlet); kept because it runs
    only below a transcriber's note already cut and above the title printed again, and the heading it names
    must stand in the book: a sentence of the author's meets none of the three."""
    notes = [span for span in spans if span.family == "transcriber-note" and span.end <= top_end]
    if not notes:
        return []
    last_note = max(notes, key=lambda span: span.end)
    following = _paragraphs(text, last_note.end, top_end)[:2]
    if len(following) < 2 or following[0][0] != last_note.end:
        return []
    paragraph = text[following[0][0]:following[0][1]]
    rows = [row for row in paragraph.splitlines() if row.strip()]
    if len(rows) > 2 or not paragraph.rstrip().endswith(".") or _is_display(paragraph):
        return []
    title_again = " ".join(text[following[1][0]:lines.end_of(following[1][0])].split()).casefold()
    first_note = min(span.start for span in notes)
    above = {" ".join(row.split()).casefold() for row in text[start:first_note].splitlines() if row.strip()}
    if not title_again or title_again not in above or lines.lower is None:
        return []
    for phrase in re.split(r"[,;:()]", paragraph):
        phrase = " ".join(phrase.split()).lower()
        if len(phrase.split()) < 3:
            continue
        hit = lines.lower.find(phrase, following[1][0], end)
        for _ in range(20):
            if hit == -1:
                break
            if lines.end_of(hit) - lines.start_of(hit) < 60:  # a heading's line, not a sentence of prose
                return [_block(text, lines, following[0][0], following[0][1], end, "transcriber-note/on-contents",
                               "on the contents: " + _first_words(paragraph, 40))]
            hit = lines.lower.find(phrase, hit + 1, end)
    return []


ADDED_WORDS = (r"(?:added|supplied|created|compiled|añadid[oa]|agregad[oa]|ajout[ée]e?|aggiunt[oa]|hinzugefügt"
               r"|ergänzt|adicionad[oa]|acrescentad[oa]|toegevoegd|lisätty)")
CONTENTS_WORDS = (r"(?P<what>index|índice|indice|table\s+of\s+contents|contents|table\s+des\s+matières|table"
                  r"|inhaltsverzeichnis|register|inhoud|sisällys(?:luettelo)?)")
AT_THE_END = (r"(?:at\s+the\s+end|al\s+final|à\s+la\s+fin|alla\s+fine|am\s+(?:Ende|Schluss)|no\s+final"
              r"|ao\s+final|aan\s+het\s+(?:einde|eind)|loppuun)")
ADDED_CONTENTS_RES = [re.compile(pattern, re.IGNORECASE) for pattern in (
    rf"{ADDED_WORDS}\W+(?:[^\W\d]+\W+){{0,6}}?{AT_THE_END}\W+(?:[^\W\d]+\W+){{0,4}}?{CONTENTS_WORDS}\b",
    rf"{ADDED_WORDS}\W+(?:[^\W\d]+\W+){{0,4}}?{CONTENTS_WORDS}\W+(?:[^\W\d]+\W+){{0,6}}?{AT_THE_END}",
    rf"{CONTENTS_WORDS}\W+(?:[^\W\d]+\W+){{0,4}}?{ADDED_WORDS}\W+(?:[^\W\d]+\W+){{0,4}}?{AT_THE_END}")]
"""A transcriber's note saying an index or table of contents the print lacks was added at the end of the book
("Se ha añadido al final del libro un Índice del que carece el original impreso")."""
CONTENTS_ROW_RE = re.compile(r"(?:\d+|[IVXLC]+\.?|\.{3,})[ \t]*$")


def _added_contents(text: str, lines: _Lines, bottom_from: int, end: int, spans: list[_Span]) -> list[_Span]:
    """The index or contents the transcriber's note says was added at the end: its heading, and the rows of
    page numbers under it to the end of the body."""
    for span in spans:
        if span.family != "transcriber-note" or span.start >= bottom_from:
            continue
        said = next(filter(None, (pattern.search(text, span.start, span.end) for pattern in ADDED_CONTENTS_RES)), None)
        if not said:
            continue
        what = " ".join(said.group("what").split())
        heading = re.compile(rf"^[ \t]*{re.escape(what)}[ \t]*[.:]?[ \t]*$", re.IGNORECASE | re.MULTILINE)
        found = None
        for found in heading.finditer(text, bottom_from, end):
            pass  # the last such heading: the added one closes the book
        if found is None:
            return []
        rows = [row for row in text[lines.end_of(found.start()):end].splitlines() if row.strip()]
        if rows and sum(1 for row in rows if CONTENTS_ROW_RE.search(row)) >= 0.9 * len(rows):
            return [_block(text, lines, found.start(), end, end, "transcriber-note/closing",
                           f"{_first_words(found.group(0))}: added by the transcriber")]
        return []
    return []
