"""Byte-level BPE tokens (``data.tokenizer: bpe``), trained on the train split with the ``tokenizers`` library.

Every text round-trips exactly: the 256 bytes are in the vocabulary, so nothing is unknown, and ids
are decoded to their bytes here, then the bytes to UTF-8. Our own BPE keeps id 0 free for ``<unk>``
(never written; the other tokenizers have it too), so the library's ids are shifted by one. A
pretrained tokenizer (GPT-2's, from ``model.pretrained``) keeps its own ids: its model expects them.

The whole tokenizer (its JSON) goes into the checkpoint, as the char and word vocabularies do.
"""

from __future__ import annotations

import codecs
import hashlib
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from ..errors import ConfigError, install_hint

BYTES_AND_UNKNOWN = 257


def _tokenizers():
    try:
        import tokenizers
    except ImportError:
        raise ConfigError(f"data.tokenizer bpe needs the tokenizers library: {install_hint('bpe')}") from None
    return tokenizers


def _byte_of_symbol() -> dict[str, int]:
    """GPT-2's printable stand-in for each byte (what byte-level BPE vocabularies are written in), reversed."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    symbols, extra = {}, 0
    for byte in range(256):
        if byte in printable:
            symbols[chr(byte)] = byte
        else:
            symbols[chr(256 + extra)] = byte
            extra += 1
    return symbols


class BPETokenizer:
    """Byte-level BPE: ``encode`` text to ids, ``decode`` ids to text, with the char and word tokenizers' interface."""

    kind = "bpe"

    def __init__(self, tokenizer_json: str, offset: int = 1, source: str = "trained"):
        tokenizers = _tokenizers()
        self.tokenizer_json, self.offset, self.source = tokenizer_json, offset, source
        self._tokenizer = tokenizers.Tokenizer.from_str(tokenizer_json)
        byte_of = _byte_of_symbol()
        pieces = [b""] * (self._tokenizer.get_vocab_size(with_added_tokens=True) + offset)
        for symbol, index in self._tokenizer.get_vocab(with_added_tokens=True).items():
            if all(character in byte_of for character in symbol):
                pieces[index + offset] = bytes(byte_of[character] for character in symbol)
            else:  # a special token such as GPT-2's <|endoftext|>: written as itself
                pieces[index + offset] = symbol.encode("utf-8")
        if offset:
            pieces[0] = "\ufffd".encode()
        self._pieces = pieces

    @property
    def vocab_size(self) -> int:
        return len(self._pieces)

    @property
    def unknown_id(self) -> int | None:
        """The id generation never writes: ``<unk>`` for our BPE; none for a pretrained one (its 0 is a real token)."""
        return 0 if self.offset else None

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.tokenizer_json.encode("utf-8")).hexdigest()[:16]

    @classmethod
    def build(cls, texts: Iterable[str], max_vocab: int) -> BPETokenizer:
        """Learn ``max_vocab - 257`` merges from ``texts`` (the 256 bytes and ``<unk>`` come first)."""
        if max_vocab < BYTES_AND_UNKNOWN + 1:
            raise ConfigError(f"data.max_vocab {max_vocab} is too small for bpe: the 256 bytes and <unk> take "
                              f"{BYTES_AND_UNKNOWN}; use at least {BYTES_AND_UNKNOWN + 1} (such as 4096)")
        tokenizers = _tokenizers()
        tokenizer = tokenizers.Tokenizer(tokenizers.models.BPE())
        tokenizer.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
        tokenizer.decoder = tokenizers.decoders.ByteLevel()
        trainer = tokenizers.trainers.BpeTrainer(vocab_size=max_vocab - 1, show_progress=False,
                                                 initial_alphabet=tokenizers.pre_tokenizers.ByteLevel.alphabet())
        tokenizer.train_from_iterator(texts, trainer)
        return cls(tokenizer.to_str(), offset=1)

    @classmethod
    def from_pretrained(cls, folder: str | Path) -> BPETokenizer:
        """The tokenizer of a local Hugging Face folder (``tokenizer.json``, or ``vocab.json`` + ``merges.txt``)."""
        path = Path(folder).expanduser()
        tokenizers = _tokenizers()
        if (path / "tokenizer.json").is_file():
            def load():
                return tokenizers.Tokenizer.from_file(str(path / "tokenizer.json"))
        elif (path / "vocab.json").is_file() and (path / "merges.txt").is_file():
            def load():
                return tokenizers.ByteLevelBPETokenizer(str(path / "vocab.json"), str(path / "merges.txt"))
        else:
            raise ConfigError(f"model.pretrained {folder}: no tokenizer there (tokenizer.json, or vocab.json and "
                              f"merges.txt); save the model's tokenizer into the same folder")
        try:
            tokenizer = load()
        except Exception as exc:  # the library raises plain Exceptions for a malformed file
            raise ConfigError(f"model.pretrained {folder}: its tokenizer does not load "
                              f"({str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__})") from None
        return cls(tokenizer.to_str(), offset=0, source=str(path))

    def encode(self, text: str) -> np.ndarray:
        ids = np.asarray(self._tokenizer.encode(text, add_special_tokens=False).ids, dtype=np.int32)
        return ids + self.offset if self.offset else ids

    def decode(self, ids: Iterable[int]) -> str:
        pieces = self._pieces
        return b"".join(pieces[int(i)] for i in ids).decode("utf-8", errors="replace")

    def decode_next(self, token: int, previous: int | None) -> str:
        return self._pieces[token].decode("utf-8", errors="replace")

    def stream_decoder(self) -> Callable[[int, int | None], str]:
        """``decode_next`` for one stream of tokens: a character split across tokens comes out whole."""
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        pieces = self._pieces
        return lambda token, previous: decoder.decode(pieces[token])

    def to_dict(self) -> dict:
        return {"kind": self.kind, "tokenizer": self.tokenizer_json, "offset": self.offset, "source": self.source}

    @classmethod
    def from_dict(cls, state: dict) -> BPETokenizer:
        if not isinstance(state.get("tokenizer"), str) or state.get("offset") not in (0, 1):
            raise ValueError("not a BPE tokenizer of this trainer")
        return cls(state["tokenizer"], offset=state["offset"], source=str(state.get("source", "trained")))
