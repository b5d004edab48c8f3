"""What the etext's producer added around and inside the book: credits, preambles, asides.

Told by who wrote them and in what role: "Produced by" and its kin, paragraphs that speak of
etexts, HTML, scans or Gutenberg near either end (cut as a run at the top), volunteers' credits
in brackets, comments in braces, part markers, publishers' notices in ``<<...>>``.
"""

from __future__ import annotations

import re

from .lines import (
    SEPARATOR_CHARS,
    _any_between,
    _block,
    _bracket_span,
    _first_words,
    _inside,
    _is_balanced,
    _is_display,
    _Lines,
    _looks_like_title,
    _paragraph_around,
    _paragraphs,
    _Span,
)
from .vocabulary import _rest_is_notes

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
    r"Online\s+Distributed\s+Proofreading|Distributed\s+Proofreaders|\bpgdp\.net"
    # Gutenberg's name with who did what for it; the name alone is also a quotation's ("the Project Gutenberg
    # edition of the Republic"), and no rule cuts the author's text for naming it.
    r"|\bProject\s+Gutenberg\b.{0,80}?\b(?:volunteers?|prepared|produced|transcribed|proof-?read|thanks?|posted"
    r"|releases?d?|files?|e-?texts?|e-?books?)\b"
    r"|\b(?:volunteers?|prepared|produced|transcribed|proof-?read|thanks?|posted|donated|submitted)\b.{0,80}?"
    r"\bProject\s+Gutenberg\b"
    r"|\bGutenberg[- ]Projekt|\bProjekt\s+Gutenberg|gutenberg\.(?:org|net|aol)|Progetto\s+Manuzio|liber\s*liber"
    r"|\b(?:e-?text|etext|e-?book)\b.{0,80}\b(?:OCR|scans?|scanned|prepared|produced|transcribed)\b"
    r"|\bpage\s+(?:images|scans)\b|\bimage\s+files\b|Internet\s+Archive|HathiTrust|Google\s+Books"
    r"|\bscans?\s+(?:provided|courtesy)|\bTrade\s*Mark\s+\(TM\)|\bAnonymous\s+Volunteer",
    re.IGNORECASE | re.DOTALL)
GUTENBERG_NAME_RE = re.compile(r"\bProject\s+Gutenberg\b", re.IGNORECASE)
"""Gutenberg's name alone: the producer's mark near either end, unless the book itself quotes it (see body)."""
TITLE_PREFIX_RE = re.compile(r"[ \t]*(The\s+Project\s+Gutenberg\s+E-?(?:text|book)\s+of\s+)\S", re.IGNORECASE)
"""1990s files title their text "The Project Gutenberg Etext of A PRINCESS OF MARS": the title stays.

Most such lines stand in the header and go with it; this rule is for the files whose small print comes
first and the titled line after it (one of the 332 real files under ../shared, samples/old-formats/pmars10).
Kept, not merged, because only here is a part of a line Gutenberg's and the rest the author's."""
COPYRIGHT_RESEARCH_RE = re.compile(
    r"(?:copyright\s+(?:on|of|for)\s+this\s+(?:publication|book|work|text|story)\s+(?:was|has\s+been|had\s+been)"
    r"\s+renewed|copyright\s+renewal|rule\s+6\s+clearance|copyright\s+had\s+been\s+renewed)",
    re.IGNORECASE)
DIGITAL_RE = re.compile(
    r"\bUnicode\b|\bASCII\b|\bUTF-?8\b|\bLatin-1\b|ISO-8859|hexadecimal|\bLaTeX\b|\bHTML\b|\bOCR\b"
    r"|\be-?texts?\b|\betexts?\b|\be-?books?\b"
    r"|https?://|\bwww[.:]|\w@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,4}\b",
    re.IGNORECASE)
"""Words and addresses no public-domain author printed: a paragraph near either end that has them is the producer's."""
SPECIAL_CHARACTERS_RE = re.compile(
    r"[ \t]*(?:TABLE\s+OF\s+SPECIAL\s+CHARACTERS|TAVOLA\s+DEI\s+CARATTERI\s+SPECIALI"
    r"|TABLE\s+DES\s+CARACT[ÈE]RES\s+SP[ÉE]CIAUX|SONDERZEICHEN)[ \t]*$", re.IGNORECASE | re.MULTILINE)
