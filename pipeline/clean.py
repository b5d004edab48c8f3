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
"""

from __future__ import annotations

import bisect
import heapq
import os
import re
import sys
from dataclasses import dataclass, field

from .decode import decode

CLEANER_VERSION = 2
"""Bump when a rule changes what is cut: cached cleaned texts are keyed by it."""

# -- markers ---------------------------------------------------------------------------------------

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

# -- credits ---------------------------------------------------------------------------------------

CREDIT_START_RE = re.compile(
    r"(?:Produced\s+by|Prepared\s+by|E-?text\s+(?:prepared|produced|created)\s+by|E-?book\s+(?:prepared|produced)\s+by"
    r"|Transcribed\s+(?:by|from)|Scanned\s+by|Proofread\s+by|Digiti[sz]ed\s+by|Credits\s*:"
    r"|This\s+(?:Project\s+Gutenberg\s+)?(?:e-?text|e-?book|etext|ebook|electronic\s+text|file|transcription)\s+"
    r"(?:was|has\s+been|is)\s+(?:produced|prepared|created|done|made|transcribed|scanned|first\s+published"
    r"|generously\s+provided|provided|proofread)"
    r"|This\s+book\s+was\s+generously\s+provided|Dieses\s+Buch\s+wurde\s+uns"
    r"|(?:Note:\s*)?Project\s+Gutenberg\s+(?:also\s+)?has\s+an\s+HTML\s+version|An?\s+HTML\s+version"
    r"|HTML\s+version\s+by|Updated\s+editions\s+will\s+replace|An?\s+Anonymous\s+Volunteer"
    r"|Ce\s+livre\s+(?:électronique\s+)?a\s+été|Cet?\s+(?:e-?texte|ouvrage)\s+a\s+été\s+(?:préparé|réalisé|produit)"
    r"|Este\s+(?:libro\s+electrónico|e-?texto)\s+fue|Questo\s+e-?(?:book|text)\s+è\s+stato)",
    re.IGNORECASE)
PRODUCTION_MARK_RE = re.compile(
    r"Online\s+Distributed\s+Proofreading|Distributed\s+Proofreaders|\bpgdp\.net|\bProject\s+Gutenberg\b"
    r"|\bGutenberg[- ]Projekt|\bProjekt\s+Gutenberg|gutenberg\.(?:org|net|aol)|Progetto\s+Manuzio|liber\s*liber"
    r"|\b(?:e-?text|etext|e-?book)\b.{0,80}\b(?:OCR|scans?|scanned|prepared|produced|transcribed)\b"
    r"|\bpage\s+(?:images|scans)\b|\bimage\s+files\b|Internet\s+Archive|HathiTrust|Google\s+Books"
    r"|\bscans?\s+(?:provided|courtesy)|\bTrade\s*Mark\s+\(TM\)|\bAnonymous\s+Volunteer",
    re.IGNORECASE | re.DOTALL)
TITLE_PREFIX_RE = re.compile(r"[ \t]*(The\s+Project\s+Gutenberg\s+E-?(?:text|book)\s+of\s+)\S", re.IGNORECASE)
"""1990s files title their text "The Project Gutenberg Etext of A PRINCESS OF MARS": the title stays."""
COPYRIGHT_RESEARCH_RE = re.compile(
    r"(?:copyright\s+(?:on|of|for)\s+this\s+(?:publication|book|work|text|story)\s+(?:was|has\s+been|had\s+been)"
    r"\s+renewed|copyright\s+renewal|rule\s+6\s+clearance|copyright\s+had\s+been\s+renewed)",
    re.IGNORECASE)

DIGITAL_RE = re.compile(
    r"\bUnicode\b|\bASCII\b|\bUTF-?8\b|\bLatin-1\b|ISO-8859|hexadecimal|\bLaTeX\b|\bHTML\b|\bOCR\b"
    r"|\be-?texts?\b|\betexts?\b|\be-?books?\b"
    r"|https?://|\bwww[.:]|@[\w-]+\.(?:com|org|net|edu|fr|de|it|nl)\b",
    re.IGNORECASE)
"""Words and addresses no public-domain author printed: a paragraph near either end that has them is the producer's."""
RULE_LINE_RE = re.compile(r"^[ \t]*(?:[-=_*~<>+#─━═—][ \t]*){8,}$", re.MULTILINE)

