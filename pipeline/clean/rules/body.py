"""Every rule that works inside the body, between the header's end and the footer's start, in order.

The body is read in two zones besides the whole: the top (its first lines, where credits,
preambles and notes on the edition stand) and the bottom (its last lines, but never its first
half, where corrections lists and closing notes stand). Each rule gets what was found before it,
so that it neither cuts twice nor mistakes a cut note for the author's text.
"""

from __future__ import annotations

from .closing import _closing_lists, _corrections_lists, _notes_at_end, _respellings
from .context import _added_contents, _english_blurb, _word_on_contents
from .credits import (
    PRODUCER_NEEDLES,
    TOP_ZONE_PARAGRAPHS,
    _closing_credits,
    _copyright_research,
    _producer_asides,
    _producer_preamble,
)
from .lines import BLANK_LINE_RE, _Lines, _paragraphs, _Span
from .notes import _boxed_notes, _bracketed_notes, _headed_notes, _note_hits, _unheaded_notes
from .signed import _signed_notes

TOP_ZONE_LINES = 220
BOTTOM_ZONE_LINES = 400
BOOK_NAMES_GUTENBERG = 3
"""Times the middle of the body must name Gutenberg for the book itself to be taken as naming it."""


def _body_spans(text: str, lines: _Lines, start: int, end: int) -> list[_Span]:
    """What the producer and transcribers added between ``start`` and ``end``, each span named by its rule."""
    spans: list[_Span] = []
    # Bottom zone: the last lines of the body, but never its first half (short stories are short).
    bottom_from = max(lines.back(max(start, end - 1), BOTTOM_ZONE_LINES, start), start + (end - start) // 2)
    boundary = BLANK_LINE_RE.search(text, max(start, bottom_from - 1), end)  # zones begin with a paragraph
    bottom_from = lines.skip_blank_lines(boundary.end() - 1, end) if boundary else end
    top_end = lines.forward(start, TOP_ZONE_LINES, end)
    top = _paragraphs(text, start, top_end)[:TOP_ZONE_PARAGRAPHS]
    bottom_all = _paragraphs(text, bottom_from, end)
    bottom = bottom_all[-40:]

    spans.extend(_producer_asides(text, lines, start, end, top_end, bottom_from))
    note_hits = _note_hits(lines, start, end, top_end, bottom_from)
    spans.extend(_bracketed_notes(text, lines, note_hits, start, end, spans))
    spans.extend(_headed_notes(text, lines, note_hits, start, end, bottom_from, spans))
    spans.extend(_boxed_notes(text, lines, start, end, spans))

    zone_hits = None
    if lines.lower is not None:
        zone_hits = sorted((lines.local_hits(PRODUCER_NEEDLES, start, top_end) or [])
                           + (lines.local_hits(PRODUCER_NEEDLES, bottom_from, end) or []))
    spans.extend(_unheaded_notes(text, lines, top, bottom, end, spans))
    # A book that names Project Gutenberg in its own pages (a collection quoting its editions) may name it near
    # either end too: there the name alone is no longer the producer's mark.
    book_names_gutenberg = len(lines.hits(("gutenberg",), top_end, bottom_from)) >= BOOK_NAMES_GUTENBERG
    spans.extend(_producer_preamble(text, lines, start, end, top_end, zone_hits, spans,
                                    book_names_gutenberg=book_names_gutenberg))
    spans.extend(_english_blurb(text, lines, end, top_end, spans))
    spans.extend(_signed_notes(text, lines, start, end, spans))
    spans.extend(_closing_credits(text, lines, bottom, end, zone_hits, spans,
                                  book_names_gutenberg=book_names_gutenberg))
    spans.extend(_copyright_research(text, lines, start, top_end, bottom_from, end, spans))
    spans.extend(_notes_at_end(text, lines, bottom_from, end, spans))
    spans.extend(_closing_lists(text, lines, bottom_from, end, bottom_all, spans))
    spans.extend(_corrections_lists(text, lines, start, bottom_from, end, spans))
    spans.extend(_added_contents(text, lines, bottom_from, end, spans))
    spans.extend(_respellings(text, lines, end, bottom_all, spans))
    spans.extend(_word_on_contents(text, lines, start, end, top_end, spans))
    return spans
