"""The corpus as batches for truncated BPTT, with the hidden state carried across batches.

Carried mode (char-rnn): the token stream is cut into ``world_size × batch_size`` rows of equal
length; rank r owns rows ``r·batch_size … (r+1)·batch_size − 1``; batch i is the next ``seq_len``
columns of those rows, so each row continues where it stopped and the model's hidden state can be
carried from batch to batch. Every rank gets the same number of batches. The batches come from an
IterableDataset, so Lightning never wraps them in a DistributedSampler (which would shuffle them).

Random mode: each batch is ``batch_size`` windows at random positions (seeded per epoch and rank),
for a stateless model.

Every batch carries its index in the epoch, so a resumed run knows where it is. Each DataLoader has
its own generator: creating its iterator would otherwise draw from the global RNG that dropout uses,
and a resumed run creates iterators at other moments than an uninterrupted one.
"""

from __future__ import annotations

import sys

import numpy as np
import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, IterableDataset

from ..checkpoint import corpus_record, load_checkpoint
from ..errors import ConfigError, CorpusError
from .bpe import BPETokenizer
from .corpus import Corpus, EncodedSplits, encode_corpus
from .tokenizer import tokenizer_of

MODES = ("carried", "random")


def tokenizer_description(tokenizer) -> str:
    """How a checkpoint's tokenizer is asked for: a ``data.tokenizer`` value, or a pretrained model's own."""
    if getattr(tokenizer, "offset", 1) == 0:  # a BPE with the pretrained model's ids (bpe.py)
        return "a pretrained model's tokenizer"
    return repr(tokenizer.kind)


class CarriedBatches(IterableDataset):
    def __init__(self, tokens: np.ndarray, *, batch_size: int, seq_len: int, rank: int = 0, world_size: int = 1):
        rows = batch_size * world_size
        self.row_length = (len(tokens) - 1) // rows if rows else 0
        self.batches = self.row_length // seq_len
        self.tokens, self.batch_size, self.seq_len = tokens, batch_size, seq_len
        self.rank, self.world_size = rank, world_size
        self.start = 0
        """The first batch of the next pass (set when resuming mid-epoch; back to 0 after)."""

    def __len__(self) -> int:
        return self.batches

    def rows(self) -> list[int]:
        return list(range(self.rank * self.batch_size, (self.rank + 1) * self.batch_size))

    def batch(self, index: int) -> tuple[torch.Tensor, torch.Tensor, int]:
        column = index * self.seq_len
        x = np.empty((self.batch_size, self.seq_len), dtype=np.int64)
        y = np.empty((self.batch_size, self.seq_len), dtype=np.int64)
        for i, row in enumerate(self.rows()):
            start = row * self.row_length + column
            window = self.tokens[start:start + self.seq_len + 1]
            x[i], y[i] = window[:-1], window[1:]
        return torch.from_numpy(x), torch.from_numpy(y), index

    def __iter__(self):
        start, self.start = self.start, 0
        for index in range(start, self.batches):
            yield self.batch(index)


class RandomWindows(IterableDataset):
    def __init__(self, tokens: np.ndarray, *, batch_size: int, seq_len: int, batches: int, seed: int,
                 rank: int = 0, world_size: int = 1):
        self.tokens, self.batch_size, self.seq_len, self.batches = tokens, batch_size, seq_len, batches
        self.seed, self.rank, self.world_size = seed, rank, world_size
        self.epoch = 0
        """Set by the model at each epoch start: the windows of an epoch do not depend on what ran before."""
        self.start = 0

    def __len__(self) -> int:
        return self.batches

    def __iter__(self):
        start, self.start = self.start, 0
        rng = np.random.default_rng([self.seed, self.epoch, self.rank])
        high = len(self.tokens) - self.seq_len - 1
        for index in range(self.batches):
            positions = rng.integers(0, high + 1, size=self.batch_size)
            if index < start:
                continue
            x = np.stack([self.tokens[p:p + self.seq_len] for p in positions]).astype(np.int64)
            y = np.stack([self.tokens[p + 1:p + self.seq_len + 1] for p in positions]).astype(np.int64)
            yield torch.from_numpy(x), torch.from_numpy(y), index