# -- transcriber's notes ---------------------------------------------------------------------------

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
    r"|\b(?:ha|han)\s+sido\s+(?:corregid|modernizad|respetad|mantenid|conservad|normalizad)|se\s+ha\s+(?:modernizad|corregid|respetad|mantenid)"
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
    r"|bold|cursiv\w*|kursiv|corsivo|gesperrt)\b|\^|\{|~)",
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
SPECIAL_CHARACTERS_RE = re.compile(
    r"[ \t]*(?:TABLE\s+OF\s+SPECIAL\s+CHARACTERS|TAVOLA\s+DEI\s+CARATTERI\s+SPECIALI"
    r"|TABLE\s+DES\s+CARACT[ÈE]RES\s+SP[ÉE]CIAUX|SONDERZEICHEN)[ \t]*$", re.IGNORECASE | re.MULTILINE)
CORRECTIONS_INTRO_RE = re.compile(
    r"the\s+following\s+(?:changes|corrections|typographical\s+errors|typos|misprints)\s+(?:have\s+been|were)"
    r"|(?:typographical|printer['’]?s)\s+errors\s+(?:have\s+been|were)\s+corrected|changed\s+to\s+the\s+latter"
    r"|LIST\s+OF\s+FIXED|^\s*PAGE\s+LINE\s+ORIGINAL",
    re.IGNORECASE | re.MULTILINE)
NOTES_HEADING_RE = re.compile(r"^[ \t]*([*#=~_-]*)[ \t]*(?:Notes|NOTES|Thinkos)[ \t]*:?[ \t]*$", re.MULTILINE)

# -- optional transforms ---------------------------------------------------------------------------

ILLUSTRATION_RE = re.compile(r"\[[ \t]*Illustrations?\b", re.IGNORECASE)
FOOTNOTE_RE = re.compile(r"\[[ \t]*Footnote\b", re.IGNORECASE)
UNDERSCORE_RE = re.compile(r"(?<![\w_])_(?=\S)((?:[^_\n]|\n(?![ \t]*\n))+?)(?<=\S)_(?![\w_])")
BLANK_LINE_RE = re.compile(r"\n[ \t]*\n")

BRACKET_REACH = 4000
"""How far a bracketed note may run past a blank line looking for its closing bracket."""
TOP_ZONE_PARAGRAPHS = 14
TOP_ZONE_LINES = 220
BOTTOM_ZONE_LINES = 400
SUSPICIOUS_SHARE = 0.4


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


@dataclass
class _Span:
    start: int
    end: int
    rule: str
    detail: str = ""


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
        found, position = [], self.lower.find(needle)
        while position != -1:
            found.append(position)
            position = self.lower.find(needle, position + 1)
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
    body_spans = _note_spans(text, lines, body_start, body_end)
    body_chars = len(text[body_start:body_end].strip())
    spans.extend(body_spans)
    if options.remove_illustrations:
        spans.extend(_bracket_blocks(text, lines, body_start, body_end, ILLUSTRATION_RE, "illustration"))
    if options.remove_footnotes:
        spans.extend(_bracket_blocks(text, lines, body_start, body_end, FOOTNOTE_RE, "footnote"))

    merged = _merge(spans)
    kept = []
    position = 0
    for span in merged:
        kept.append(text[position:span.start])
        position = span.end
        first = lines.number(span.start)
        last = lines.number(max(span.start, span.end - 1))
        result.cuts.append(Cut(span.rule, first, last, span.detail))
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