TOP_ZONE_PARAGRAPHS = 14
PRODUCER_NEEDLES = (
    "proofread", "pgdp", "gutenberg", "manuzio", "liber", "etext", "e-text", "ebook", "e-book", "image", "archive",
    "hathitrust", "google books", "scans", "unicode", "ascii", "utf", "latin-1", "iso-8859", "(tm)", "hexadecimal",
    "latex", "html", "ocr", "special char", "caratteri", "caract", "sonderzeichen", "http", "www", "@")
"""A paragraph holding none of these cannot match the producer rules: they are not run on it."""
RESEARCH_NEEDLES = ("renew", "rule 6")
CITATION_KEY_RE = re.compile(r"[ \t]*\[[\w.-]{1,20}\][ \t]+\w")
TOP_RUN_LINES = 900
TOP_RUN_PARAGRAPHS = 80
RUN_GAP = 2
"""Paragraphs of the producer's preamble are cut as a run: up to this many other paragraphs between two
of them go too (a sentence on the edition between two credits), and the run may outlast the top zone."""


def _producer_paragraph(text: str, p_start: int, p_end: int, zone_hits: list[int] | None, *,
                        in_bottom: bool, book_names_gutenberg: bool = False) -> str | None:
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
    producer = marked and (DIGITAL_RE.search(paragraph) or PRODUCTION_MARK_RE.search(paragraph)
                           or (not book_names_gutenberg and GUTENBERG_NAME_RE.search(paragraph)))
    if in_bottom and CITATION_KEY_RE.match(paragraph):
        return None  # "[WEB] World English Bible ... http://www.ebible.org": an entry of the book's bibliography
    if in_bottom and not producer:
        return None  # near the end, a "Transcribed from..." may be the author's: only with a producer's mark
    if credit and not producer and _looks_like_title(paragraph):
        return None  # "TRANSCRIBED FROM THE SHORTHAND MANUSCRIPT ... BY THE REV. MYNORS BRIGHT": the print's title page
    return "credit" if credit else "producer" if producer else None


PREAMBLE_RULES = {"credit": "credits/produced-by", "producer": "credits/producer-paragraph",
                  "source": "credits/producer-paragraph"}


def _producer_preamble(text: str, lines: _Lines, start: int, end: int, top_end: int,
                       zone_hits: list[int] | None, found: list[_Span], *,
                       book_names_gutenberg: bool = False) -> list[_Span]:
    """Credits and the producer's preamble at the top of the body, as a run.

    A paragraph between two of the producer's is the producer's too ("This file was never
    copyrighted..." between two paragraphs on the etext), unless it is set like a title page; the
    run may go past the top zone while it lasts (the Liber Liber and 1990s newsletter preambles).
    """
    spans: list[_Span] = []
    paragraphs = _paragraphs(text, start, top_end)
    last_cut = None
    last_verdict = None
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
            verdict = _producer_paragraph(text, p_start, p_end, zone_hits, in_bottom=False,
                                          book_names_gutenberg=book_names_gutenberg)
        if verdict == "title-prefix":
            prefix = TITLE_PREFIX_RE.match(text, p_start)
            spans.append(_Span(prefix.start(1), prefix.end(1), "title-prefix", prefix.group(1)))
            continue
        if not verdict:
            continue
        if running and index - last_cut > 1 and (
                all(_fills_gap(text, paragraphs, gap) for gap in range(last_cut + 1, index))
                or (verdict != "note" and last_verdict != "note"
                    and _printed_elsewhere(text, paragraphs, last_cut, index))):
            spans.append(_block(text, lines, paragraphs[last_cut + 1][0], p_start, end,
                                "credits/between-producer-paragraphs",
                                "between the producer's paragraphs: "
                                + _first_words(text[paragraphs[last_cut + 1][0]:p_start], 40)))
        if verdict == "source":
            source_index = index
            # "Source:" and the citation of the printed edition under it, up to a rule or the title
            while (index + 1 < len(paragraphs) and index + 1 <= source_index + 2 and not rules[index + 1]
                   and not _is_display(text[paragraphs[index + 1][0]:paragraphs[index + 1][1]])):
                index += 1
            p_end = paragraphs[index][1]
        if verdict != "note":
            if text[p_start:p_end].lstrip().startswith("[") and not _is_balanced(text[p_start:p_end]):
                p_end = _bracket_span(text, lines, text.index("[", p_start), end, "credits").end
            else:
                p_end = _end_at_address(text, lines, p_start, p_end)
            spans.append(_block(text, lines, p_start, p_end, end, PREAMBLE_RULES[verdict],
                                _first_words(text[p_start:p_end])))
        last_cut = index
        last_verdict = verdict
    return spans


