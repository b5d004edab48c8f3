"""A published corpus, read through its ``manifest.json``, and its splits encoded once into token memmaps.

``data.corpus`` may name a version folder or a shelf folder (its ``current`` version is read).
Each split is encoded into a flat uint16 (or uint32, for vocabularies over 65,535) file in
``<version>/tokens/<key>/``, where the key covers the tokenizer settings; later runs, and the
other ranks of a DDP run, memory-map those files instead of encoding again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from .bpe import BPETokenizer
from .errors import CorpusError
from .tokenizer import CharTokenizer, WordTokenizer, tokenizer_from_dict

SPLITS = ("train", "val", "test")
TOKEN_CACHE_VERSION = 1


@dataclass
class Corpus:
    path: Path
    """The version folder."""
    manifest: dict

    @classmethod
    def open(cls, location: str | Path, *, option: str = "data.corpus") -> Corpus:
        path = Path(location).expanduser()
        if (path / "current" / "manifest.json").is_file():
            path = path / "current"
        manifest_path = path / "manifest.json"
        if not manifest_path.is_file():
            raise CorpusError(f"{option} {location}: no corpus there (no manifest.json); build one with "
                              f"`python -m pipeline build --shelf SHELF` and point {option} at corpora/SHELF")
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            splits = manifest["splits"]
            _ = manifest["separator"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CorpusError(f"{option} {location}: manifest.json is not a corpus manifest ({exc})") from None
        if not isinstance(splits, dict):
            raise CorpusError(f"{option} {location}: manifest.json has no splits")
        return cls(path.resolve(), manifest)

    def require(self, split: str, option: str = "data.corpus") -> None:
        info = self.manifest["splits"].get(split)
        if not info or not info.get("books"):
            raise CorpusError(f"{option} {self.path}: the corpus has no {split} split (0 books); rebuild it with "
                              f"more books or other --split ratios")
        if not (self.path / info["parquet"]["path"]).is_file():
            raise CorpusError(f"{option} {self.path}: {info['parquet']['path']} is missing; the corpus is incomplete")

    def texts(self, split: str):
        """The split's books, one string at a time, in the manifest's order."""
        parquet = pq.ParquetFile(self.path / self.manifest["splits"][split]["parquet"]["path"])
        for batch in parquet.iter_batches(columns=["text"], batch_size=16):
            yield from batch.column(0).to_pylist()

    @property
    def separator(self) -> str:
        return self.manifest["separator"]


@dataclass
class EncodedSplits:
    folder: Path
    tokenizer: CharTokenizer | WordTokenizer
    meta: dict

    def tokens(self, split: str) -> np.ndarray:
        info = self.meta["splits"][split]
        if info["tokens"] == 0:
            return np.zeros(0, dtype=self.meta["dtype"])
        return np.memmap(self.folder / f"{split}.bin", dtype=self.meta["dtype"], mode="r")

    def tokens_per_char(self, split: str) -> float:
        info = self.meta["splits"][split]
        return info["tokens"] / info["chars"] if info["chars"] else 1.0


def token_cache_key(corpus: Corpus, tokenizer: str, max_vocab: int, pretrained: BPETokenizer | None = None) -> str:
    settings = {"v": TOKEN_CACHE_VERSION, "tokenizer": tokenizer,
                "max_vocab": max_vocab if tokenizer == "word" else None,
                "corpus": corpus.manifest.get("content_key") or corpus.manifest.get("version")}
    if tokenizer == "bpe" or pretrained is not None:  # bpe, pretrained: added beside char and word
        settings["max_vocab"] = max_vocab if pretrained is None else None
        settings["pretrained"] = pretrained.fingerprint if pretrained is not None else None
        tokenizer = "pretrained" if pretrained is not None else tokenizer
    return f"{tokenizer}-" + hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]


def user_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "gutenberg-lstm" / "tokens"


def encode_corpus(corpus: Corpus, tokenizer: str = "char", max_vocab: int = 20000,
                  pretrained: str | None = None) -> EncodedSplits:
    """The encoded splits, from the cache beside the corpus when there, else encoded now and cached.

    A corpus that cannot be written to (a read-only mount) is cached under ~/.cache/gutenberg-lstm instead.
    ``pretrained`` names a Hugging Face folder whose tokenizer is used instead of ``tokenizer``.
    """
    loaded = BPETokenizer.from_pretrained(pretrained) if pretrained is not None else None
    key = token_cache_key(corpus, tokenizer, max_vocab, loaded)
    beside = corpus.path / "tokens" / key
    elsewhere = user_cache_dir() / f"{corpus.path.name}-{key}"
    for folder in (beside, elsewhere):
        if (folder / "meta.json").is_file():
            return _load(folder)
    try:
        beside.parent.mkdir(exist_ok=True)
        writable = os.access(beside.parent, os.W_OK)
    except OSError:
        writable = False
    folder = beside if writable else elsewhere
    try:
        return _encode(corpus, tokenizer, max_vocab, folder, loaded)
    except OSError as exc:
        raise CorpusError(f"cannot write the token cache {folder}: {exc.strerror or exc}; free some space or "
                          f"set XDG_CACHE_HOME to a writable folder") from None


def _load(folder: Path) -> EncodedSplits:
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    return EncodedSplits(folder, tokenizer_from_dict(meta["tokenizer"]), meta)


def _encode(corpus: Corpus, tokenizer: str, max_vocab: int, folder: Path,
            pretrained: BPETokenizer | None = None) -> EncodedSplits:
    if pretrained is not None:
        vocab = pretrained
    elif tokenizer == "bpe":
        vocab = BPETokenizer.build(corpus.texts("train"), max_vocab)
    elif tokenizer == "char":
        vocab = CharTokenizer.build(corpus.texts("train"))
    else:
        vocab = WordTokenizer.build(corpus.texts("train"), max_vocab)
    dtype = "uint16" if vocab.vocab_size <= 65535 else "uint32"
    temp = folder.with_name(f".tmp-{folder.name}-{os.getpid()}")
    shutil.rmtree(temp, ignore_errors=True)
    temp.mkdir(parents=True)
    separator = vocab.encode(corpus.separator).astype(dtype)
    splits = {}
    for split in SPLITS:
        tokens = chars = 0
        with open(temp / f"{split}.bin", "wb") as out:
            for n, text in enumerate(corpus.texts(split) if corpus.manifest["splits"].get(split, {}).get("books")
                                     else []):
                if n:
                    separator.tofile(out)
                    tokens += len(separator)
                    chars += len(corpus.separator)
                ids = vocab.encode(text).astype(dtype)
                ids.tofile(out)
                tokens += len(ids)
                chars += len(text)
            out.flush()
            os.fsync(out.fileno())
        splits[split] = {"tokens": tokens, "chars": chars}
    meta = {"dtype": dtype, "tokenizer": vocab.to_dict(), "splits": splits}
    (temp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    try:
        os.rename(temp, folder)
    except OSError:  # another rank or run got there first: theirs is as good
        shutil.rmtree(temp, ignore_errors=True)
        if not (folder / "meta.json").is_file():
            raise
    return _load(folder)
