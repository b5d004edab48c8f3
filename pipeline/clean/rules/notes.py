"""Transcriber's notes inside the body, wherever they stand and whatever they are called.

Headed notes in many languages (and with mangled apostrophes), with the paragraphs that keep
speaking of transcription; notes in brackets; ``+---+`` boxes; notes without a heading, told by
what they say. The lists that close a book are in ``closing``; the words every note rule reads
in ``vocabulary``.
"""

from __future__ import annotations

import re

from .credits import CREDIT_START_RE
from .lines import (
    RULE_LINE_RE,
    _any_between,
    _block,
    _bracket_span,
    _first_words,
    _inside,
    _is_display,
    _Lines,
    _looks_like_title,
    _paragraph_around,
    _paragraphs,
    _Span,
)
from .vocabulary import (
    _APOS,
    BRACKET_NOTE_RE,
    CHANGE_REPORT_RE,
    CONVENTION_RE,
    DIGITAL_EDITION_RE,
    FOOTNOTE_LABEL_RE,
    HEADED_NOTE_RE,
    MARKUP_RE,
    NOTE_VOCABULARY_RE,
    NOTE_WORDS_RE,
    TRANSCRIPTION_RE,
    _rest_is_notes,
    _rest_is_short_rows,
)

BOX_EDGE_RE = re.compile(r"^([ \t]*)\+-{3,}\+[ \t]*$", re.MULTILINE)
BOX_NOTE_RE = re.compile(r"transcri|errata|corrections?\b|copyright|e-?text|typographical|redactor", re.IGNORECASE)
NOTE_NEEDLES = ("transcri", "transkri", "trascri", "redactor", "produc", "gutenberg", "tn:")
ZONE_NOTE_NEEDLES = ("nagsalin", "liste des", "bearbeiter", "editor", "bewerker", "errat", "error", "correction",
                     "change", "typo", "inconsisten")
"""Headings of notes that open or close a book ("Paalala ng nagsalin", "Errata noted by transcriber"): only
the two zones are searched for them, so each costs nothing on the rest of the text."""
NOTE_POINTER_RE = re.compile(rf"\bsee\s+(?:the\s+|this\s+|a\s+)?transcriber{_APOS}?s?{_APOS}?\s+notes?\b\.?",
                             re.IGNORECASE)
"""A pointer to the transcriber's note outside any bracket, left inside the text ("_missing page_ See this
transcriber note."). One of the 332 real files under ../shared has one (pool pg65000); kept because no author
sends the reader to a transcriber, and only the pointer's own words go, never the sentence around them."""
BOX_NEEDLES = ("+---",)
BOX_MAX_LINES = 120


def _note_hits(lines: _Lines, start: int, end: int, top_end: int, bottom_from: int) -> list[int]:
    """Where a note's heading or bracket may be: its words anywhere, and the words of headings in the two zones."""
    note_hits = lines.hits(NOTE_NEEDLES, start, end)
    if lines.lower is None:
        return sorted(set(note_hits).union(lines.hits(ZONE_NOTE_NEEDLES, start, end)))
    return sorted(set(note_hits).union(lines.local_hits(ZONE_NOTE_NEEDLES, start, top_end),
                                       lines.local_hits(ZONE_NOTE_NEEDLES, bottom_from, end)))