ADDRESS_LINE_RE = re.compile(r"^[ \t]*(?:(?:e-?mail|web|url|internet)[ \t]*:[ \t]*)?(?:https?://|www\.)\S+[ \t]*$"
                             r"|^[ \t]*(?:e-?mail[ \t]*:[ \t]*)?[\w.+-]+@[\w-]+(?:\.[\w-]+)+[ \t]*$",
                             re.IGNORECASE | re.MULTILINE)
"""A line holding only the producer's web or e-mail address, the usual last line of a preamble."""


def _end_at_address(text: str, lines: _Lines, p_start: int, p_end: int) -> int:
    """A producer's paragraph ends at its closing address when the book's own lines follow it with no
    blank line between (Liber Liber's "http://www.liberliber.it" run on into "Orlando furioso")."""
    address = None
    for address in ADDRESS_LINE_RE.finditer(text, p_start, p_end):
        pass
    if address is None:
        return p_end
    rest_start = lines.end_of(address.end())
    rest = text[rest_start:p_end]
    if not rest.strip() or DIGITAL_RE.search(rest) or PRODUCTION_MARK_RE.search(rest) or CREDIT_START_RE.search(rest):
        return p_end
    indent = address.group(0)[:len(address.group(0)) - len(address.group(0).lstrip())]
    rows = [row for row in rest.splitlines() if row.strip()]
    # set flush left under an indented address, in a few short lines like a title's
    if indent and len(rows) <= 4 and all(not row[:1].isspace() and len(row) < 60
                                         and not row.rstrip().endswith((".", ":", ";")) for row in rows):
        return rest_start
    return p_end


SOURCE_HEADING_RE = re.compile(r"(?:Source|Sources|Fuente|Quelle|Fonte|Bron|Lähde|Källa|Kilde)[ \t]*:[ \t]*\n")
"""A producer's "Source:" heading, alone on its line, over the citation of the printed edition the etext follows."""


REPEAT_REACH = 3000


def _printed_elsewhere(text: str, paragraphs: list[tuple[int, int]], before: int, after: int) -> bool:
    """Whether the title-page lines between two of the producer's paragraphs are the etext's banner: each
    line is named in those paragraphs (the series the producer presents) or printed again just below
    (the book's own title page follows), and there is one of each. Cutting it loses no line."""
    gap = text[paragraphs[before + 1][0]:paragraphs[after - 1][1]]
    rows = {" ".join(row.split()).casefold() for row in gap.splitlines() if row.strip()}
    if not rows or len(rows) > 6:
        return False
    producer = " ".join(text[paragraphs[before][0]:paragraphs[before][1]].split()).casefold() + " " + " ".join(
        text[paragraphs[after][0]:paragraphs[after][1]].split()).casefold()
    below_end = paragraphs[after][1] + REPEAT_REACH
    below = {" ".join(row.split()).casefold() for row in text[paragraphs[after][1]:below_end].splitlines()}
    repeated = rows & below
    named = {row for row in rows if row in producer}
    return bool(repeated) and bool(named) and all(row in below or row in named for row in rows)


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
    r"|printed|typo|scann|page\s+\d|omnibus|corrected|\bnote\b|altered|reworded|stripped|as\s+shown"
    r"|ELECTRONIC\s+VERSION|MACHINE\s+READABLE|PROJECT\s+GUTENBERG|COPYRIGHT", re.IGNORECASE)
