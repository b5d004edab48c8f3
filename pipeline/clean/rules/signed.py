"""Notes the etext's producer signed: told by the name the file itself credits.

A file names the person who produced it ("Produced by Svend Rom", "This etext was produced by
David Widger"). A note that ends with that person's initials or name is theirs, whatever it says
and wherever it stands: a footnote among the author's ("[Footnote 1112: Parish priests. (SR.)]"),
a remark inside a line ("[See Mark Twain's essay: 'What is Man.'  D.W.]"), a note above the title
("[NOTE: There is a short list of bookmarks ... D.W.]"), or the last paragraph of an introduction
the producer wrote ("...the 'Dowager Madame.'--JB"), which takes the producer's paragraphs above
it along, back to the credits or notes already cut. An author's or print editor's note signed
with other initials ("(Tr.)", "--ED.") stays.
"""

from __future__ import annotations

import functools
import re

from .lines import _block, _bracket_span, _first_words, _inside, _is_display, _Lines, _paragraphs, _Span

CREDITED_RE = re.compile(
    r"\b(?:produced|prepared|created|transcribed|scanned|proof-?read|typed\s+in|keyed\s+in|digiti[sz]ed)"
    r"(?:\s+and\s+\w+)?\s+by\s*:?[ \t]+(?P<names>[^\n<(\[{@]{3,160})", re.IGNORECASE)
NAME_WORD_RE = re.compile(r"[A-ZÀ-Þ][\w'’-]+")
PARTICLES = {"de", "van", "von", "der", "den", "la", "le", "du", "da", "di", "del", "y"}
NOT_A_PERSON = re.compile(
    r"proofread|team|project|gutenberg|library|archive|universit|society|volunteer|staff|online|distributed|books?\b"
    r"|press|foundation|institut|edition|text|html|version|page|images?", re.IGNORECASE)
CREDIT_REACH = 6_000
"""How far past the body's start a credit may stand and still name the producer (the preamble's length)."""
SIGNATURE_REACH = 2_000
"""How far back a signed note's opening bracket may be."""
SIGNATURE_LENGTH = 40
"""How many characters before a closing bracket a signature may take ("(SR.)", "Svend Rom.)")."""
TOP_SIGNED_LINES = 400


def credited_people(text: str, limit: int) -> tuple[tuple[str, ...], ...]:
    """The people the file credits with producing it, each as the words of their name."""
    people = []
    credits = []
    position = text.find(" by", 0, limit)
    while position != -1:  # every credit says "by": only the lines holding it are read with the pattern
        line_start, line_end = text.rfind("\n", 0, position) + 1, text.find("\n", position, limit)
        line_end = limit if line_end == -1 else line_end
        credits += CREDITED_RE.finditer(text, line_start, line_end)
        position = text.find(" by", line_end, limit)
    for credit in credits:
        for part in re.split(r",|;|\s+and\s+|\s+&\s+|\s+with\s+", credit.group("names")):
            words = []
            for word in part.split():
                if NAME_WORD_RE.fullmatch(word.strip(".,")):
                    words.append(word.strip(".,"))
                elif word.lower() in PARTICLES and words:
                    continue
                else:
                    break
            if 2 <= len(words) <= 4 and not NOT_A_PERSON.search(" ".join(words)):
                people.append(tuple(words))
    return tuple(dict.fromkeys(people))


@functools.lru_cache(maxsize=256)
def signature_re(people: tuple[tuple[str, ...], ...]) -> re.Pattern | None:
    """A signature of any of ``people``: their initials ("SR", "S.R.", "D. W.") or their full name."""
    forms = []
    for words in people:
        initials = [word[0] for word in words]
        forms.append(r"\.?[ \t]?".join(initials) + r"\.?")
        forms.append(r"\s+".join(re.escape(word) for word in words))
    if not forms:
        return None
    return re.compile(r"(?<![\w.])(?:" + "|".join(forms) + r")(?!\w)")