def _bracketed_notes(text: str, lines: _Lines, note_hits: list[int], start: int, end: int,
                     found: list[_Span]) -> list[_Span]:
    """Notes in brackets that name themselves ("[Transcriber's Note: ...]", "[TN: ...]")."""
    spans: list[_Span] = []
    for hit in note_hits:
        if _inside(found, hit) or _inside(spans, hit):
            continue
        bracket = text.rfind("[", max(lines.start_of(hit), hit - 40), hit + 1)
        match = BRACKET_NOTE_RE.match(text, bracket) if bracket != -1 else None
        if match and match.end() > hit:
            label = FOOTNOTE_LABEL_RE.match(text, bracket)
            if label and not text[lines.start_of(bracket):bracket].strip():
                # "[1] Transcriber's Note: The original read..." is a footnote the transcriber wrote: all of it goes
                p_start, p_end = _paragraph_around(text, lines, bracket, start, end)
                spans.append(_block(text, lines, p_start, p_end, end, "transcriber-note/bracketed",
                                    _first_words(text[bracket:bracket + 60])))
            else:
                spans.append(_bracket_span(text, lines, bracket, end, "transcriber-note/bracketed"))
            continue
        pointer = NOTE_POINTER_RE.search(text, max(start, hit - 16), min(end, hit + 40))
        if pointer and pointer.start() <= hit:  # "See this transcriber note.": the book never pointed there
            space_before = text[pointer.start() - 1:pointer.start()] == " "
            spans.append(_Span(pointer.start() - space_before, pointer.end(), "transcriber-note/pointer",
                               pointer.group(0)))
    return spans


def _headed_notes(text: str, lines: _Lines, note_hits: list[int], start: int, end: int, bottom_from: int,
                  found: list[_Span]) -> list[_Span]:
    """Notes under a heading that names them ("Transcriber's Notes", "Notas del transcriptor"), rule to rule
    where rules set them off, else with the paragraphs after the heading that keep speaking of transcription."""
    spans: list[_Span] = []
    for hit in note_hits:
        line_start = lines.start_of(hit)
        match = HEADED_NOTE_RE.match(text, line_start)
        if not match or _inside(found, hit) or _inside(spans, hit) or match.group(0).lstrip().startswith("["):
            continue
        note_start, note_end = _ruled_note(text, lines, line_start, start, end)
        if note_start is None:
            note_start = line_start
            note_end = _headed_note_end(text, lines, line_start, end, bottom_from)
        spans.append(_block(text, lines, note_start, note_end, end, "transcriber-note/headed",
                            _first_words(match.group(0))))
    return spans


def _boxed_notes(text: str, lines: _Lines, start: int, end: int, found: list[_Span]) -> list[_Span]:
    """A note drawn in a ``+---+`` box that speaks of transcription, errata or the etext."""
    spans: list[_Span] = []
    for hit in lines.hits(BOX_NEEDLES, start, end):
        line_start = lines.start_of(hit)
        match = BOX_EDGE_RE.match(text, line_start)
        if not match or _inside(found, line_start) or _inside(spans, line_start):
            continue
        closing = re.compile(rf"^{re.escape(match.group(0))}$", re.MULTILINE)
        # A transcriber's box is a note, not a chapter: a table's border lines far apart are not one box.
        close = closing.search(text, match.end(), lines.forward(match.end(), BOX_MAX_LINES, end))
        if close and BOX_NOTE_RE.search(text, match.end(), close.start()):
            spans.append(_block(text, lines, line_start, lines.end_of(close.start()), end, "transcriber-note/box",
                                "+---+ box"))
    return spans


def _ruled_note(text: str, lines: _Lines, heading: int, floor: int, ceiling: int) -> tuple[int | None, int]:
    """A note set off by rules (a line of dashes just above its heading, another below) spans rule to rule."""
    heading_start = lines.start_of(heading)
    probe, above = heading_start, None
    for _ in range(4):
        if probe <= floor:
            break
        line_start = lines.start_of(probe - 1)
        if RULE_LINE_RE.fullmatch(text, line_start, probe - 1):
            above = line_start
            break
        probe = line_start
    if above is None:
        return None, 0
    window_end = lines.forward(heading, 120, ceiling)
    for below in RULE_LINE_RE.finditer(text, lines.end_of(heading), min(ceiling, max(window_end, heading))):
        previous_line = text[lines.start_of(below.start() - 1):below.start()] if below.start() else ""
        if not previous_line.strip():  # not the underline of a heading, but a rule of its own
            return above, lines.end_of(below.start())
    return None, 0


