"""``python -m trainer export``: the checkpoint's model as ONNX or TorchScript, one LSTM step per call.

The exported graph takes ``tokens`` (int64, batch × time) and the carried state ``h``, ``c``
(float32, layers × batch × hidden) and returns ``logits`` (batch × time × vocabulary) and the new
``h``, ``c``: a prompt is read in one call, then every new token costs one call, in any runtime.
The vocabulary goes beside the model as JSON (``model.onnx`` → ``model.vocab.json``) with what a
runtime needs to start: the state's shape and the tokenizer's kind.

Like checkpoints, the files are written under a temporary name, checked against the checkpoint's
model, and only then renamed into place.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import uuid
import warnings
from pathlib import Path

import torch
from torch import nn

from ..errors import ConfigError, TrainerError, install_hint
from ..models.lstm import LSTMNetwork
from .generate import load_model
from .webassets import ORT_FILES, ORT_WEB_FIX, STATIC, find_ort_web

FORMATS = ("onnx", "torchscript")
VOCABULARY_FORMAT = 1


class ExportError(TrainerError):
    """The exporter failed, or the exported file does not give the checkpoint's numbers."""

    exit_code = 1


class StepModel(nn.Module):
    """The language model as a pure function of tokens and carried state (no dropout, no Lightning)."""

    def __init__(self, model: LSTMNetwork):
        super().__init__()
        self.embedding, self.lstm = model.embedding, model.lstm
        self.projection, self.head = model.projection, model.head
        self.eval()

    def forward(self, tokens: torch.Tensor, h: torch.Tensor, c: torch.Tensor):
        out, (h_new, c_new) = self.lstm(self.embedding(tokens), (h, c))
        if self.projection is not None:
            out = self.projection(out)
        return self.head(out), h_new, c_new


def vocabulary_path(model_file: Path) -> Path:
    """``model.onnx`` → ``model.vocab.json``: where the vocabulary of an exported model lives."""
    return model_file.with_name(model_file.stem + ".vocab.json")


def describe(model: LSTMNetwork, tokenizer, checkpoint: Path) -> dict:
    return {"format": VOCABULARY_FORMAT, "kind": tokenizer.kind, "symbols": tokenizer.symbols,
            "num_layers": model.lstm.num_layers, "hidden_size": model.lstm.hidden_size,
            "inputs": ["tokens", "h", "c"], "outputs": ["logits", "h", "c"], "checkpoint": Path(checkpoint).name}


def example_inputs(model: LSTMNetwork, batch: int = 1, steps: int = 3) -> tuple[torch.Tensor, ...]:
    state = torch.zeros(model.lstm.num_layers, batch, model.lstm.hidden_size)
    return torch.zeros(batch, steps, dtype=torch.long), state, state.clone()


def export_onnx(step: StepModel, inputs: tuple[torch.Tensor, ...], path: Path) -> None:
    try:
        import onnx  # noqa: F401  (the exporter needs it; a clear error beats its ImportError)
    except ImportError:
        raise ConfigError(f"--format onnx needs the onnx packages: {install_hint('export')}") from None
    # The TorchScript-based exporter writes nn.LSTM as ONNX's own LSTM operator, with batch and time
    # left free; torch.export (dynamo=True) unrolls the LSTM over a fixed number of steps instead.
    axes = {"tokens": {0: "batch", 1: "time"}, "logits": {0: "batch", 1: "time"}}
    axes.update({name: {1: "batch"} for name in ("h", "c", "h_out", "c_out")})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(step, inputs, str(path), dynamo=False, opset_version=17, input_names=["tokens", "h", "c"],
                          output_names=["logits", "h_out", "c_out"], dynamic_axes=axes)


