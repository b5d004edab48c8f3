"""Transcriber's notes, wherever they stand and whatever they are called, and the zones the rules read.

Headed notes in many languages (and with mangled apostrophes), bracketed notes, ``+---+`` boxes,
notes without a heading told by what they say, and the lists that close an etext, told by the
shape of their rows. ``note_spans`` runs every rule of this module and of ``clean_credits`` over
the body between header and footer.
"""

from __future__ import annotations

import re
import unicodedata

from .context import _added_contents, _english_blurb, _word_on_contents
from .credits import (
    COPYRIGHT_RESEARCH_RE,
    CREDIT_START_RE,
    PRODUCER_NEEDLES,
    RESEARCH_NEEDLES,
    TITLE_PREFIX_RE,
    TOP_ZONE_PARAGRAPHS,
    _producer_asides,
    _producer_paragraph,
    _producer_preamble,
)
from .lines import (
    BLANK_LINE_RE,
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

_APOS = r"(?:['’‘`´?]|â€™|aEuro\(TM\)|a€™|&#8217;|&rsquo;)"
"""An apostrophe, also as mis-decoding left it: "Transcriberâ€™s Note", "TranscriberaEuro(TM)s Note"."""
NOTE_WORDS = (
    rf"(?:Transcriber{_APOS}?s?{_APOS}?|Transcription|Redactor{_APOS}?s?|Producer{_APOS}?s?|Etext\s+Production"
    rf"|E-text\s+Production|Editor{_APOS}?s?\s+(?:of\s+the\s+)?(?:e-?text|e-?book|electronic\s+edition))"
    r"\s*(?:Notes?|Amendments?|Corrections?|and\s+Errata|&\s+Errata)"
    rf"|Transcriber{_APOS}?s?{_APOS}?\s*:|Redactor\s*:"
    r"|(?:[\w-]+\s+){0,2}(?:Errata|Errors?|Corrections?|Changes|Typos|Inconsistencies)\b[^\n]{0,40}?"
    r"\b(?:noted|made|corrected|found|fixed)\s+by\s+(?:the\s+)?(?:e-?text\s+|etext\s+)?(?:transcriber|editor|producer)"
    r"|Notes?\s+du\s+transcripteur|Notes?\s+de\s+transcription|Notes?\s+de\s+l['’]?\s*éditeur\s+électronique"
    r"|Liste\s+des\s+(?:modifications|corrections)\s*:"
    r"|Anmerkungen?\s+zur\s+Transkription|Anmerkungen?\s+des\s+Transkribenten|Hinweise\s+zur\s+Transkription"
    r"|Anmerkungen?\s+des\s+Bearbeiters|Korrekturen\s+des\s+Bearbeiters"
    r"|Notas?\s+del\s+transcriptor|Notas?\s+de\s+(?:la\s+)?transcripción|Notas?\s+del\s+editor\s+digital"
    r"|Notas?\s+(?:del|de\s+la|della)\s+(?:trascrittore|trascrizione|transcriptora?)"
    r"|Note\s+(?:del|della|alla|sulla)\s+(?:trascrittore|trascrizione)|Nota\s+(?:alla|sulla|per\s+la)\s+trascrizione"
    r"|Notas?\s+d[aeo]\s+transcri[çc][ãa]o|Noot\s+van\s+de\s+transcribent|Opmerkingen\s+van\s+de\s+transcribent"
    r"|Aantekeningen?\s+van\s+de\s+(?:transcribent|bewerker)"
    r"|Paalala\s+ng\s+(?:nagsalin|tagapagsalin|nag-?transcribe)|Tala\s+ng\s+(?:nagsalin|tagapagsalin)"
    r"|Note\s+Project\s+Gutenberg|Project\s+Gutenberg\s+(?:note|editor)")
NOTE_WORDS_RE = re.compile(NOTE_WORDS, re.IGNORECASE)
BRACKET_NOTE_RE = re.compile(
    rf"\[[ \t]*(?:Footnote[ \t]*\w*[ \t]*:[ \t]*|\d+[ \t]*\][ \t]*)?(?:{NOTE_WORDS}|\*{{0,2}}[ \t]*TN[ \t]*:)",
    re.IGNORECASE)
HEADED_NOTE_RE = re.compile(
    rf"^[ \t]*(?:[*#=~_•●○-]+[ \t]*)?(?:\[\d+\][ \t]*)?(?:(?:Original|Old|Earlier|Previous|Additional|Further|Later"
    rf"|Second|Final)\s+)?(?:{NOTE_WORDS})[^\n]*$", re.IGNORECASE | re.MULTILINE)
FOOTNOTE_LABEL_RE = re.compile(r"\[\d+\][ \t]*(?!\])")
BOX_EDGE_RE = re.compile(r"^([ \t]*)\+-{3,}\+[ \t]*$", re.MULTILINE)
BOX_NOTE_RE = re.compile(r"transcri|errata|corrections?\b|copyright|e-?text|typographical|redactor", re.IGNORECASE)
NOTE_VOCABULARY_RE = re.compile(
    r"transcri|typo|misprint|spelling|hyphenat|punctuation|correct|changed?\s+(?:to|from)|errat|erreur|Druckfehler"
    r"|original|inconsisten|retained|standardi[sz]|normali[sz]|silently|illustrations?\s+(?:have|has|were|was)"
    r"|page\s+\d|\bp\.\s*\d|\.png\b|e-?text|e-?book|Project\s+Gutenberg|HTML|copyright|footnotes?\s+(?:have|were)"
    r"|moved|missing|printer|errors?\b|fixed|restored|replaced|coquille|corrig|unchanged|\btext\s+(?:has|reads)\b"
    r"|as\s+printed|remplacé|geändert|wie\s+im\s+Original",
    re.IGNORECASE)
TRANSCRIPTION_RE = re.compile(
    r"transcri|typo|misprint|printer['’]?s?\s+errors?|\bchanged\s+(?:to|from)\b|Druckfehler|hyphenat|inconsisten"
    r"|standardi[sz]ed|normali[sz]ed|silently|without\s+note|have\s+been\s+(?:corrected|retained|preserved|fixed)"
    r"|(?:was|were)\s+(?:corrected|retained|preserved|fixed)|as\s+in\s+the\s+original|in\s+the\s+original\s+(?:book|text)"
    r"|original\s+(?:read|reads|has|had|spelling|book|text|edition|magazine|publication)|\.png\b|\bLeft\s+in\b"
    r"|e-?text|Project\s+Gutenberg|\bHTML\b|errat|coquille|corrig"
    # French, Spanish, Italian, Portuguese, German, Dutch, Finnish: what was changed, kept or corrected
    r"|\b(?:a|ont)\s+été\s+(?:modifiée?s?|conservée?s?|corrigée?s?|rétablie?s?|normalisée?s?)|n['’]a\s+pas\s+été\s+modifi"
    r"|\b(?:ha|han)\s+sido\s+(?:corregid|modernizad|respetad|mantenid|conservad|normalizad|tomad|añadid|suprimid)"
    r"|se\s+ha\s+(?:modernizad|corregid|respetad|mantenid|añadid)"
    r"|(?:à|a)\s+la\s+fin\s+du\s+texte|at\s+the\s+end\s+of\s+(?:the|this)\s+(?:text|e-?text|e-?book)"
    r"|al\s+final\s+del\s+(?:texto|libro)"
    r"|errores\s+(?:obvios\s+)?de\s+imprenta|sin\s+avisar|\b(?:è|sono)\s+stat[aie]\s+(?:corrett|mantenut|conservat|uniformat)"
    r"|errori\s+(?:di\s+stampa|tipografici)|refus[io]\b|foram\s+(?:corrigid|mantid|atualizad)|erros\s+tipogr"
    r"|stillschweigend|wurden?\s+(?:korrigiert|berichtigt|beibehalten|vereinheitlicht)|Rechtschreibung\s+(?:wurde|des\s+Originals)"
    r"|(?:zijn|is|werden)\s+(?:gecorrigeerd|verbeterd|behouden|gehandhaafd)|drukfouten|korjattu|oikaistu"
    r"|geänderte[n]?\s+(?:Text)?zeilen|wie\s+im\s+Original|wie\s+gedruckt|remplacé\s+par|\btext\s+reads\b|as\s+printed",
    re.IGNORECASE)
"""Words of transcription itself, narrower than NOTE_VOCABULARY_RE: what may extend a note over author text."""
CONVENTION_RE = re.compile(
    r"(?:superscript|subscript|italic|bold|gras|cursiv|italique|corsivo|kursiv|gesperrt|small\s+cap|versalita|greek"
    r"|hebrew|ligature|diacritic|accent|macron|fraction|chemical\s+bond|footnote|sidenote|page\s+number"
    r"|exposant|Hochgestellt)\w*\b[^.\n]{0,80}?(?:\n[^.\n]{0,80}?)?"
    r"\b(?:preceded|followed|denoted|indicated|represented|shown|marked|rendered|enclosed|transliterated|surrounded"
    r"|moved|placed|written\s+as|given\s+as|expressed|indiqu|représent|placé|muestran?|indica|rappresentat|indicat"
    r"|dargestellt|wiedergegeben|gekennzeichnet|weergegeven|aangegeven|NOT\s+renumbered)",
    re.IGNORECASE)
"""How the etext renders what print showed otherwise ("Greek has been transliterated", "[#] footnotes moved to
the end of the chapter but NOT renumbered"), in any language: before the title, only the etext's maker writes so."""
MARKUP_RE = re.compile(
    r"\b(?:underscores?|carets?|tildes?|equals\s+signs?|curly\s+braces|subrayados?|sottolineat\w*|Unterstrich\w*)\b"
    r"|(?:denoted|indicated|represented|shown|enclosed|preceded|rendered|indiqué\w*|placé\w*|muestran?"
    r"|se\s+indica|dargestellt|wiedergegeben|weergegeven)\s+(?:here\s+|ici\s+)?(?:as|by|with|in|between|comme|par|entre"
    r"|como|durch|als|tra|door)?\s*(?:the\s+|a\s+)?[«\"“(]?(?:[_=~+#]\s*(?:like\s+this|this|italics?|italiques|gras"
    r"|bold|cursiv\w*|kursiv|corsivo|gesperrt)(?=[\W_]|$)|\^|\{|~)",
    re.IGNORECASE)
"""Markup no printed book has: "italics are denoted _like this_", "preceded by the ^caret", "entre _subrayados_"."""
DIGITAL_EDITION_RE = re.compile(
    r"\b(?:this|the\s+present)\s+(?:e-?text|e-?book|electronic\s+(?:text|edition|version)|digital\s+(?:text|edition|version)"
    r"|text\s+version|plain[- ]text\s+version)|version\s+(?:numérisée|électronique|numérique)"
    r"|versión\s+(?:digital|electrónica)|edición\s+(?:digital|electrónica)|versione\s+(?:elettronica|digitale)"
    r"|edizione\s+elettronica|elektronische[nr]?\s+(?:Ausgabe|Fassung|Version|Text)|digitale\s+(?:versie|uitgave|editie)"
    r"|versão\s+(?:digital|eletrônica|electrónica)|livre\s+électronique|libro\s+(?:electrónico|elettronico)"
    r"|elektronische[ns]?\s+Buch|original\s+impreso|printed\s+original|(?:the|in\s+the)\s+printed\s+(?:book|text|edition)"
    r"|text\s+readers?\b|\bUnicode\b|\bUTF-?8\b|\bLatin-1\b",
    re.IGNORECASE)
"""The etext speaking of itself or of the printed book as another thing: no author wrote this."""
CORRECTIONS_INTRO_RE = re.compile(
    r"the\s+following\s+(?:changes|corrections|typographical\s+errors|typos|misprints)\s+(?:have\s+been|were)"
    r"|(?:typographical|printer['’]?s)\s+errors\s+(?:have\s+been|were)\s+corrected|changed\s+to\s+the\s+latter"
    r"|LIST\s+OF\s+FIXED|^\s*PAGE\s+LINE\s+ORIGINAL",
    re.IGNORECASE | re.MULTILINE)
NOTES_HEADING_RE = re.compile(r"^[ \t]*([*#=~_-]*)[ \t]*(?:Notes|NOTES|Thinkos)[ \t]*:?[ \t]*$", re.MULTILINE)
TOP_ZONE_LINES = 220
BOTTOM_ZONE_LINES = 400
NOTE_NEEDLES = ("transcri", "transkri", "trascri", "redactor", "produc", "gutenberg", "tn:")
ZONE_NOTE_NEEDLES = ("nagsalin", "liste des", "bearbeiter", "editor", "bewerker", "errat", "error", "correction",
                     "change", "typo", "inconsisten")
"""Headings of notes that open or close a book ("Paalala ng nagsalin", "Errata noted by transcriber"): only
the two zones are searched for them, so each costs nothing on the rest of the text."""
BOX_NEEDLES = ("+---",)
BOX_MAX_LINES = 120


def _note_spans(text: str, lines: _Lines, start: int, end: int) -> list[_Span]:
    spans: list[_Span] = []
    # Bottom zone: the last lines of the body, but never its first half (short stories are short).
    bottom_from = max(lines.back(max(start, end - 1), BOTTOM_ZONE_LINES, start), start + (end - start) // 2)
    boundary = BLANK_LINE_RE.search(text, max(start, bottom_from - 1), end)  # zones begin with a paragraph
    bottom_from = lines.skip_blank_lines(boundary.end() - 1, end) if boundary else end
    top_end = lines.forward(start, TOP_ZONE_LINES, end)
    top = _paragraphs(text, start, top_end)[:TOP_ZONE_PARAGRAPHS]
    bottom_all = _paragraphs(text, bottom_from, end)
    bottom = bottom_all[-40:]

    note_hits = lines.hits(NOTE_NEEDLES, start, end)
    if lines.lower is not None:
        note_hits = sorted(set(note_hits).union(lines.local_hits(ZONE_NOTE_NEEDLES, start, top_end),
                                                lines.local_hits(ZONE_NOTE_NEEDLES, bottom_from, end)))
    else:
        note_hits = sorted(set(note_hits).union(lines.hits(ZONE_NOTE_NEEDLES, start, end)))
    spans.extend(_producer_asides(text, lines, start, end, top_end, bottom_from))
    for hit in note_hits:
        if _inside(spans, hit):
            continue
        bracket = text.rfind("[", max(lines.start_of(hit), hit - 40), hit + 1)
        if bracket != -1 and BRACKET_NOTE_RE.match(text, bracket) and BRACKET_NOTE_RE.match(text, bracket).end() > hit:
            label = FOOTNOTE_LABEL_RE.match(text, bracket)
            if label and not text[lines.start_of(bracket):bracket].strip():
                # "[1] Transcriber's Note: The original read..." is a footnote the transcriber wrote: all of it goes
                p_start, p_end = _paragraph_around(text, lines, bracket, start, end)
                spans.append(_block(text, lines, p_start, p_end, end, "transcriber-note",
                                    _first_words(text[bracket:bracket + 60])))
            else:
                spans.append(_bracket_span(text, lines, bracket, end, "transcriber-note"))

    for hit in note_hits:
        line_start = lines.start_of(hit)
        match = HEADED_NOTE_RE.match(text, line_start)
        if not match or _inside(spans, hit) or match.group(0).lstrip().startswith("["):
            continue
        note_start, note_end = _ruled_note(text, lines, line_start, start, end)
        if note_start is None:
            note_start = line_start
            note_end = _headed_note_end(text, lines, line_start, end, bottom_from)
        spans.append(_block(text, lines, note_start, note_end, end, "transcriber-note",
                            _first_words(match.group(0))))

    for hit in lines.hits(BOX_NEEDLES, start, end):
        line_start = lines.start_of(hit)
        match = BOX_EDGE_RE.match(text, line_start)
        if not match or _inside(spans, hit) or any(s.start <= line_start < s.end for s in spans):
            continue
        closing = re.compile(rf"^{re.escape(match.group(0))}$", re.MULTILINE)
        # A transcriber's box is a note, not a chapter: a table's border lines far apart are not one box.
        close = closing.search(text, match.end(), lines.forward(match.end(), BOX_MAX_LINES, end))
        if close and BOX_NOTE_RE.search(text, match.end(), close.start()):
            spans.append(_block(text, lines, line_start, lines.end_of(close.start()), end, "transcriber-note",
                                "+---+ box"))

    zone_hits = sorted((lines.local_hits(PRODUCER_NEEDLES, start, top_end) or [])
                       + (lines.local_hits(PRODUCER_NEEDLES, bottom_from, end) or []))
    if lines.lower is None:
        zone_hits = None
    spans.extend(_unheaded_notes(text, lines, top, bottom, end, spans))
    spans.extend(_producer_preamble(text, lines, start, end, top_end, zone_hits, spans))
    spans.extend(_english_blurb(text, lines, end, top_end, spans))
    for p_start, p_end in bottom:
        if _inside(spans, p_start):
            continue
        verdict = _producer_paragraph(text, p_start, p_end, zone_hits, in_bottom=True)
        if verdict == "special-characters":
            spans.append(_block(text, lines, p_start, end, end, "credits", _first_words(text[p_start:p_end])))
        elif verdict == "title-prefix":
            prefix = TITLE_PREFIX_RE.match(text, p_start)
            spans.append(_Span(prefix.start(1), prefix.end(1), "title-prefix", prefix.group(1)))
        elif verdict:
            # Near the end, the producer's paragraphs run to the footer when nothing but notes follows.
            to_end = _rest_is_notes(text, lines, p_end, end)
            spans.append(_block(text, lines, p_start, end if to_end else p_end, end, "credits",
                                _first_words(text[p_start:p_end])))

    # Renewal research notes open or close a book: only the two zones are searched.
    research_hits = (lines.local_hits(RESEARCH_NEEDLES, start, top_end) or []) + (
        lines.local_hits(RESEARCH_NEEDLES, bottom_from, end) or [])
    if lines.lower is None:
        research_hits = lines.hits(RESEARCH_NEEDLES, start, end)
    for hit in research_hits:
        if _inside(spans, hit):
            continue
        window_start = max(start, hit - 200)
        match = COPYRIGHT_RESEARCH_RE.search(text, window_start, min(end, hit + 200))
        if match:
            p_start, p_end = _paragraph_around(text, lines, match.start(), start, end)
            spans.append(_block(text, lines, p_start, p_end, end, "copyright-research",
                                _first_words(text[p_start:p_end])))

    for match in NOTES_HEADING_RE.finditer(text, bottom_from, end):
        following = _paragraphs(text, lines.end_of(match.start()), end)[:1]
        # An author's endnotes have a plain heading; a producer's, decorated ("******* Notes:"), may speak
        # more freely, but a plain one must talk of transcription at once.
        vocabulary = NOTE_VOCABULARY_RE if match.group(1) else TRANSCRIPTION_RE
        if following and not _inside(spans, match.start()) and vocabulary.search(
                text, following[0][0], following[0][1]) and _rest_is_notes(text, lines, following[0][0], end):
            spans.append(_block(text, lines, match.start(), end, end, "transcriber-note", "notes at the end"))

    spans.extend(_closing_lists(text, lines, bottom_from, end, bottom_all, spans))

    for match in CORRECTIONS_INTRO_RE.finditer(text, bottom_from, end):
        if _inside(spans, match.start()):
            continue
        p_start, p_end = _paragraph_around(text, lines, match.start(), start, end)
        if not _rest_is_notes(text, lines, p_end, end, lists=True):
            continue
        p_start = _include_notes_heading(text, lines, p_start, start)
        spans.append(_block(text, lines, p_start, end, end, "transcriber-note", "corrections list"))
    spans.extend(_added_contents(text, lines, bottom_from, end, spans))
    spans.extend(_respellings(text, lines, end, bottom_all, spans))
    spans.extend(_word_on_contents(text, lines, start, end, top_end, spans))
    return spans


RESPELLING_ROW_RE = re.compile(r"[ \t]*([^\W\d_][\w'’·-]*)[ \t]+[-–—=>]+[ \t]+([^\W\d_][\w'’·-]*)[ \t]*")
ORTHOGRAPHY_RE = re.compile(r"ortogr|orthogr|spelling|Rechtschreib|ortograf|oikeinkirj|\bnorm", re.IGNORECASE)


def _bare(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c)).casefold()


def _respellings(text: str, lines: _Lines, end: int, bottom: list[tuple[int, int]],
                 spans: list[_Span]) -> list[_Span]:
    """A list of the spellings the producer modernised, closing the book: every row pairs a word with its own
    accented form ("Haviem – Havíem"), which no glossary does; a short note on the spelling norms just above
    it goes with it ("Diccionari ortogràfic: 1917")."""
    for index, (p_start, p_end) in enumerate(bottom):
        rows = [row for row in text[p_start:p_end].splitlines() if row.strip()]
        if len(rows) < 2 or _inside(spans, p_start):
            continue
        pairs = [RESPELLING_ROW_RE.fullmatch(row) for row in rows]
        if not all(pair and pair.group(1) != pair.group(2) and _bare(pair.group(1)) == _bare(pair.group(2))
                   for pair in pairs):
            continue
        if not _rest_is_notes(text, lines, p_end, end, lists=True):
            return []
        if index:
            above_start, above_end = bottom[index - 1]
            above = text[above_start:above_end]
            if len(above.splitlines()) <= 8 and ORTHOGRAPHY_RE.search(above) and not _inside(spans, above_start):
                p_start = above_start
        return [_block(text, lines, p_start, end, end, "transcriber-note",
                       "respellings: " + _first_words(rows[0], 40))]
    return []


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
                DIGITAL_EDITION_RE.search(paragraph) or MARKUP_RE.search(paragraph))
            early = at_top and before_title and any(needle in paragraph.lower() for needle in EARLY_NOTE_NEEDLES) and (
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
                spans.append(_block(text, lines, note_start, end, end, "transcriber-note",
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
            spans.append(_block(text, lines, note_start, note_end, end, "transcriber-note",
                                "unheaded: " + _first_words(text[note_start:note_end], 50)))
            index += 1
    return spans


STRONG_NOTE_NEEDLES = (
    "e-text", "etext", "e-book", "ebook", "electronic", "digital", "text version", "numéri", "électronique",
    "electrónica", "electrónico", "elettronica", "elettronico", "elektronisch", "digitale", "eletrônica", "impreso",
    "printed", "reader", "unicode",
    "utf", "latin-1", "underscore", "caret", "tilde", "equals sign", "curly", "subrayad", "sottolineat", "unterstrich",
    "denoted", "indicated", "represented", "shown", "enclosed", "preceded", "rendered", "indiqu", "placé", "muestra",
    "indica", "dargestellt", "wiedergegeben", "weergegeven")
"""A paragraph holding none of these cannot match DIGITAL_EDITION_RE or MARKUP_RE: they are not run on it."""
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
ERRATA_HEADING_RE = re.compile(
    r"^[ \t]*(?:Errata|Erratum|Corrigenda|Fe\s+de\s+erratas|Errata\s+corrige|Druckfehler(?:verzeichnis)?"
    r"|Verbesserungen|Korrekturen|Corrections|Liste\s+des\s+corrections)[ \t]*[.:]?[ \t]*$",
    re.IGNORECASE | re.MULTILINE)
TRANSCRIBER_RE = re.compile(r"transcri|\be-?texts?\b|\betexts?\b|\bscann", re.IGNORECASE)
END_OF_FILE_RE = re.compile(r"End\s+of\s+(?:the\s+|this\s+)?(?:file|e-?text|e-?book)\.?", re.IGNORECASE)
"""A producer's last line, "End of file.", just above Gutenberg's footer."""
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
            spans.append(_block(text, lines, line_start, end, end, "transcriber-note", "errata list of the etext"))
            break
    if bottom and END_OF_FILE_RE.fullmatch(text[bottom[-1][0]:bottom[-1][1]].strip()):
        spans.append(_block(text, lines, bottom[-1][0], end, end, "footer", "the producer's end line"))
    for p_start, p_end in bottom:
        paragraph = text[p_start:p_end]
        if not paragraph.lstrip().startswith("[") or _inside(found, p_start) or _inside(spans, p_start):
            continue
        if text[p_start:end].rstrip().endswith("]") and len(
                {m.group(0).lower() for m in TRANSCRIPTION_RE.finditer(paragraph)}) >= 2:
            spans.append(_block(text, lines, p_start, end, end, "transcriber-note",
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
    when nothing but notes follows."""
    if heading >= bottom_from and _rest_is_notes(text, lines, lines.end_of(heading), end, lists=True):
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


LIST_ROW_RE = re.compile(r"^[ \t]*(?:[-*•>]|\d+[.):]|p(?:age|\.)?\s*\d+|\[?[SP]\.\s*\d+|\w+\s*(?:→|->|=))",
                         re.IGNORECASE)
CORRECTION_ROW_RE = re.compile(
    r"\S[ \t]*(?:\[[^\]\n]{1,60}\]|\{pg\.?\s*\d*\}\s*\d*)[ \t]*$|=>|«[^»\n]{1,40}»\s+(?:par|by|remplacé)"
    r"|^[ \t]+_[^_\n]{3,80}_[ \t]*$", re.MULTILINE)
"""A row of a corrections list: the reading with the original after it in brackets, "old=> new {pg 12}",
"«old» par «new»", an italic comment on a line of its own under the row ("    _text has comma at end_")."""


def _rest_is_notes(text: str, lines: _Lines, start: int, end: int, *, lists: bool = False) -> bool:
    """Whether what follows, to the body's end, reads as notes: most paragraphs speak of transcription
    (or, with ``lists``, are rows of a list or table), and none is long prose."""
    paragraphs = _paragraphs(text, start, end)
    if not paragraphs:
        return True
    if len(paragraphs) > 120:
        return False
    notes = counted = 0
    for p_start, p_end in paragraphs:
        paragraph = text[p_start:p_end]
        if NOTE_VOCABULARY_RE.search(paragraph) or RULE_LINE_RE.search(paragraph) or (
                lists and sum(bool(LIST_ROW_RE.match(row) or CORRECTION_ROW_RE.search(row))
                              for row in paragraph.splitlines()) * 2 >= len(paragraph.splitlines())):
            notes += 1
        elif len(paragraph) > 600:
            return False
        elif "\n" not in paragraph.rstrip("\n") and paragraph.rstrip().endswith(":") and len(paragraph) < 80:
            continue  # a subheading of the list ("Main Text:") speaks neither for the notes nor against them
        counted += 1
    return notes * 2 >= counted
