"""A published corpus, read through its ``manifest.json``, and its splits encoded once into token memmaps.

``data.corpus`` may name a version folder or a shelf folder (its ``current`` version is read).
Each split is encoded into a flat uint16 (or uint32, for vocabularies over 65,535) file in
``<version>/tokens/<key>/``, where the key covers the tokenizer settings; later runs, and the
other ranks of a DDP run, memory-map those files instead of encoding again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import CorpusError
from .bpe import BPETokenizer
from .tokenizer import CharTokenizer, Vocabulary, WordTokenizer, tokenizer_from_dict

log = logging.getLogger(__name__)

Tokenizer = CharTokenizer | WordTokenizer | BPETokenizer
SPLITS = ("train", "val", "test")
TOKEN_CACHE_VERSION = 2
"""2: meta.json records each split file's bytes and sha256, checked whenever the cache is opened."""
CHECK_BLOCK = 1 << 24
REPAIR = ("build the corpus again (`python -m pipeline build` republishes a damaged current version from its cache) "
          "or see what is wrong with `python -m pipeline verify CORPUS`")


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
        except (OSError, ValueError) as exc:
            raise CorpusError(f"{option} {location}: manifest.json does not read as JSON ({exc}); {REPAIR}") from None
        problem = manifest_problem(manifest)
        if problem:
            raise CorpusError(f"{option} {location}: manifest.json is not a corpus manifest ({problem}); "
                              f"{REPAIR}")
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
        path = self.path / self.manifest["splits"][split]["parquet"]["path"]
        try:
            parquet = pq.ParquetFile(path)
            field = parquet.schema_arrow.field("text") if "text" in parquet.schema_arrow.names else None
            if field is None or not (pa.types.is_string(field.type) or pa.types.is_large_string(field.type)):
                raise ValueError("no text column of strings" if field is None else f"its text column is {field.type}")
            for batch in parquet.iter_batches(columns=["text"], batch_size=16):
                if batch.column(0).null_count:
                    raise ValueError("a book's text is null")
                yield from batch.column(0).to_pylist()
        except (OSError, ValueError, pa.ArrowException) as exc:  # ArrowInvalid is a ValueError, ArrowIOError an OSError
            first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
            raise CorpusError(f"data.corpus {self.path}: {path.name} is damaged ({first}); {REPAIR}") from None

    @property
    def separator(self) -> str:
        return self.manifest["separator"]

    @property
    def version(self) -> str:
        return str(self.manifest.get("version") or self.path.name)


def manifest_problem(manifest) -> str | None:
    """What is wrong with the parts of a manifest the trainer reads (their types), or None."""
    if not isinstance(manifest, dict):
        return f"it is {type(manifest).__name__}, not an object"
    if not isinstance(manifest.get("separator"), str):
        return f"separator is {manifest.get('separator')!r:.40}, not text"
    splits = manifest.get("splits")
    if not isinstance(splits, dict):
        return "no splits"
    for name, info in splits.items():
        if not isinstance(info, dict):
            return f"splits.{name} is {type(info).__name__}, not an object"
        books = info.get("books")
        if not isinstance(books, int) or isinstance(books, bool) or books < 0:
            return f"splits.{name}.books is {books!r:.40}, not a count"
        parquet = info.get("parquet")
        if books and not (isinstance(parquet, dict) and isinstance(parquet.get("path"), str)):
            return f"splits.{name}.parquet is {parquet!r:.40}, not an object with a path"
        if books and (Path(parquet["path"]).is_absolute() or ".." in Path(parquet["path"]).parts):
            return f"splits.{name}.parquet.path {parquet['path']!r:.80} is outside the version folder"
    for key in ("version", "content_key"):
        if manifest.get(key) is not None and not isinstance(manifest[key], str):
            return f"{key} is {manifest[key]!r:.40}, not text"
    return None


@dataclass
class EncodedSplits:
    folder: Path
    tokenizer: Tokenizer
    meta: dict

    def tokens(self, split: str) -> np.ndarray:
        info = self.meta["splits"][split]
        if info["tokens"] == 0:
            return np.zeros(0, dtype=self.meta["dtype"])
        return np.memmap(self.folder / f"{split}.bin", dtype=self.meta["dtype"], mode="r")

    def tokens_per_char(self, split: str) -> float:
        info = self.meta["splits"][split]
        return info["tokens"] / info["chars"] if info["chars"] else 1.0


def token_cache_key(corpus: Corpus, tokenizer: str, max_vocab: int, fixed: Tokenizer | None = None) -> str:
    settings = {"v": TOKEN_CACHE_VERSION, "tokenizer": tokenizer,
                "max_vocab": max_vocab if tokenizer in ("word", "bpe") and fixed is None else None,
                "corpus": corpus.manifest.get("content_key") or corpus.manifest.get("version")}
    if fixed is not None:  # a checkpoint's or a pretrained model's tokenizer: its ids, not the corpus's own
        settings["vocabulary"] = vocabulary_fingerprint(fixed)
    return f"{tokenizer}-" + hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]


def vocabulary_fingerprint(fixed: Tokenizer) -> str:
    if isinstance(fixed, Vocabulary):
        return hashlib.sha256(json.dumps(fixed.symbols).encode()).hexdigest()
    state = {key: value for key, value in fixed.to_dict().items() if key != "source"}  # not where it was read from
    return hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()


def user_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "gutenberg-lstm" / "tokens"


