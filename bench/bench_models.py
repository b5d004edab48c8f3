"""The LSTM against a Transformer of about the same size, on the same corpus, for the same wall time.

    python bench/bench_models.py [--minutes 10] [--standin ../shared/gutenberg] [--corpus DIR] [--tokenizer char]

Builds the stand-in's science-fiction corpus with the pipeline (from ../shared/gutenberg, served on
127.0.0.1; or reads --corpus), then trains, in one run:

  - the LSTM of ``configs/scifi-cpu.yaml`` (sizes, seq_len, batch, learning rate, dropout), carried state;
  - a Transformer (``trainer/gpt.py``) of 4 blocks, its width chosen so that its parameter count is
    the closest to the LSTM's, on random windows of the same length and batch, with the same dropout;

each for ``--minutes`` of its own steps, the two interleaved step by step so that both see the same
load on a shared machine. A step is what Lightning's fit does (bench_train.py shows it costs the same
as a plain loop): the model's own training step, backward, gradient clipping at 1.0, AdamW.
Prints for each: parameters, training steps, tokens/s (after 20 warm-up steps), test bits per character
(the same first ``--test-batches`` batches of the test split; the LSTM carries its state along each row,
the Transformer sees each window on its own, as each is trained), and a sample with the same prompt,
sampling settings and seed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from statistics import mean

import torch
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import pytorch_lightning as pl  # noqa: E402
from standin import DEFAULT as STANDIN  # noqa: E402
from standin import serve_standin  # noqa: E402

from trainer.data.datamodule import CorpusDataModule  # noqa: E402
from trainer.sharing.generate import SamplingConfig, generate  # noqa: E402
from trainer.training.module import (  # noqa: E402
    GPTLanguageModel,  # noqa: E402
    LSTMLanguageModel,  # noqa: E402
)

WARMUP = 20
PROMPT = "It all began with"


def parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())  # tied weights counted once


def matching_gpt(vocab_size: int, block_size: int, dropout: float, target: int) -> GPTLanguageModel:
    """4 blocks of the width (a multiple of 32, 4 heads) whose parameter count is closest to ``target``."""
    widths = range(32, 1025, 32)
    best = min(widths, key=lambda d: abs(12 * 4 * d * d + (vocab_size + block_size) * d - target))
    torch.manual_seed(0)
    return GPTLanguageModel(vocab_size=vocab_size, block_size=block_size, n_layer=4, n_head=4, n_embd=best,
                            dropout=dropout)


@dataclass
class Run:
    """One model's training: its own batches, optimizer, and the time spent in its own steps."""

    name: str
    description: str
    model: pl.LightningModule
    data: CorpusDataModule
    lr: float
    seconds: float = 0.0
    """Time spent in this model's steps: its budget."""
    timed_seconds: float = 0.0
    timed_tokens: int = 0
    """Tokens and seconds after the warm-up steps, for tokens/s."""
    steps: int = 0
    losses: list = field(default_factory=list)

    def __post_init__(self):
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=self.lr, weight_decay=0.01)
        self.batches = iter(self.data.train_dataloader())
        self.model.train()

    def step(self) -> None:
        """What Lightning's fit does for one batch: the model's own step, backward, clipping, AdamW."""
        started = time.perf_counter()
        try:
            batch = next(self.batches)
        except StopIteration:  # a new epoch of batches
            self.batches = iter(self.data.train_dataloader())
            batch = next(self.batches)
        loss_sum, tokens, _, _ = self.model._shared_step(batch, "train")
        loss = loss_sum / tokens
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()
        elapsed = time.perf_counter() - started
        self.steps += 1
        self.seconds += elapsed
        if self.steps > WARMUP:
            self.timed_seconds += elapsed
            self.timed_tokens += tokens
        self.losses.append(loss.item())

    @property
    def tokens_per_s(self) -> float:
        return self.timed_tokens / self.timed_seconds if self.timed_seconds else 0.0


def train_side_by_side(runs: list[Run], seconds: float) -> None:
    """One step of each in turn, until each has spent ``seconds`` in its own steps.

    Interleaved, not one after the other: the machine is shared, and its load drifts over minutes;
    this way both models see the same load.
    """
    started, reported = time.perf_counter(), 0.0
    while any(run.seconds < seconds for run in runs):
        for run in runs:
            if run.seconds < seconds:
                run.step()
        if time.perf_counter() - started - reported > 60:
            reported = time.perf_counter() - started
            print("  " + ", ".join(f"{run.name}: {run.steps:,} steps, loss {mean(run.losses[-20:]):.3f}"
                                   for run in runs), flush=True)


def test_bpc(model: pl.LightningModule, data: CorpusDataModule, batches: int) -> float:
    trainer = pl.Trainer(accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, limit_test_batches=batches)
    return trainer.test(model, datamodule=data, verbose=False)[0]["test_bpc"]


