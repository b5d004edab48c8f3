"""Which language a cleaned book is written in, at a constant cost per book.

langdetect reads at most 10,000 characters of what it is given and is unreliable on short
strings, so a book is judged by about ten ~2,000-character chunks spread across it. Each chunk
votes for its language with its length as weight; the RDF's language is only a prior that settles
chunks langdetect is unsure of. The verdict is the share of the wanted languages among the votes.

``--passage-filter`` goes further inside kept books: runs of long paragraphs in another language
(the French half of a bilingual edition) are cut out, and recorded.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

from langdetect.detector_factory import DetectorFactory, init_factory
from langdetect.lang_detect_exception import LangDetectException

from ..config import known_languages  # noqa: F401  (listed where the config is checked)

CHUNKS = 10
CHUNK_CHARS = 2000
SEED = 0
UNSURE = 0.9
"""Below this probability a chunk's top language may give way to the metadata's language."""
PRIOR_MIN = 0.2
"""The metadata's language must have at least this probability in a chunk to win it."""
PASSAGE_MIN_CHARS = 200
PASSAGE_MIN_RUN = 2
"""A lone foreign paragraph is a quotation; two or more in a row are a foreign passage."""
UNKNOWN = "unknown"

_factory: DetectorFactory | None = None
_factory_lock = threading.Lock()


def _detector_factory() -> DetectorFactory:
    global _factory
    with _factory_lock:
        if _factory is None:
            try:
                init_factory()
            except LangDetectException as exc:
                # langdetect's loader has a bare except: Ctrl-C while it reads its profiles arrives as this
                import langdetect.detector_factory as module

                module._factory = None  # half loaded: never use it
                if isinstance(exc.__context__, KeyboardInterrupt):
                    raise KeyboardInterrupt from None
                raise
            from langdetect.detector_factory import _factory as loaded

            loaded.set_seed(SEED)  # langdetect samples at random: a fixed seed makes every verdict repeatable
            _factory = loaded
        return _factory


def detect(text: str) -> list[tuple[str, float]]:
    """langdetect's candidates for ``text``, most probable first; empty when it holds no letters."""
    detector = _detector_factory().create()
    detector.append(text)
    try:
        return [(c.lang, c.prob) for c in detector.get_probabilities()]
    except LangDetectException:
        return []