"""Words of a producer's remark in braces, double brackets or double angle brackets ("{several sentences are
missing here in the omnibus edition}", World Library's "<<THIS ELECTRONIC VERSION ... IS COPYRIGHT ...>>");
an author's or editor's braces ({1}, {Yemen (Aden)}, interpolations) have none of them."""
PART_MARKER_RE = re.compile(r"^[ \t]*[^\n:]{1,80}:[ \t]*Pt\.?[ \t]*\d+[ \t]*$", re.IGNORECASE | re.MULTILINE)
"""A producer's part marker on a line of its own: "Moby Dick:Pt2".

The 1990s etexts of long books were posted in parts and later joined into one file; the marker names the
part where the join is. It fires wherever such a joined file comes (one of the 332 real files under
../shared, site pg5097); its shape, a title, a colon and "Pt" with a number alone on a line, is no
printed book's."""
ENCLOSURES = (("{", "}"), ("[[", "]]"), ("<<", ">>"))
"""Brackets no printed book sets prose in, which producers use for their remarks."""
ASIDE_NEEDLES = ("scanned", "proofread")
ZONE_ASIDE_NEEDLES = ("proof-read", "typed in", "keyed in", "submitted", "ocr")
BRACE_REACH = 800
COMMENT_REACH = 30_000
ELECTRONIC_RE = re.compile(r"\belectronic\s+(?:edition|version|text|thesaurus|book)|\bin\s+this\s+file\b",
                           re.IGNORECASE)
COMMENT_CLOSE_RE = re.compile(r"^[ \t]*-->", re.MULTILINE)
"""The end of a long comment stands at the start of its line (a short "<-- comment -->" closes inline)."""
LATER_COMMENT_REACH = 2_000
WORD_RE = re.compile(r"[^\W\d_]{2,}")
END_JUNK = " \t\n\x1a"
"""What may follow the last line of an old etext: blank lines and the DOS end-of-file mark (Ctrl-Z)."""


def _producer_asides(text: str, lines: _Lines, start: int, end: int, top_end: int, bottom_from: int) -> list[_Span]:
    """What a producer put inside the text: credits in brackets, comments in braces, part markers."""
    spans: list[_Span] = []
    opening = text.find("<--", start, top_end)
    close = COMMENT_CLOSE_RE.search(text, opening, min(end, opening + COMMENT_REACH)) if opening != -1 else None
    closing = close.start() if close else -1
    if closing != -1 and text.count("\n", opening, closing) >= 3 and (
            DIGITAL_RE.search(text, opening, closing) or PRODUCTION_MARK_RE.search(text, opening, closing)
            or ELECTRONIC_RE.search(text, opening, closing)):
        # The etext's own comment syntax ("comments which are not a proper part of the thesaurus itself are
        # contained within arrow brackets"): a long comment opening the book, on the etext, is its producer's.
        spans.append(_block(text, lines, lines.start_of(opening), lines.end_of(closing), end, "producer-comment/arrows",
                            _first_words(text[opening:opening + 60])))
        # A later comment in that syntax is the producer's too when it carries the producer's marks (a remark
        # signed with an e-mail address) or signs off on the last line ("<--  end of Roget's 1911 Thesaurus  -->");
        # the others hold the print's footnotes and page markers ("<--  p.  340  -->"), and stay.
        for later in lines.hits(("<--",), closing, end):
            shut = text.find("-->", later, min(end, later + LATER_COMMENT_REACH))
            if shut == -1 or _inside(spans, later) or len(WORD_RE.findall(text, later, shut)) < 3:
                continue
            block_end = lines.end_of(shut)
            last = not text[block_end:end].strip(END_JUNK)  # what follows is the DOS end-of-file mark at most
            if not last and not (DIGITAL_RE.search(text, later, shut) or PRODUCTION_MARK_RE.search(text, later, shut)):
                continue
            block_end = end if last else block_end
            spans.append(_block(text, lines, lines.start_of(later), block_end, end, "producer-comment/arrows",
                                _first_words(text[later:shut], 50)))
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
            spans.append(_bracket_span(text, lines, bracket, end, "credits/bracketed"))
    spans.extend(_enclosed_remarks(text, lines, start, end, spans))
    for hit in lines.hits((":pt",), start, end):
        match = PART_MARKER_RE.match(text, lines.start_of(hit))
        if match and match.end() > hit:
            spans.append(_block(text, lines, match.start(), lines.end_of(hit), end, "part-marker",
                                match.group(0).strip()))
    return spans