def export_torchscript(step: StepModel, inputs: tuple[torch.Tensor, ...], path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scripted = torch.jit.trace(step, inputs, check_trace=False)
    scripted.save(str(path))


class Runner:
    """An exported file, run by its own runtime, behind one call: (tokens, h, c) → (logits, h, c)."""

    def __init__(self, path: Path, fmt: str):
        self.fmt = fmt
        if fmt == "onnx":
            import onnxruntime

            options = onnxruntime.SessionOptions()
            options.log_severity_level = 3
            self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        else:
            self.module = torch.jit.load(str(path), map_location="cpu")

    def __call__(self, tokens: torch.Tensor, h: torch.Tensor, c: torch.Tensor):
        if self.fmt == "onnx":
            outputs = self.session.run(None, {"tokens": tokens.numpy(), "h": h.numpy(), "c": c.numpy()})
            return tuple(torch.from_numpy(o) for o in outputs)
        with torch.no_grad():
            return self.module(tokens, h, c)


@torch.no_grad()
def largest_difference(model: LSTMNetwork, runner, steps: int = 50, batch: int = 2, seed: int = 0) -> float:
    """The largest absolute difference in logits and state between ``runner`` and ``model`` over
    a prompt of several tokens followed by ``steps`` single-token steps, state carried throughout."""
    step = StepModel(model)
    generator = torch.Generator().manual_seed(seed)
    vocab = model.head.out_features
    tokens = torch.randint(1, vocab, (batch, 7), generator=generator)
    _, h, c = example_inputs(model, batch)
    h_ref, c_ref, h_run, c_run = h, c, h.clone(), c.clone()
    worst = 0.0
    for index in range(steps + 1):
        if index:
            tokens = torch.randint(1, vocab, (batch, 1), generator=generator)
        logits_ref, h_ref, c_ref = step(tokens, h_ref, c_ref)
        logits_run, h_run, c_run = runner(tokens, h_run, c_run)
        for ours, theirs in ((logits_ref, logits_run), (h_ref, h_run), (c_ref, c_run)):
            if ours.shape != theirs.shape:
                raise ExportError(f"the exported model returns shape {tuple(theirs.shape)}, not {tuple(ours.shape)}")
            worst = max(worst, float((ours - theirs).abs().max()))
    return worst


def write_atomically(target: Path, write) -> None:
    """``write(path)`` to a temporary name beside ``target``, then rename into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.part")
    try:
        write(temp)
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)


def unsupported(model, tokenizer) -> str | None:
    """Why the model cannot be exported (None: it can). The exported graph is one step of an LSTM, and the
    vocabulary file and the page decode char or word symbols; a Transformer's cache and BPE are not written."""
    if not isinstance(model, LSTMNetwork):
        what = "pretrained GPT-2" if getattr(model, "pretrained", None) else "Transformer (architecture: gpt)"
        return (f"export writes LSTM checkpoints only (one step with carried h, c), and this one is a {what}; "
                f"use `python -m trainer serve` or `generate` for it")
    if tokenizer.kind not in ("char", "word"):
        return (f"export writes char or word vocabularies only, and this checkpoint uses {tokenizer.kind} tokens; "
                f"use `python -m trainer serve` or `generate` for it")
    return None


def export(checkpoint: Path, fmt: str, out: Path, tolerance: float = 1e-4) -> float:
    """Export the checkpoint's model to ``out`` (and its vocabulary beside it); return the largest
    difference from the checkpoint's model found by the check that precedes the rename."""
    if fmt not in FORMATS:
        raise ConfigError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}")
    model, tokenizer = load_model(checkpoint, "cpu")
    reason = unsupported(model, tokenizer)
    if reason is not None:
        raise ConfigError(f"{checkpoint}: {reason}")
    # batch 2, time 3: torch.export would fix a size of 1 into the graph
    step, inputs = StepModel(model), example_inputs(model, batch=2, steps=3)
    checked: list[float] = []

    def write_model(temp: Path) -> None:
        try:
            (export_onnx if fmt == "onnx" else export_torchscript)(step, inputs, temp)
        except (ConfigError, ExportError):
            raise
        except Exception as exc:  # the exporters raise many kinds; each is one line for the user
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise ExportError(f"the {fmt} exporter failed: {first[:300]}") from None
        difference = largest_difference(model, Runner(temp, fmt), steps=10)
        if difference > tolerance:
            raise ExportError(f"the exported {fmt} model differs from the checkpoint by {difference:.2e} "
                              f"(more than {tolerance:g}); nothing was written")
        checked.append(difference)

    write_atomically(out, write_model)
    vocabulary = json.dumps(describe(model, tokenizer, checkpoint), ensure_ascii=False)
    write_atomically(vocabulary_path(out), lambda temp: temp.write_text(vocabulary, encoding="utf-8"))
    return checked[0]


def copy_page(directory: Path) -> list[str]:
    """The generation page beside an exported model, so the folder works from any static file host.
    Returns what is still missing (the onnxruntime-web files, when no copy of them is found)."""
    shutil.copyfile(STATIC / "index.html", directory / "index.html")
    ort = find_ort_web()
    if ort is None:
        return ["ort/ (the dist/ folder of the onnxruntime-web npm package)"]
    target = directory / "ort"
    target.mkdir(exist_ok=True)
    for name in ORT_FILES:
        shutil.copyfile(ort / name, target / name)
    return []


def make_parser() -> argparse.ArgumentParser:
    from ..errors import OneLineArgparse
    from .generate import EXIT_CODES

    parser = OneLineArgparse(
        prog="python -m trainer export",
        description="Export a checkpoint's model, one LSTM step per call (tokens, h, c → logits, h, c), "
                    "with its vocabulary as JSON beside it.",
        epilog="examples:\n  python -m trainer export --ckpt runs/scifi/checkpoints/best.ckpt --format onnx -o "
               "site/model.onnx --page\n  python -m trainer export --ckpt runs/scifi/checkpoints/best.ckpt --format "
               "torchscript -o model.pt\n\n" + EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ckpt", type=Path, required=True, metavar="PATH", help="a checkpoint of `trainer fit`")
    parser.add_argument("--format", required=True, choices=FORMATS, help="onnx (onnxruntime, browsers) or "
                        "torchscript (torch.jit.load, C++)")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="FILE",
                        help="the model file; the vocabulary goes beside it as STEM.vocab.json")
    parser.add_argument("--page", action="store_true",
                        help="also copy the generation page (and onnxruntime-web when found) beside an ONNX model, "
                             "so the folder can be served by any static file host")
    return parser


def main(argv: list[str]) -> int:
    args = make_parser().parse_args(argv)
    if args.page and args.format != "onnx":
        raise ConfigError("--page needs --format onnx: the page runs the model with onnxruntime-web")
    if args.output.is_dir():
        raise ConfigError(f"-o {args.output} is a folder; give a file name such as {args.output / 'model.onnx'}")
    difference = export(args.ckpt, args.format, args.output)
    print(f"wrote {args.output} and {vocabulary_path(args.output)} (checked against the checkpoint: largest "
          f"difference {difference:.1e})", file=sys.stderr)
    if args.page:
        missing = copy_page(args.output.parent)
        print(f"wrote {args.output.parent / 'index.html'}" + (
            f"; still needed beside it: {missing[0]} — {ORT_WEB_FIX}, then run this export again (or copy that "
            f"dist/ folder to {args.output.parent / 'ort'})" if missing else
            f" and {args.output.parent / 'ort'}/; serve the folder with any static file server"), file=sys.stderr)
    return 0
