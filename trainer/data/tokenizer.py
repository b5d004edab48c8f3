"""Character and word tokenizers: a vocabulary built from the train split, index 0 for unknown symbols.

Both turn text into numpy id arrays quickly and serialise to a plain dict (strings and ints only)
that goes into every checkpoint, so a checkpoint alone is enough to generate text.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

import numpy as np

from ..errors import CheckpointError

UNK = "<unk>"
WORD_PATTERN = re.compile(r"\w+|[^\w\s]|\n")
_NO_SPACE_BEFORE = set(".,;:!?)]}'\"\n")
_NO_SPACE_AFTER = set("([{\n")


class Vocabulary:
    """What both tokenizers share: symbols with ``<unk>`` at index 0, and their plain-dict form."""

    kind = ""

    def __init__(self, symbols: list[str]):
        if not symbols or symbols[0] != UNK:
            raise ValueError(f"a {self.kind} vocabulary starts with <unk>")
        self.symbols = list(symbols)

    @property
    def vocab_size(self) -> int:
        return len(self.symbols)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "symbols": self.symbols}


class CharTokenizer(Vocabulary):
    """One id per character seen in the train split; anything else is ``<unk>`` (id 0)."""

    kind = "char"

    def __init__(self, symbols: list[str]):
        super().__init__(symbols)
        self._table = np.zeros(0x110000, dtype=np.int32)
        for index, symbol in enumerate(self.symbols[1:], start=1):
            self._table[ord(symbol)] = index

    @classmethod
    def build(cls, texts: Iterable[str]) -> CharTokenizer:
        counts = np.zeros(0x110000, dtype=np.int64)
        for text in texts:
            codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
            counts += np.bincount(codes, minlength=0x110000)
        seen = np.nonzero(counts)[0]
        ordered = seen[np.lexsort((seen, -counts[seen]))]  # most frequent first, then by code point
        return cls([UNK] + [chr(int(code)) for code in ordered])

    def encode(self, text: str) -> np.ndarray:
        return self._table[np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)]

    def decode(self, ids: Iterable[int]) -> str:
        return "".join("\ufffd" if i == 0 else self.symbols[i] for i in ids)

    def decode_next(self, token: int, previous: int | None) -> str:
        return self.decode([token])


class WordTokenizer(Vocabulary):
    """Words, punctuation marks and line breaks; the ``max_vocab - 1`` most frequent, the rest ``<unk>``."""

    kind = "word"

    def __init__(self, symbols: list[str]):
        super().__init__(symbols)
        self._index = {symbol: i for i, symbol in enumerate(self.symbols)}

    @classmethod
    def build(cls, texts: Iterable[str], max_vocab: int) -> WordTokenizer:
        counts: Counter = Counter()
        for text in texts:
            counts.update(WORD_PATTERN.findall(text))
        ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: max_vocab - 1]
        return cls([UNK] + [word for word, _ in ordered])

    def encode(self, text: str) -> np.ndarray:
        index = self._index
        return np.fromiter((index.get(t, 0) for t in WORD_PATTERN.findall(text)), dtype=np.int32)

    def decode(self, ids: Iterable[int]) -> str:
        out, previous = [], None
        for token in ids:
            out.append(self.decode_next(token, previous))
            previous = token
        return "".join(out)

    def decode_next(self, token: int, previous: int | None) -> str:
        word = self.symbols[token] if token else "\ufffd"
        if previous is None:
            return word
        before = self.symbols[previous] if previous else ""
        if word[0] in _NO_SPACE_BEFORE or (before and before[-1] in _NO_SPACE_AFTER):
            return word
        return " " + word


def tokenizer_from_dict(state: dict) -> CharTokenizer | WordTokenizer:
    if isinstance(state, dict) and state.get("kind") == "bpe":  # byte-level BPE lives in bpe.py
        from .bpe import BPETokenizer
        return BPETokenizer.from_dict(state)
    kinds = {"char": CharTokenizer, "word": WordTokenizer}
    if not isinstance(state, dict) or state.get("kind") not in kinds or not isinstance(state.get("symbols"), list):
        raise ValueError("not a tokenizer of this trainer")
    return kinds[state["kind"]](state["symbols"])


def tokenizer_of(checkpoint: dict, path: str | object = "the checkpoint") -> CharTokenizer | WordTokenizer:
    """The tokenizer a checkpoint was trained with: the only one its weights understand."""
    try:
        return tokenizer_from_dict(checkpoint.get("vocabulary"))
    except ValueError:
        raise CheckpointError(f"{path} carries no vocabulary; it cannot encode text") from None
