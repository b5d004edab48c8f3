"""Training throughput: Lightning fit against a plain PyTorch loop, data loading alone, achieved GFLOP/s.

    python bench/bench_train.py [--corpus corpora/science-fiction] [--steps 150] [--config configs/scifi-cpu.yaml]

Same model (sizes from the config), same batches (carried-state rows of the train split), same
optimizer (AdamW) and gradient clipping, run side by side in one process:

  - baseline: a plain loop — forward, cross-entropy, backward, clip, step, hidden state detached;
  - Lightning: ``Trainer.fit`` of the project's LightningModule and data module (no logger,
    no checkpoints, no validation), timed from the callback of each step;
  - data loading alone: iterating the batches without a model (target: 20x the model's speed);
  - GFLOP/s from the analytic LSTM FLOP count (3x forward for training) against the machine's
    measured float32 matmul GFLOP/s, at a large square size and at the LSTM's own gate shape.

The first 20 steps of each are warm-up and not counted. Prints characters (tokens) per second.

    python bench/bench_train.py --config configs/scifi.yaml --precisions 32-true,32-tf32,bf16-mixed,16-mixed

On a GPU (issue 10, point 9): Lightning fit under each precision, side by side, with tokens/s, the mean
training loss of the last 20 steps, and the dtype the LSTM computed in (seen by a forward hook on
``nn.LSTM``: does cuDNN's LSTM run in bf16 under ``bf16-mixed``?). ``32-true`` turns TF32 off,
``32-tf32`` on; the first row is the baseline.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import pytorch_lightning as pl  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from trainer.data.datamodule import CorpusDataModule  # noqa: E402
from trainer.training.module import LSTMLanguageModel  # noqa: E402

WARMUP = 20


def lstm_flops_per_token(vocab: int, embedding: int, hidden: int, layers: int, tied: bool) -> float:
    """Training FLOPs per token: 3x the forward multiply-adds (x2) of the gates, projection and head."""
    forward = 0.0
    width = embedding
    for _ in range(layers):
        forward += 2 * 4 * hidden * (width + hidden)
        width = hidden
    if tied and hidden != embedding:
        forward += 2 * hidden * embedding
        forward += 2 * embedding * vocab
    else:
        forward += 2 * (embedding if tied else hidden) * vocab
    return 3 * forward


def matmul_gflops(m: int, k: int, n: int, seconds: float = 1.0) -> float:
    a, b = torch.randn(m, k), torch.randn(k, n)
    for _ in range(3):
        a @ b
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        a @ b
        count += 1
    return 2 * m * k * n * count / (time.perf_counter() - started) / 1e9


def make_model(data: CorpusDataModule, sizes: dict) -> LSTMLanguageModel:
    torch.manual_seed(0)
    return LSTMLanguageModel(vocab_size=data.vocab_size, vocabulary=data.tokenizer_state, **sizes)


def plain_loop(data: CorpusDataModule, sizes: dict, steps: int, lr: float) -> float:
    model = make_model(data, sizes).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    batches = iter(data.train_dataloader())
    hidden, tokens, started = None, 0, None
    for step in range(steps):
        if step == WARMUP:
            tokens, started = 0, time.perf_counter()
        x, y, _ = next(batches)
        logits, hidden = model(x, hidden)
        hidden = (hidden[0].detach(), hidden[1].detach())
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        tokens += y.numel()
    return tokens / (time.perf_counter() - started)


class StepClock(pl.Callback):
    def __init__(self):
        self.started, self.tokens = None, 0

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if trainer.global_step == WARMUP:
            self.started, self.tokens = time.perf_counter(), 0
        elif self.started is not None:
            self.tokens += batch[1].numel()

    def on_train_end(self, trainer, pl_module):
        self.rate = self.tokens / (time.perf_counter() - self.started)


def lightning_fit(data: CorpusDataModule, sizes: dict, steps: int, lr: float) -> float:
    model = make_model(data, sizes)
    model.configure_optimizers = lambda: torch.optim.AdamW(model.parameters(), lr=lr)
    clock = StepClock()
    trainer = pl.Trainer(accelerator="cpu", devices=1, max_steps=steps, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, limit_val_batches=0,
                         gradient_clip_val=1.0, use_distributed_sampler=False, callbacks=[clock])
    trainer.fit(model, datamodule=data)
    return clock.rate


class LossClock(StepClock):
    def __init__(self):
        super().__init__()
        self.losses: list[torch.Tensor] = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)
        self.losses.append(outputs["loss"].detach())  # kept on the device: no sync per step


def precision_fit(data: CorpusDataModule, sizes: dict, steps: int, lr: float, precision: str) -> dict:
    tf32 = precision == "32-tf32"
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = tf32
    model = make_model(data, sizes)
    model.configure_optimizers = lambda: torch.optim.AdamW(model.parameters(), lr=lr)
    seen: list[torch.dtype] = []
    model.lstm.register_forward_hook(lambda module, inputs, output: seen.append(output[0].dtype) if not seen else None)
    clock = LossClock()
    trainer = pl.Trainer(accelerator="auto", devices=1, max_steps=steps, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, limit_val_batches=0,
                         precision="32-true" if tf32 else precision, gradient_clip_val=1.0,
                         use_distributed_sampler=False, callbacks=[clock])
    trainer.fit(model, datamodule=data)
    tail = torch.stack(clock.losses[-20:]).float().mean().item()
    return {"rate": clock.rate, "loss": tail, "lstm_dtype": str(seen[0]).replace("torch.", "") if seen else "?"}


def compare_precisions(data: CorpusDataModule, sizes: dict, steps: int, lr: float, precisions: list[str]) -> None:
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU (no GPU: mixed precision is slow)"
    print(f"model {sizes}, vocab {data.vocab_size}, {steps} steps ({WARMUP} warm-up), on {device}\n")
    print(f"{'precision':14} {'tokens/s':>12} {'vs first':>9} {'loss (last 20)':>15} {'LSTM output dtype':>18}")
    first = None
    for precision in precisions:
        result = precision_fit(data, sizes, steps, lr, precision)
        first = first or result["rate"]
        print(f"{precision:14} {result['rate']:12,.0f} {result['rate'] / first:8.2f}x {result['loss']:15.4f} "
              f"{result['lstm_dtype']:>18}")


def loading_alone(data: CorpusDataModule, steps: int) -> float:
    batches = iter(data.train_dataloader())
    for _ in range(WARMUP):
        next(batches)
    tokens, started = 0, time.perf_counter()
    for _ in range(steps * 5):
        tokens += next(batches)[1].numel()
    return tokens / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=REPO / "configs" / "scifi-cpu.yaml")
    parser.add_argument("--corpus", default=None, help="default: the config's data.corpus")
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--precisions", help="compare Lightning fit under these precisions (comma-separated) "
                                             "instead, e.g. 32-true,32-tf32,bf16-mixed,16-mixed")
    args = parser.parse_args()
    config = yaml.safe_load(args.config.read_text())
    data_args = {k: v for k, v in config["data"].items() if k in ("corpus", "tokenizer", "seq_len", "batch_size")}
    if args.corpus:
        data_args["corpus"] = args.corpus
    sizes = config["model"]
    lr = config.get("optimizer", {}).get("init_args", {}).get("lr", 0.002)
    data = CorpusDataModule(**data_args)
    threads = torch.get_num_threads()
    if args.precisions:
        compare_precisions(data, sizes, args.steps, lr, args.precisions.split(","))
        return

    baseline = plain_loop(data, sizes, args.steps, lr)
    lightning = lightning_fit(data, sizes, args.steps, lr)
    again = plain_loop(data, sizes, args.steps, lr)  # the machine drifts: baseline before and after
    loading = loading_alone(data, args.steps)
    flops = lstm_flops_per_token(data.vocab_size, sizes["embedding_size"], sizes["hidden_size"],
                                 sizes["num_layers"], sizes.get("tie_weights", True))
    rows = data_args["batch_size"]
    peak = matmul_gflops(1024, 1024, 1024)
    gate = matmul_gflops(rows, sizes["hidden_size"] * 2, sizes["hidden_size"] * 4)

    base = (baseline + again) / 2
    print(f"model {sizes}, vocab {data.vocab_size}, seq_len {data_args['seq_len']}, batch {rows}, "
          f"{threads} threads, {args.steps} steps ({WARMUP} warm-up)\n")
    print(f"{'':44} {'chars/s':>10} {'vs baseline':>12}")
    print(f"{'plain PyTorch loop (baseline, mean of 2)':44} {base:10,.0f} {1:11.2f}x")
    print(f"{'   first / second run':44} {baseline:10,.0f} / {again:,.0f}")
    print(f"{'Lightning fit':44} {lightning:10,.0f} {lightning / base:11.2f}x   (target >= 0.95x)")
    print(f"{'data loading alone':44} {loading:10,.0f} {loading / lightning:11.1f}x of the model (target >= 20x)")
    achieved = flops * lightning / 1e9
    print(f"\nanalytic training FLOPs per character: {flops / 1e6:.2f} M")
    print(f"achieved (Lightning): {achieved:.1f} GFLOP/s = {achieved / peak:.0%} of a 1024^3 matmul "
          f"({peak:.1f} GFLOP/s), {achieved / gate:.0%} of the gate-shaped matmul {rows}x{sizes['hidden_size'] * 2}"
          f" @ {sizes['hidden_size'] * 2}x{sizes['hidden_size'] * 4} ({gate:.1f} GFLOP/s)")


if __name__ == "__main__":
    main()