def _closing_credits(text: str, lines: _Lines, bottom: list[tuple[int, int]], end: int,
                     zone_hits: list[int] | None, found: list[_Span], *,
                     book_names_gutenberg: bool = False) -> list[_Span]:
    """The producer's paragraphs near the end; they run to the footer when nothing but notes follows them."""
    spans: list[_Span] = []
    for p_start, p_end in bottom:
        if _inside(found, p_start) or _inside(spans, p_start):
            continue
        verdict = _producer_paragraph(text, p_start, p_end, zone_hits, in_bottom=True,
                                      book_names_gutenberg=book_names_gutenberg)
        if verdict == "special-characters":
            spans.append(_block(text, lines, p_start, end, end, "credits/closing",
                                _first_words(text[p_start:p_end])))
        elif verdict == "title-prefix":
            prefix = TITLE_PREFIX_RE.match(text, p_start)
            spans.append(_Span(prefix.start(1), prefix.end(1), "title-prefix", prefix.group(1)))
        elif verdict:
            to_end = _rest_is_notes(text, lines, p_end, end)
            spans.append(_block(text, lines, p_start, end if to_end else p_end, end, "credits/closing",
                                _first_words(text[p_start:p_end])))
    return spans


def _copyright_research(text: str, lines: _Lines, start: int, top_end: int, bottom_from: int, end: int,
                        found: list[_Span]) -> list[_Span]:
    """A note that no renewal of the copyright was found: it opens or closes a book, so only the zones are read."""
    research_hits = (lines.local_hits(RESEARCH_NEEDLES, start, top_end) or []) + (
        lines.local_hits(RESEARCH_NEEDLES, bottom_from, end) or [])
    if lines.lower is None:
        research_hits = lines.hits(RESEARCH_NEEDLES, start, end)
    spans: list[_Span] = []
    for hit in research_hits:
        if _inside(found, hit) or _inside(spans, hit):
            continue
        match = COPYRIGHT_RESEARCH_RE.search(text, max(start, hit - 200), min(end, hit + 200))
        if match:
            p_start, p_end = _paragraph_around(text, lines, match.start(), start, end)
            spans.append(_block(text, lines, p_start, p_end, end, "copyright-research",
                                _first_words(text[p_start:p_end])))
    return spans


def _enclosed_remarks(text: str, lines: _Lines, start: int, end: int, found: list[_Span]) -> list[_Span]:
    """A producer's remark set in brackets of its own, braces, double brackets or double angle brackets, saying
    what was missing, altered, printed as shown or whose copyright the etext is: three words or more, one of
    them the producer's. An author's or editor's braces ({1}, {Yemen (Aden)}, interpolations) have none."""
    spans: list[_Span] = []
    for opening, closing in ENCLOSURES:
        for hit in lines.hits((opening,), start, end):
            close = text.find(closing, hit, min(end, hit + BRACE_REACH))
            content = text[hit + len(opening):close] if close != -1 else ""
            if (len(content.split()) < 3 or opening[0] in content or _inside(found, hit) or _inside(spans, hit)
                    or not BRACE_NOTE_RE.search(content)):
                continue
            close += len(closing)
            line_start, line_end = lines.start_of(hit), lines.end_of(close - 1)
            if text[line_start:hit].strip() or text[close:line_end].strip():
                spans.append(_Span(hit - 1 if hit > 0 and text[hit - 1] == " " else hit, close,
                                   "producer-comment/enclosed", _first_words(content, 50)))
            else:
                spans.append(_block(text, lines, line_start, line_end, end, "producer-comment/enclosed",
                                    _first_words(content, 50)))
    return spans