def _headed_note_end(text: str, lines: _Lines, heading: int, end: int, bottom_from: int) -> int:
    """A headed note takes its paragraph and the note-like paragraphs after it; at the bottom, all the rest
    when nothing but notes, or a list of short rows, follows."""
    if heading >= bottom_from and (_rest_is_notes(text, lines, lines.end_of(heading), end, lists=True)
                                   or _rest_is_short_rows(text, lines.end_of(heading), end)):
        return end
    paragraphs = _paragraphs(text, lines.start_of(heading), end)
    if not paragraphs:
        return lines.end_of(heading)
    note_end = paragraphs[0][1]
    heading_line = text[lines.start_of(heading):lines.end_of(heading)].strip()
    words_after = NOTE_WORDS_RE.sub("", heading_line, count=1).strip(" \t:.-*#=~_[]()")
    first_is_heading_only = paragraphs[0][1] == lines.end_of(heading) and not words_after
    # At the bottom a transcriber's list of end-notes runs on as long as each note is the transcriber's
    # ('[Footnote 3: "lodgings.": the period should be a comma]'); the author's own footnote after it stays.
    reach = len(paragraphs) if heading >= bottom_from else 6
    for index, (p_start, p_end) in enumerate(paragraphs[1:reach], start=1):
        paragraph = text[p_start:p_end]
        if index == 1 and first_is_heading_only:
            note_end = p_end  # a heading alone on its paragraph: the next paragraph is the note
            continue
        if len(paragraph) < 600 and not _looks_like_title(paragraph) and (
                TRANSCRIPTION_RE.search(paragraph) or TRANSCRIBER_FOOTNOTE_RE.match(paragraph)
                or (reach > 6 and NOTE_VOCABULARY_RE.search(paragraph))):
            note_end = p_end
        else:
            break
    return note_end


TRANSCRIBER_FOOTNOTE_RE = re.compile(
    r"[ \t]*\[Footnote\s+\d+:\s*(?:[\"“][^\"”\n]{1,80}[\"”]\s*:|Frontispiece|Illustration)")
"""A transcriber's end-note: the reading quoted, then what is wrong with it or what stood there."""



NOTE_HEADING_RE = re.compile(
    r"[ \t]*(?:To\s+the\s+reader|Au\s+lecteur|Al\s+lector|Al\s+lettore|Ao\s+leitor|An\s+den\s+Leser|Aan\s+de\s+lezer"
    r"|Lukijalle|Notes?|Nota|Anmerkungen?|Hinweise?|Opmerking|Avvertenza|Advertencia|Avertissement)"
    r"[ \t]*[.:]?[ \t]*\n?",
    re.IGNORECASE)
"""A one-line heading a producer's note may carry instead of "Transcriber's Note": taken only with the note."""