def _signed_notes(text: str, lines: _Lines, start: int, end: int, found: list[_Span]) -> list[_Span]:
    people = credited_people(text, min(len(text), start + CREDIT_REACH))
    signature = signature_re(people)
    if signature is None:
        return []
    spans: list[_Span] = []
    signed_close = _signed_close_re(signature.pattern)
    last_letters = {words[-1][-1] for words in people} | {words[-1][0] for words in people}
    close = text.find("]", start, end)
    while close != -1:  # a signed note ends at its closing bracket: only the few characters before each are read
        before = text[max(start, close - 4):close].rstrip(" \t.)\"”")
        match = before[-1:] in last_letters and signed_close.search(text, max(start, close - SIGNATURE_LENGTH), close)
        if match and not _inside(found, match.start()) and not _inside(spans, match.start()):
            opening = _opening_bracket(text, max(start, match.start() - SIGNATURE_REACH), match.start())
            if opening is not None:
                spans.append(_bracket_span(text, lines, opening, end, "transcriber-note/signed"))
        close = text.find("]", close + 1, end)
    spans.extend(_signed_introduction(text, lines, start, end, signature, found + spans))
    return spans


@functools.lru_cache(maxsize=256)
def _signed_close_re(signature: str) -> re.Pattern:
    return re.compile(rf"(?:{signature})[ \t.)\"”]*$")


def _opening_bracket(text: str, floor: int, position: int) -> int | None:
    """The ``[`` that the ``]`` after ``position`` closes, looking back no further than ``floor``."""
    depth = 0
    for index in range(position - 1, floor - 1, -1):
        char = text[index]
        if char == "]":
            depth += 1
        elif char == "[":
            if depth == 0:
                return index
            depth -= 1
    return None


def _signed_introduction(text: str, lines: _Lines, start: int, end: int, signature: re.Pattern,
                         found: list[_Span]) -> list[_Span]:
    """A paragraph near the top signed by the producer, with the producer's paragraphs between it and what
    was already cut above it: the producer's introduction, which no title page interrupts."""
    top_end = lines.forward(start, TOP_SIGNED_LINES, end)
    if all(_inside(found, match.start()) for match in signature.finditer(text, start, top_end)):
        return []  # the name stands only in the credits already cut: nothing near the top is signed
    above = [span for span in found if start <= span.start < top_end and span.family in ("credits", "transcriber-note")]
    if not above:
        return []
    signed_end = None
    signed = set()
    for p_start, p_end in _paragraphs(text, start, top_end):
        last_line = text[lines.start_of(p_end - 1 if text[p_end - 1] == "\n" else p_end):p_end].strip()
        first_line = text[p_start:lines.end_of(p_start)].strip()
        if _signs(signature, last_line, at_end=True) or _signs(signature, first_line, at_end=False):
            signed_end = (p_start, p_end)
            signed.add(p_start)
    if signed_end is None:
        return []
    cut_above = max((span.end for span in above if span.end <= signed_end[0]), default=None)
    if cut_above is None:
        return []
    between = _paragraphs(text, cut_above, signed_end[0])
    if any(_is_display(text[a:b]) and text[a:b].strip(" \t\n*_=-~#.") and a not in signed for a, b in between):
        return []  # a title page stands between: the signed note is not the introduction's end
    return [_block(text, lines, cut_above, signed_end[1], end, "transcriber-note/signed",
                   "signed by the producer: " + _first_words(text[signed_end[0]:signed_end[1]], 40))]


def _signs(signature: re.Pattern, line: str, *, at_end: bool) -> bool:
    """Whether a line ends with the producer's signature ("...Madame.”--JB"), or opens with their name and
    what follows a signature (an address, a date: "John Bursey Mordaunt@aol.com June, 2000")."""
    if not line:
        return False
    if at_end:
        match = None
        for match in signature.finditer(line):
            pass
        return bool(match) and not line[match.end():].strip(" \t.)]\"”") and (
            match.start() == 0 or line[match.start() - 1] in " \t-—–(\"”'’")
    match = signature.match(line)
    return bool(match) and len(match.group(0)) > 4 and ("@" in line or re.search(r"\b1[89]\d\d|20\d\d", line)
                                                          is not None)