def encode_corpus(corpus: Corpus, tokenizer: str = "char", max_vocab: int = 20000,
                  fixed: Tokenizer | None = None) -> EncodedSplits:
    """The encoded splits, from the cache beside the corpus when there, else encoded now and cached.

    ``fixed`` (a checkpoint's tokenizer, or a pretrained model's) encodes every split instead of a vocabulary built
    from the train split: a run given a checkpoint must use the ids its weights were trained with.

    A corpus that cannot be written to (a read-only mount) is cached under ~/.cache/gutenberg-lstm instead.
    """
    if fixed is not None:
        tokenizer = fixed.kind
    key = token_cache_key(corpus, tokenizer, max_vocab, fixed)
    beside = corpus.path / "tokens" / key
    elsewhere = user_cache_dir() / f"{corpus.path.name}-{key}"
    for folder in (beside, elsewhere):
        if (folder / "meta.json").exists():
            try:
                return _load(folder)
            except CacheDamaged as exc:
                log.warning("the token cache %s is damaged (%s); encoding the corpus again", folder, exc)
                _discard(folder)
        elif folder.is_dir():
            log.warning("the token cache %s has no meta.json; encoding the corpus again", folder)
            _discard(folder)
    try:
        beside.parent.mkdir(exist_ok=True)
        writable = os.access(beside.parent, os.W_OK)
    except OSError:
        writable = False
    folder = beside if writable else elsewhere
    try:
        return _encode(corpus, tokenizer, max_vocab, folder, fixed)
    except OSError as exc:
        raise CorpusError(f"cannot write the token cache {folder}: {exc.strerror or exc}; free some space or "
                          f"set XDG_CACHE_HOME to a writable folder") from None


class CacheDamaged(Exception):
    """A token cache that does not verify: it is encoded again."""


def _load(folder: Path) -> EncodedSplits:
    """A token cache, verified: a meta.json that reads, and each split's file of the recorded length and
    sha256 holding only ids below the vocabulary's size (a file cut in half would train on half the data)."""
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        tokenizer = tokenizer_from_dict(meta["tokenizer"])
        itemsize = np.dtype({"uint16": "uint16", "uint32": "uint32"}[meta["dtype"]]).itemsize
        for split in SPLITS:
            info = meta["splits"][split]
            if not all(isinstance(info[key], int) and info[key] >= 0 for key in ("tokens", "chars", "bytes")):
                raise ValueError(f"{split}: sizes are not counts")
            if info["bytes"] != info["tokens"] * itemsize:
                raise ValueError(f"{split}: {info['bytes']} bytes do not hold {info['tokens']} tokens")
            _check_tokens(folder / f"{split}.bin", meta["dtype"], info, tokenizer.vocab_size)
    except CacheDamaged:
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CacheDamaged(f"{type(exc).__name__}: {exc}") from None
    return EncodedSplits(folder, tokenizer, meta)


def _check_tokens(path: Path, dtype: str, info: dict, vocab_size: int) -> None:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHECK_BLOCK), b""):
            digest.update(block)
            size += len(block)
            ids = np.frombuffer(block[:len(block) - len(block) % np.dtype(dtype).itemsize], dtype=dtype)
            if ids.size and int(ids.max()) >= vocab_size:
                raise CacheDamaged(f"{path.name} holds id {int(ids.max())}, over the vocabulary's {vocab_size}")
    if size != info["bytes"]:
        raise CacheDamaged(f"{path.name} is {size:,} bytes, meta.json says {info['bytes']:,}")
    if digest.hexdigest() != info["sha256"]:
        raise CacheDamaged(f"{path.name} does not match its sha256")


def _discard(folder: Path) -> None:
    """Move a damaged cache out of the way (renamed first: another rank may be reading it), then delete it."""
    aside = folder.with_name(f".tmp-damaged-{folder.name}-{os.getpid()}")
    try:
        os.rename(folder, aside)
    except OSError:
        return
    shutil.rmtree(aside, ignore_errors=True)


def _encode(corpus: Corpus, tokenizer: str, max_vocab: int, folder: Path, fixed: Tokenizer | None) -> EncodedSplits:
    if fixed is not None:
        vocab = fixed
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
    try:
        return _write_cache(corpus, vocab, dtype, temp, folder)
    except BaseException:  # a full disk, an interrupt: no .tmp-* is left behind
        shutil.rmtree(temp, ignore_errors=True)
        raise


def _write_cache(corpus: Corpus, vocab: Tokenizer, dtype: str, temp: Path, folder: Path) -> EncodedSplits:
    separator = vocab.encode(corpus.separator).astype(dtype)
    unknown_id = getattr(vocab, "unknown_id", 0)  # None for a pretrained BPE: every id of it is a real token
    splits = {}
    for split in SPLITS:
        tokens = chars = unknown = 0
        digest = hashlib.sha256()
        with open(temp / f"{split}.bin", "wb") as out:
            for n, text in enumerate(corpus.texts(split) if corpus.manifest["splits"].get(split, {}).get("books")
                                     else []):
                if n:
                    separator.tofile(out)
                    digest.update(separator.tobytes())
                    tokens += len(separator)
                    chars += len(corpus.separator)
                ids = vocab.encode(text).astype(dtype)
                ids.tofile(out)
                digest.update(ids.tobytes())
                unknown += int(np.count_nonzero(ids == unknown_id)) if unknown_id is not None else 0
                tokens += len(ids)
                chars += len(text)
            out.flush()
            os.fsync(out.fileno())
        splits[split] = {"tokens": tokens, "chars": chars, "unknown": unknown,
                         "bytes": tokens * np.dtype(dtype).itemsize, "sha256": digest.hexdigest()}
    meta = {"dtype": dtype, "tokenizer": vocab.to_dict(), "splits": splits}
    (temp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    try:
        os.rename(temp, folder)
    except OSError:  # another rank or run got there first: theirs is as good
        shutil.rmtree(temp, ignore_errors=True)
        if not (folder / "meta.json").is_file():
            raise
    return _load(folder)