def _unheaded_notes(text: str, lines: _Lines, top: list[tuple[int, int]], bottom: list[tuple[int, int]], end: int,
                    found: list[_Span]) -> list[_Span]:
    """Notes by the etext's maker that name no transcriber: told by what they say.

    Near the top: the etext speaking of itself ("Cette version numérisée reproduit..."), markup no
    printed book has ("italics are denoted _like this_"), and, before the title, notes on conventions
    ("Greek has been transliterated") or two kinds of change ("obvious typos corrected ... spelling
    retained"). Near the end, only the first two. A one-line heading ("Au lecteur") goes with the note,
    and the note runs on over the paragraphs that keep speaking of transcription.
    """
    spans: list[_Span] = []
    before_title = True
    strong_hits = None
    if lines.lower is not None and top:
        strong_hits = sorted(lines.local_hits(STRONG_NOTE_NEEDLES, top[0][0], top[-1][1])
                             + (lines.local_hits(STRONG_NOTE_NEEDLES, bottom[0][0], bottom[-1][1]) if bottom else []))
    for zone, at_top in ((top, True), (bottom, False)):
        index = 0
        while index < len(zone):
            p_start, p_end = zone[index]
            paragraph = text[p_start:p_end]
            if len(paragraph) > 1500:
                before_title = before_title and not at_top
                index += 1
                continue
            if _inside(found, p_start) or _inside(spans, p_start):
                index += 1
                continue
            if CREDIT_START_RE.match(paragraph.lstrip()):
                index += 1  # credits, for the credit rules
                continue
            strong = _any_between(strong_hits, p_start, p_end) and (
                DIGITAL_EDITION_RE.search(paragraph) or MARKUP_RE.search(paragraph)
                or CHANGE_REPORT_RE.search(paragraph))
            lowered = paragraph.lower() if at_top and before_title else ""
            early = at_top and before_title and any(needle in lowered for needle in EARLY_NOTE_NEEDLES) and (
                CONVENTION_RE.search(paragraph) or len(
                    {m.group(0).lower() for m in TRANSCRIPTION_RE.finditer(paragraph)} - PRODUCER_WORDS) >= 2)
            if at_top and _is_display(paragraph):
                before_title = False
            if not (strong or early):
                index += 1
                continue
            note_start = p_start
            if index and NOTE_HEADING_RE.fullmatch(text, zone[index - 1][0], zone[index - 1][1]):
                note_start = zone[index - 1][0]
            note_end = p_end
            if not at_top and _rest_is_notes(text, lines, p_end, end, lists=True):
                spans.append(_block(text, lines, note_start, end, end, "transcriber-note/closing",
                                    "unheaded, to the end: " + _first_words(paragraph, 40)))
                break
            while index + 1 < len(zone):
                following = text[zone[index + 1][0]:zone[index + 1][1]]
                if len(following) > 800 or _is_display(following) or not (
                        TRANSCRIPTION_RE.search(following) or CONVENTION_RE.search(following)
                        or MARKUP_RE.search(following) or DIGITAL_EDITION_RE.search(following)):
                    break
                index += 1
                note_end = zone[index][1]
            spans.append(_block(text, lines, note_start, note_end, end, "transcriber-note/unheaded",
                                "unheaded: " + _first_words(text[note_start:note_end], 50)))
            index += 1
    return spans


STRONG_NOTE_NEEDLES = (
    "e-text", "etext", "e-book", "ebook", "lectr", "elettr", "elektr", "eletr", "digital", "text version", "numéri",
    "impreso", "printed", "reader", "unicode", "utf", "latin-1", "underscore", "caret", "tilde", "equals sign", "curly",
    "subrayad", "sottolineat", "unterstrich", "denoted", "indic", "indiq", "represented", "shown", "enclosed",
    "preceded", "rendered", "placé", "muestra", "dargestellt", "wiedergegeben", "weergegeven", "changed", "corrected",
    "altered", "amended", "emended", "replaced")
"""A paragraph holding none of these cannot match DIGITAL_EDITION_RE, MARKUP_RE or CHANGE_REPORT_RE."""
EARLY_NOTE_NEEDLES = (
    "superscript", "subscript", "italic", "bold", "gras", "cursiv", "corsivo", "kursiv", "gesperrt", "small cap",
    "versalita", "greek", "hebrew", "ligature", "diacritic", "accent", "macron", "fraction", "bond", "footnote",
    "sidenote", "page number", "exposant", "hochgestellt", "typo", "misprint", "printer", "changed", "druckfehler",
    "hyphenat", "inconsisten", "standardi", "normali", "silently", "without note", "corrected", "retained",
    "preserved", "fixed", "original", "errat", "coquille", "corrig", "été", "sido", "se ha", "imprenta", "avisar",
    "stat", "errori", "refus", "foram", "erros", "stillschweigend", "wurde", "rechtschreibung", "zijn", "werden",
    "drukfouten", "korjattu", "oikaistu")
"""The same for CONVENTION_RE and TRANSCRIPTION_RE's words of change."""
PRODUCER_WORDS = {"e-text", "etext", "project gutenberg", "html", "transcri"}
"""Words that make a paragraph the producer's credits, not a note on changes: left to the credit rules."""