def sample_chunks(text: str, count: int = CHUNKS, size: int = CHUNK_CHARS) -> list[str]:
    """About ``count`` chunks of about ``size`` characters, spread evenly, cut at spaces."""
    if len(text) <= size * count:
        # short book: read it all, in chunks that are still long enough for langdetect
        pieces = max(1, min(count, len(text) // size))
        step = -(-len(text) // pieces)
        starts = [i * step for i in range(pieces)]
        size = step
    else:
        gap = (len(text) - size) / (count - 1)
        starts = [round(i * gap) for i in range(count)]
    chunks = []
    for start in starts:
        end = min(len(text), start + size)
        if start > 0:
            space = text.find(" ", start, start + 100)
            start = space + 1 if space >= 0 else start
        if end < len(text):
            space = text.rfind(" ", end - 100, end)
            end = space if space > start else end
        chunk = text[start:end].strip()
        if chunk:
            chunks.append(chunk)
    return chunks


@dataclass
class ChunkVote:
    chars: int
    candidates: list[tuple[str, float]]


@dataclass
class LanguageVerdict:
    """What the chunks said. Stored in the analysis cache, so the vote can be recounted for any wanted language."""

    chunks: list[ChunkVote] = field(default_factory=list)

    def shares(self, prior: list[str] | None = None) -> dict[str, float]:
        """Each language's share of the votes, weighted by chunk length; unsure chunks go to the prior."""
        prior = prior or []
        weights: dict[str, float] = {}
        for chunk in self.chunks:
            lang = vote(chunk.candidates, prior)
            weights[lang] = weights.get(lang, 0.0) + chunk.chars
        total = sum(weights.values())
        if not total:
            return {}
        return dict(sorted(((lang, w / total) for lang, w in weights.items()), key=lambda kv: (-kv[1], kv[0])))

    def to_record(self) -> list:
        return [[c.chars, [[lang, round(p, 4)] for lang, p in c.candidates]] for c in self.chunks]

    @classmethod
    def from_record(cls, record: list) -> LanguageVerdict:
        return cls([ChunkVote(chars, [(lang, p) for lang, p in cands]) for chars, cands in record])


def vote(candidates: list[tuple[str, float]], prior: list[str]) -> str:
    if not candidates:
        return UNKNOWN
    top, probability = candidates[0]
    if probability < UNSURE and top not in prior:
        for lang, p in candidates[1:]:
            if lang in prior and p >= PRIOR_MIN:
                return lang
    return top


def analyse_language(text: str) -> LanguageVerdict:
    """Classify the book's sample chunks; the cost does not grow with the book."""
    return LanguageVerdict([ChunkVote(len(chunk), detect(chunk)) for chunk in sample_chunks(text)])


@dataclass(frozen=True)
class LanguageJudgement:
    detected: str
    """The language with the largest share (``unknown`` when no chunk held letters)."""
    detected_share: float
    wanted_share: float
    """The share of the votes that went to any of the wanted languages."""
    disagrees: bool
    """The metadata names languages and the detected one is not among them."""


def judge(verdict: LanguageVerdict, wanted: list[str], metadata_languages: list[str]) -> LanguageJudgement:
    shares = verdict.shares(metadata_languages)
    detected, detected_share = next(iter(shares.items()), (UNKNOWN, 0.0))
    wanted_share = sum(share for lang, share in shares.items() if lang in wanted)
    disagrees = bool(metadata_languages) and detected not in metadata_languages and detected != UNKNOWN
    return LanguageJudgement(detected, round(detected_share, 4), round(wanted_share, 4), disagrees)


# -- passages ---------------------------------------------------------------------------------------

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")


def paragraphs(text: str) -> list[tuple[int, int]]:
    """(start, end) of each paragraph, blank-line separated."""
    spans, start = [], 0
    for match in _PARAGRAPH_BREAK.finditer(text):
        if text[start:match.start()].strip():
            spans.append((start, match.start()))
        start = match.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


def detect_passages(text: str) -> list[tuple[int, int, str]]:
    """(start, end, language) of every paragraph long enough to classify on its own."""
    found = []
    for start, end in paragraphs(text):
        if end - start >= PASSAGE_MIN_CHARS:
            candidates = detect(text[start:end])
            found.append((start, end, candidates[0][0] if candidates else UNKNOWN))
    return found


def foreign_runs(passages: list[tuple[int, int, str]], wanted: list[str]) -> list[tuple[int, int, str]]:
    """Runs of two or more consecutive long paragraphs in other languages: (start, end, language).

    Short paragraphs between two foreign ones (dialogue, headings) go with the run.
    """
    runs, current = [], []
    for start, end, lang in passages:
        if lang not in wanted and lang != UNKNOWN:
            current.append((start, end, lang))
            continue
        if len(current) >= PASSAGE_MIN_RUN:
            runs.append(current)
        current = []
    if len(current) >= PASSAGE_MIN_RUN:
        runs.append(current)
    result = []
    for run in runs:
        langs = [lang for _, _, lang in run]
        result.append((run[0][0], run[-1][1], max(set(langs), key=langs.count)))
    return result


def remove_spans(text: str, spans: list[tuple[int, int, str]]) -> str:
    if not spans:
        return text
    pieces, position = [], 0
    for start, end, _ in spans:
        pieces.append(text[position:start].rstrip("\n"))
        position = end
    pieces.append(text[position:].lstrip("\n"))
    return "\n\n".join(piece for piece in pieces if piece)