def build_corpus(standin: Path, out: Path) -> Path:
    from pipeline.build.run import Build
    from pipeline.config import BuildConfig

    with serve_standin(standin) as base_url:
        started = time.perf_counter()
        result = Build(BuildConfig(shelf="science-fiction", base_url=base_url, out=out, jobs=4), progress=False).run()
    print(f"built the stand-in's science-fiction corpus in {time.perf_counter() - started:.0f} s", flush=True)
    return result.corpus_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0, help="time in training steps of each model")
    parser.add_argument("--standin", type=Path, default=STANDIN)
    parser.add_argument("--corpus", type=Path, help="an existing corpus instead of building one from --standin")
    parser.add_argument("--config", type=Path, default=REPO / "configs" / "scifi-cpu.yaml", help="the LSTM's")
    parser.add_argument("--tokenizer", default="char", choices=("char", "word", "bpe"))
    parser.add_argument("--max-vocab", type=int, default=4096, help="word and bpe vocabulary size")
    parser.add_argument("--test-batches", type=int, default=100)
    parser.add_argument("--length", type=int, default=300, help="tokens in each sample")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (default 1: on a shared 2-core machine two threads a process thrash, "
                             "one step took 14 s instead of 1 s)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = yaml.safe_load(args.config.read_text())
    sizes, lr = config["model"], config["optimizer"]["init_args"]["lr"]
    seq_len, batch_size = config["data"]["seq_len"], config["data"]["batch_size"]

    with tempfile.TemporaryDirectory() as scratch:
        corpus = args.corpus or build_corpus(args.standin, Path(scratch) / "corpora")
        shared = dict(corpus=str(corpus), tokenizer=args.tokenizer, max_vocab=args.max_vocab, seq_len=seq_len,
                      batch_size=batch_size, eval_batch_size=batch_size)
        carried = CorpusDataModule(**shared, mode="carried")
        windows = CorpusDataModule(**shared, mode="random", batches_per_epoch=1000)
        vocab = carried.vocab_size
        torch.manual_seed(0)
        lstm = LSTMLanguageModel(vocab_size=vocab, vocabulary=carried.tokenizer_state, **sizes)
        gpt = matching_gpt(vocab, seq_len, sizes.get("dropout", 0.0), parameters(lstm))
        gpt.vocabulary = carried.tokenizer_state
        gpt_lr = 1e-3
        runs = [Run("LSTM", f"{sizes['num_layers']} x {sizes['hidden_size']} LSTM, {sizes['embedding_size']}-wide tied "
                            f"embedding, carried state, lr {lr}", lstm, carried, lr),
                Run("Transformer", f"{gpt.hparams.n_layer} blocks x {gpt.hparams.n_embd} wide, "
                                   f"{gpt.hparams.n_head} heads, {seq_len}-token context, random windows, lr {gpt_lr}",
                    gpt, windows, gpt_lr)]
        print(f"corpus {corpus}, {args.tokenizer} tokens (vocabulary {vocab}), seq_len {seq_len}, batch "
              f"{batch_size}, {args.minutes:g} minutes of steps each (interleaved), {torch.get_num_threads()} "
              f"threads, dropout {sizes.get('dropout', 0.0)}, load average {os.getloadavg()[0]:.1f}", flush=True)
        train_side_by_side(runs, args.minutes * 60)
        print(f"trained; load average over the last 15 minutes {os.getloadavg()[2]:.1f}", flush=True)
        results = []
        for run in runs:
            bpc = test_bpc(run.model, run.data, args.test_batches)
            run.model.eval()
            sample = generate(run.model, run.data.encoded.tokenizer, PROMPT, args.length,
                              SamplingConfig(temperature=0.8, top_k=40, top_p=0.95), seed=args.seed)
            results.append((run.name, run.description, parameters(run.model), run.steps, run.tokens_per_s, bpc,
                            sample))
        chars_per_token = 1 / carried.tokens_per_char("train")

    print(f"\n| model | parameters | steps in {args.minutes:g} min | tokens/s | characters/s | "
          "test bits per character |")
    print("|---|---|---|---|---|---|")
    for name, _, count, steps, rate, bpc, _ in results:
        print(f"| {name} | {count:,} | {steps:,} | {rate:,.0f} | {rate * chars_per_token:,.0f} | {bpc:.3f} |")
    print(f"\n(test: the first {args.test_batches} batches of {batch_size} x {seq_len} tokens of the test split)")
    for name, description, *_, sample in results:
        print(f"\n{name} ({description}); generate --prompt {PROMPT!r} --temperature 0.8 --top-k 40 --top-p 0.95 "
              f"--seed {args.seed}:\n")
        print("    " + (PROMPT + sample).replace("\n", "\n    "))


if __name__ == "__main__":
    main()
