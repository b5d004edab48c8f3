"""What transcriber's notes say, in many languages, and whether a stretch of text reads as notes.

The vocabulary every note rule shares: the headings a note carries, the words of transcription,
conventions and markup no printed book has, the etext speaking of itself, and the rows of a
corrections list. No rule lives here, only what the rules read.
"""

from __future__ import annotations

import re

from .lines import RULE_LINE_RE, _Lines, _paragraphs

_APOS = r"(?:['’‘`´?]|â€™|aEuro\(TM\)|a€™|&#8217;|&rsquo;)"
"""An apostrophe, also as mis-decoding left it: "Transcriberâ€™s Note", "TranscriberaEuro(TM)s Note"."""
NOTE_WORDS = (
    rf"(?:Transcriber{_APOS}?s?{_APOS}?|Transcription|Redactor{_APOS}?s?|Producer{_APOS}?s?|Etext\s+Production"
    rf"|E-text\s+Production|Editor{_APOS}?s?\s+(?:of\s+the\s+)?(?:e-?text|e-?book|electronic\s+edition))"
    r"\s*(?:Notes?|Amendments?|Corrections?|and\s+Errata|&\s+Errata)"
    rf"|Transcriber{_APOS}?s?{_APOS}?\s*:|Redactor\s*:"
    rf"|E-?(?:text|book)\s+(?:Editor|Producer|Transcriber){_APOS}?s?{_APOS}?\s+[^\W\d_]+"
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
    rf"\[[ \t]*(?:[^\W\d_]{{2,20}}[ \t]*\w*[ \t]*:[ \t]*|\d+[ \t]*\][ \t]*)?(?:{NOTE_WORDS}|\*{{0,2}}[ \t]*TN[ \t]*:)",
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
CHANGE_REPORT = (r"\b(?:changed|corrected|altered|amended|emended|replaced)\s+[\"“'‘][^\"”'’\n]{1,40}[\"”'’]\s+"
                 r"(?:to|into|by|with)\s+[\"“'‘]")
"""A change reported with both readings quoted: 'changed "they face" to "thy face"'. A printer's errata say
'for ... read ...' instead, so this is the transcriber's report."""
CHANGE_REPORT_RE = re.compile(CHANGE_REPORT, re.IGNORECASE)
TRANSCRIPTION_RE = re.compile(
    r"transcri|typo|misprint|printer['’]?s?\s+errors?|\bchanged\s+(?:to|from)\b|" + CHANGE_REPORT
    + r"|Druckfehler|hyphenat|inconsisten"
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


LIST_ROW_RE = re.compile(r"^[ \t]*(?:[-*•>]|\d+[.):]|p(?:age|g\.?|p?\.)?\s*\d+|\[?[SP]\.\s*\d+|\w+\s*(?:→|->|=))",
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


def _rest_is_short_rows(text: str, start: int, end: int) -> bool:
    """Whether what follows, to the body's end, is rows of a list, one item a row (a producer's "bookmarks",
    quotations picked from the book): three or more short rows, each opening with a capital, as no wrapped
    line of prose or of a note does."""
    rows = [row.strip() for row in text[start:end].splitlines() if row.strip()]
    return len(rows) >= 3 and all(len(row) <= 72 and row[:1].isupper() for row in rows)