class CorpusDataModule(pl.LightningDataModule):
    def __init__(self, corpus: str | None = None, tokenizer: str = "char",
                 max_vocab: int = 20000, seq_len: int = 128, batch_size: int = 32, eval_batch_size: int | None = None,
                 mode: str = "carried", batches_per_epoch: int = 1000, seed: int = 1234, pretrained: str | None = None,
                 vocabulary_from: str | None = None):
        """A corpus built by ``python -m pipeline build``, as batches for truncated BPTT.

        Args:
            corpus: A corpus version folder, or a shelf folder whose ``current`` version is read (required).
            tokenizer: ``char`` (every character of the train split), ``word`` (top ``max_vocab`` words) or
                ``bpe`` (byte-level BPE learned from the train split).
            max_vocab: Vocabulary size of the word and bpe tokenizers, ``<unk>`` included (bpe: the 256 bytes
                too, so ``max_vocab - 257`` merges).
            seq_len: Tokens per row of a batch: the truncated-BPTT length.
            batch_size: Rows per batch on each device.
            eval_batch_size: Rows per validation and test batch; default ``batch_size`` (fewer if the split is short).
            mode: ``carried`` (hidden state carried across batches, char-rnn style) or ``random`` (random windows).
            batches_per_epoch: Batches per epoch in ``random`` mode.
            seed: Seed of the random windows.
            pretrained: A Hugging Face folder whose tokenizer encodes the corpus instead; linked from
                ``model.pretrained`` when a GPT-2 is fine-tuned.
            vocabulary_from: A checkpoint whose vocabulary encodes the corpus, instead of one built from its train
                split (or read from ``pretrained``). Set from ``--ckpt_path`` by every command given a checkpoint:
                its weights only understand the ids they were trained with, whatever the corpus became since.
        """
        super().__init__()
        if tokenizer not in ("char", "word", "bpe"):
            raise ConfigError(f"data.tokenizer {tokenizer!r}: use 'char', 'word' or 'bpe'")
        if mode not in MODES:
            raise ConfigError(f"data.mode {mode!r}: use 'carried' or 'random'")
        for name, value in (("seq_len", seq_len), ("batch_size", batch_size), ("batches_per_epoch", batches_per_epoch),
                            ("eval_batch_size", 1 if eval_batch_size is None else eval_batch_size)):
            if value < 1:
                raise ConfigError(f"data.{name} must be 1 or more, not {value}")
        if max_vocab < 2:
            raise ConfigError(f"data.max_vocab must be 2 or more (<unk> and one word), not {max_vocab}")
        if not corpus:
            raise ConfigError("data.corpus is not set: give a config (--config configs/debug.yaml...) or "
                              "--data.corpus corpora/SHELF")
        self.save_hyperparameters(ignore=["vocabulary_from"])
        self.corpus = Corpus.open(corpus)
        for split in ("train", "val"):
            self.corpus.require(split)
        fixed = None
        if vocabulary_from is not None:
            checkpoint = load_checkpoint(vocabulary_from)
            fixed = tokenizer_of(checkpoint, vocabulary_from)
            wanted = "a pretrained model's tokenizer" if pretrained is not None else repr(tokenizer)
            if tokenizer_description(fixed) != wanted:
                raise ConfigError(f"{'model.pretrained' if pretrained is not None else 'data.tokenizer'} asks for "
                                  f"{wanted} but {vocabulary_from} was trained with {tokenizer_description(fixed)}; "
                                  f"use the config the checkpoint was trained with")
            trained_on = corpus_record(checkpoint)
            del checkpoint
        elif pretrained is not None:
            fixed = BPETokenizer.from_pretrained(pretrained)
        self.encoded: EncodedSplits = encode_corpus(self.corpus, tokenizer, max_vocab, fixed)
        if vocabulary_from is not None:
            self._report_corpus_change(trained_on)
        self.train_batches: CarriedBatches | RandomWindows | None = None

    def _report_corpus_change(self, trained_on: dict) -> None:
        now = {"version": self.corpus.manifest.get("version"), "content_key": self.corpus.manifest.get("content_key")}
        if not trained_on or (trained_on.get("content_key"), trained_on.get("version")) == (now["content_key"],
                                                                                             now["version"]):
            return
        unknown = sum(info.get("unknown", 0) for info in self.encoded.meta["splits"].values())
        print(f"note: the checkpoint was trained on corpus version {trained_on.get('version')} (content key "
              f"{str(trained_on.get('content_key'))[:12]}), data.corpus is version {now['version']} (content key "
              f"{str(now['content_key'])[:12]}): encoding with the checkpoint's vocabulary ({unknown:,} tokens of "
              f"this corpus are not in it and read as <unk>)", file=sys.stderr)

    @property
    def vocab_size(self) -> int:
        return self.encoded.tokenizer.vocab_size

    @property
    def tokenizer_state(self) -> dict:
        return self.encoded.tokenizer.to_dict()

    def tokens_per_char(self, split: str) -> float:
        return self.encoded.tokens_per_char(split)

    def _placement(self) -> tuple[int, int]:
        trainer = self.trainer
        return (trainer.global_rank, trainer.world_size) if trainer is not None else (0, 1)

    def _carried(self, split: str, batch_size: int) -> CarriedBatches:
        rank, world = self._placement()
        tokens = self.encoded.tokens(split)
        needed = world * (self.hparams.seq_len + 1)
        if len(tokens) < needed:
            raise CorpusError(f"the {split} split has {len(tokens):,} tokens, too few for one batch of "
                              f"data.seq_len {self.hparams.seq_len} on {world} device(s); lower data.seq_len")
        batch_size = min(batch_size, (len(tokens) - 1) // (world * self.hparams.seq_len))
        return CarriedBatches(tokens, batch_size=batch_size, seq_len=self.hparams.seq_len, rank=rank,
                              world_size=world)

    def train_dataloader(self) -> DataLoader:
        rank, world = self._placement()
        tokens = self.encoded.tokens("train")
        if self.hparams.mode == "random":
            if len(tokens) <= self.hparams.seq_len + 1:
                raise CorpusError(f"the train split has {len(tokens):,} tokens; lower data.seq_len")
            self.train_batches = RandomWindows(tokens, batch_size=self.hparams.batch_size,
                                               seq_len=self.hparams.seq_len, batches=self.hparams.batches_per_epoch,
                                               seed=self.hparams.seed, rank=rank, world_size=world)
        else:
            self.train_batches = self._carried("train", self.hparams.batch_size)
            if self.train_batches.batch_size < self.hparams.batch_size:
                raise CorpusError(f"the train split is too short for data.batch_size {self.hparams.batch_size} × "
                                  f"data.seq_len {self.hparams.seq_len} on {world} device(s); lower either")
        return DataLoader(self.train_batches, batch_size=None, generator=torch.Generator())

    def _eval_loader(self, split: str) -> DataLoader:
        self.corpus.require(split)
        return DataLoader(self._carried(split, self.hparams.eval_batch_size or self.hparams.batch_size),
                          batch_size=None, generator=torch.Generator())

    def val_dataloader(self) -> DataLoader:
        return self._eval_loader("val")

    def test_dataloader(self) -> DataLoader:
        return self._eval_loader("test")