# -- header and footer -----------------------------------------------------------------------------

def _header_end(text: str, lines: _Lines, spans: list[_Span], result: CleanResult) -> int:
    start = _first_line_match(lines, START_RE, ("start",), 0, len(text))
    if start is not None:
        end = _marker_end(text, lines, start)
        spans.append(_Span(0, end, "header", "*** START marker"))
        return end
    start = _first_line_match(lines, SMALL_PRINT_END_RE, ("small print",), 0, len(text))
    if start is not None and not _is_trailing(text, lines.end_of(start)):
        end = lines.end_of(start)
        spans.append(_Span(0, end, "header", "1990s small print"))
        return end
    end = _field_block_end(text, lines)
    if end:
        spans.append(_Span(0, end, "header", "Title:/Author:/Credits: fields"))
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
            spans.append(_Span(start, len(text), "footer", _first_words(text[start:start + 80])))
            return start
        spans.append(_Span(start, next_body, "header", "between two etexts in one file: "
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


# -- notes and credits inside the body ---------------------------------------------------------------

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


NOTE_NEEDLES = ("transcri", "transkri", "trascri", "redactor", "produc", "gutenberg", "tn:")
ZONE_NOTE_NEEDLES = ("nagsalin", "liste des", "bearbeiter", "editor", "bewerker", "errat", "error", "correction",
                     "change", "typo", "inconsisten")
"""Headings of notes that open or close a book ("Paalala ng nagsalin", "Errata noted by transcriber"): only
the two zones are searched for them, so each costs nothing on the rest of the text."""
PRODUCER_NEEDLES = (
    "proofread", "pgdp", "gutenberg", "manuzio", "liberliber", "liber liber", "etext", "e-text", "ebook", "e-book", "page images",
    "page scans", "image files", "internet archive", "hathitrust", "google books", "scans", "unicode", "ascii",
    "utf", "latin-1", "iso-8859", "(tm)", "hexadecimal", "latex", "html", "ocr", "special characters", "caratteri",
    "caract", "sonderzeichen", "http", "www", "@")
"""A paragraph holding none of these cannot match the producer rules: they are not run on it."""
RESEARCH_NEEDLES = ("renew", "rule 6")
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
    return spans


CITATION_KEY_RE = re.compile(r"[ \t]*\[[\w.-]{1,20}\][ \t]+\w")
TOP_RUN_LINES = 900
TOP_RUN_PARAGRAPHS = 80
RUN_GAP = 2
"""Paragraphs of the producer's preamble are cut as a run: up to this many other paragraphs between two
of them go too (a sentence on the edition between two credits), and the run may outlast the top zone."""


def _producer_paragraph(text: str, p_start: int, p_end: int, zone_hits: list[int] | None, *,
                        in_bottom: bool) -> str | None:
    """Why a paragraph near either end is Gutenberg's or its producer's ("credit", "producer",
    "title-prefix", "special-characters"), or None when it is not."""
    lead = len(text[p_start:p_start + 200]) - len(text[p_start:p_start + 200].lstrip())
    if not in_bottom and SOURCE_HEADING_RE.match(text, p_start + lead):
        return "source"
    credit = CREDIT_START_RE.match(text, p_start + lead)
    marked = _any_between(zone_hits, p_start, p_end)
    if not credit and not marked:
        return None
    paragraph = text[p_start:p_end]
    if TITLE_PREFIX_RE.match(paragraph) and "\n" not in paragraph.strip():
        return "title-prefix"
    if in_bottom and SPECIAL_CHARACTERS_RE.match(paragraph):
        return "special-characters"
    producer = marked and (DIGITAL_RE.search(paragraph) or PRODUCTION_MARK_RE.search(paragraph))
    if in_bottom and CITATION_KEY_RE.match(paragraph):
        return None  # "[WEB] World English Bible ... http://www.ebible.org": an entry of the book's bibliography
    if in_bottom and not producer:
        return None  # near the end, a "Transcribed from..." may be the author's: only with a producer's mark
    return "credit" if credit else "producer" if producer else None


def _producer_preamble(text: str, lines: _Lines, start: int, end: int, top_end: int,
                       zone_hits: list[int] | None, found: list[_Span]) -> list[_Span]:
    """Credits and the producer's preamble at the top of the body, as a run.

    A paragraph between two of the producer's is the producer's too ("This file was never
    copyrighted..." between two paragraphs on the etext), unless it is set like a title page; the
    run may go past the top zone while it lasts (the Liber Liber and 1990s newsletter preambles).
    """
    spans: list[_Span] = []
    paragraphs = _paragraphs(text, start, top_end)
    last_cut = None
    beyond_zone = False
    rules = [not text[a:b].strip(SEPARATOR_CHARS + "\n|") for a, b in paragraphs]
    index = -1
    while index + 1 < min(len(paragraphs), TOP_RUN_PARAGRAPHS):
        index += 1
        p_start, p_end = paragraphs[index]
        # Rules between sections of a preamble do not count as paragraphs of the gap.
        running = last_cut is not None and index - last_cut - 1 - sum(rules[last_cut + 1:index]) <= RUN_GAP
        if (index >= TOP_ZONE_PARAGRAPHS or p_start >= top_end) and not running:
            break
        if running and index == len(paragraphs) - 1 and not beyond_zone:
            # the run outlasts the top zone (rare): only now is the rest of its reach read and searched
            run_end = lines.forward(top_end, TOP_RUN_LINES, end)
            paragraphs = paragraphs[:-1] + _paragraphs(text, p_start, run_end)
            rules = [not text[a:b].strip(SEPARATOR_CHARS + "\n|") for a, b in paragraphs]
            if zone_hits is not None:
                zone_hits = sorted(zone_hits + (lines.local_hits(PRODUCER_NEEDLES, top_end, run_end) or []))
            beyond_zone = True
            p_start, p_end = paragraphs[index]
        if _inside(found, p_start):  # a note found by the other rules: a paragraph of the run, already cut
            verdict = "note"
        else:
            verdict = _producer_paragraph(text, p_start, p_end, zone_hits, in_bottom=False)
        if verdict == "title-prefix":
            prefix = TITLE_PREFIX_RE.match(text, p_start)
            spans.append(_Span(prefix.start(1), prefix.end(1), "title-prefix", prefix.group(1)))
            continue
        if not verdict:
            continue
        if running and index - last_cut > 1 and all(
                _fills_gap(text, paragraphs, gap) for gap in range(last_cut + 1, index)):
            spans.append(_block(text, lines, paragraphs[last_cut + 1][0], p_start, end, "credits",
                                "between the producer's paragraphs: "
                                + _first_words(text[paragraphs[last_cut + 1][0]:p_start], 40)))
        if verdict == "source":
            source_index = index
            # "Source:" and the citation of the printed edition under it, up to a rule or the title
            while (index + 1 < len(paragraphs) and index + 1 <= source_index + 2
                   and not rules[index + 1] and not _is_display(text[paragraphs[index + 1][0]:paragraphs[index + 1][1]])):
                index += 1
            p_end = paragraphs[index][1]
        if verdict != "note":
            if text[p_start:p_end].lstrip().startswith("[") and not _is_balanced(text[p_start:p_end]):
                p_end = _bracket_span(text, lines, text.index("[", p_start), end, "credits").end
            spans.append(_block(text, lines, p_start, p_end, end, "credits", _first_words(text[p_start:p_end])))
        last_cut = index
    return spans


SOURCE_HEADING_RE = re.compile(r"(?:Source|Sources|Fuente|Quelle|Fonte|Bron|Lähde|Källa|Kilde)[ \t]*:[ \t]*\n")
"""A producer's "Source:" heading, alone on its line, over the citation of the printed edition the etext follows."""


def _is_balanced(paragraph: str) -> bool:
    return paragraph.count("[") <= paragraph.count("]")


NOTE_HEADING_RE = re.compile(
    r"[ \t]*(?:To\s+the\s+reader|Au\s+lecteur|Al\s+lector|Al\s+lettore|Ao\s+leitor|An\s+den\s+Leser|Aan\s+de\s+lezer"
    r"|Lukijalle|Notes?|Nota|Anmerkungen?|Hinweise?|Opmerking|Avvertenza|Advertencia|Avertissement)[ \t]*[.:]?[ \t]*\n?",
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
    "electrónica", "electrónico", "elettronica", "elettronico", "elektronisch", "digitale", "eletrônica", "impreso", "printed", "reader", "unicode",
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


def _is_display(paragraph: str) -> bool:
    """Set like a title page: capitals, or every line indented deep, or one short line without a full stop."""
    if len(paragraph) > 600:
        return False
    rows = [row for row in paragraph.strip("\n").splitlines() if row.strip()]
    return bool(rows) and (_looks_like_title(paragraph) or all(row[:8] == "        " for row in rows) or (
        len(rows) == 1 and len(rows[0].strip()) < 50 and not rows[0].rstrip().endswith((".", ":", ";"))))


def _fills_gap(text: str, paragraphs: list[tuple[int, int]], index: int) -> bool:
    """Whether a paragraph between two of the producer's reads as the producer's: prose, a rule, or a
    heading just under a rule; not a title page's lines."""
    p_start, p_end = paragraphs[index]
    paragraph = text[p_start:p_end]
    if not paragraph.strip(SEPARATOR_CHARS + "\n|"):
        return True
    rows = paragraph.strip("\n").splitlines()
    if _looks_like_title(paragraph) or all(row[:4] == "    " for row in rows) or (
            len(rows) == 1 and len(rows[0].strip()) < 50 and not rows[0].rstrip().endswith((".", ":", ";"))):
        # a heading of the preamble's sections, set just under a rule, and the heading's first lines
        return any(not text[a:b].strip(SEPARATOR_CHARS + "\n|") for a, b in paragraphs[max(0, index - 2):index])
    return True


BRACKET_CREDIT_RE = re.compile(
    r"\[(?![ \t]*(?:Illustration|Footnote|Frontispiece|Decoration|Sidenote))[^\]\[]{0,120}?"
    r"\b(?:scanned|proof-?read|typed\s+in|keyed\s+in|submitted|OCR['’]?e?d|e-?texted)\b[^\]\[]{0,80}?"
    r"(?:\bby\b|\bon\s+\d|@)", re.IGNORECASE)
"""A volunteer's credit in brackets: "[Chapters 1-6: mostly scanned by ..., submitted on 9/24/93.]"."""
BRACE_NOTE_RE = re.compile(
    r"missing|omitted|illegible|edition|edición|édition|Ausgabe|edizione|transcri|e-?text|commentary|\bsic\b|original"
    r"|printed|typo|scann|page\s+\d|omnibus|corrected|\bnote\b", re.IGNORECASE)
"""Words of a producer's comment in braces ("{several sentences are missing here in the omnibus edition}");
an author's or editor's braces ({1}, {Yemen (Aden)}, interpolations) have none of them."""
PART_MARKER_RE = re.compile(r"^[ \t]*[^\n:]{1,80}:[ \t]*Pt\.?[ \t]*\d+[ \t]*$", re.IGNORECASE | re.MULTILINE)
"""A producer's part marker on a line of its own: "Moby Dick:Pt2"."""
NOTICE_RE = re.compile(r"ELECTRONIC\s+VERSION|MACHINE\s+READABLE|PROJECT\s+GUTENBERG|COPYRIGHT", re.IGNORECASE)
"""A publisher's notice the etext repeats in double angle brackets (World Library's Shakespeare, between every play)."""
ASIDE_NEEDLES = ("scanned", "proofread")
ZONE_ASIDE_NEEDLES = ("proof-read", "typed in", "keyed in", "submitted", "ocr")
BRACE_REACH = 800
BRACE_RE = re.compile(r"\{")


def _producer_asides(text: str, lines: _Lines, start: int, end: int, top_end: int, bottom_from: int) -> list[_Span]:
    """What a producer put inside the text: credits in brackets, comments in braces, part markers."""
    spans: list[_Span] = []
    hits = lines.hits(ASIDE_NEEDLES, start, end)
    if lines.lower is not None:
        hits = sorted(set(hits).union(lines.local_hits(ZONE_ASIDE_NEEDLES, start, top_end),
                                      lines.local_hits(ZONE_ASIDE_NEEDLES, bottom_from, end)))
    for hit in hits:
        if _inside(spans, hit):
            continue
        bracket = text.rfind("[", max(start, hit - 160), hit + 1)
        match = BRACKET_CREDIT_RE.match(text, bracket) if bracket != -1 else None
        if match and match.end() > hit:
            spans.append(_bracket_span(text, lines, bracket, end, "credits"))
    for brace in BRACE_RE.finditer(text, start, end):
        hit = brace.start()
        close = text.find("}", hit, min(end, hit + BRACE_REACH))
        content = text[hit + 1:close] if close != -1 else ""
        if len(content.split()) < 3 or "{" in content or not BRACE_NOTE_RE.search(content):
            continue
        line_start, line_end = lines.start_of(hit), lines.end_of(close)
        if text[line_start:hit].strip() or text[close + 1:line_end].strip():
            spans.append(_Span(hit - 1 if hit > 0 and text[hit - 1] == " " else hit, close + 1, "producer-comment",
                               _first_words(content, 50)))
        else:
            spans.append(_block(text, lines, line_start, line_end, end, "producer-comment", _first_words(content, 50)))
    for hit in lines.hits(("<<",), start, end):
        close = text.find(">>", hit, min(end, hit + BRACE_REACH))
        if close != -1 and NOTICE_RE.search(text, hit, close) and not _inside(spans, hit):
            spans.append(_block(text, lines, lines.start_of(hit), lines.end_of(close), end, "credits",
                                _first_words(text[hit:close], 50)))
    for hit in lines.hits((":pt",), start, end):
        match = PART_MARKER_RE.match(text, lines.start_of(hit))
        if match and match.end() > hit:
            spans.append(_block(text, lines, match.start(), lines.end_of(hit), end, "part-marker",
                                match.group(0).strip()))
    return spans


ERRATA_HEADING_RE = re.compile(
    r"^[ \t]*(?:Errata|Erratum|Corrigenda|Fe\s+de\s+erratas|Errata\s+corrige|Druckfehler(?:verzeichnis)?"
    r"|Verbesserungen|Korrekturen|Corrections|Liste\s+des\s+corrections)[ \t]*[.:]?[ \t]*$", re.IGNORECASE | re.MULTILINE)
TRANSCRIBER_RE = re.compile(r"transcri|\be-?texts?\b|\betexts?\b|\bscann", re.IGNORECASE)
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
    for index, (p_start, p_end) in enumerate(paragraphs[1:6], start=1):
        paragraph = text[p_start:p_end]
        if index == 1 and first_is_heading_only:
            note_end = p_end  # a heading alone on its paragraph: the next paragraph is the note
            continue
        if len(paragraph) < 600 and TRANSCRIPTION_RE.search(paragraph) and not _looks_like_title(paragraph):
            note_end = p_end
        else:
            break
    return note_end


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


# -- files and the audit, for the CLI and the build -------------------------------------------------

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
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    return bool(head) and controls / len(head) > 0.05


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
        out.append(f"{cut.rule:<20} {span:<18} {cut.detail}")
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
