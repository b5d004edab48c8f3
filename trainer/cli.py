"""``python -m trainer``: LightningCLI's ``fit``, ``validate``, ``test`` with YAML configs, and ``generate``.

The command line only parses and reports: the data module, the model and Lightning do the work.
"""

from __future__ import annotations

import argparse
import inspect
import os
import sys
import warnings
from pathlib import Path

import torch
from lightning_fabric.utilities.exceptions import MisconfigurationException
from pytorch_lightning.callbacks import ModelCheckpoint
from pytorch_lightning.cli import LightningArgumentParser, LightningCLI, LRSchedulerTypeTuple

from .architectures import ARCHITECTURES, architecture_from_argv, model_class
from .checkpoint import best_checkpoint
from .data import CorpusDataModule
from .errors import ConfigError, TrainerError
from .generate import SamplingConfig, load_model, sample

EXIT_CODES = """exit codes: 0 ok, 1 training failed (NaN loss: the last good checkpoint stays), 2 config, corpus or
checkpoint error (one line says which)"""


SUBCOMMANDS = ("fit", "validate", "test", "predict")


class OneLineErrors:
    """jsonargparse, but a mistake in the config or the command line is one line, not a usage dump."""

    def error(self, message: str, ex: Exception | None = None):  # type: ignore[override]
        first = " ".join(str(message).split())
        if "(see python -m trainer" not in first:
            command = self.prog.split()[-1]
            first += f" (see python -m trainer {command if command in SUBCOMMANDS else ''} --help)".replace("  ", " ")
        raise ConfigError(first[:600])


class TrainerArgumentParser(OneLineErrors, LightningArgumentParser):
    pass


class TrainerCLI(LightningCLI):
    def add_arguments_to_parser(self, parser) -> None:
        parser.link_arguments("data.vocab_size", "model.vocab_size", apply_on="instantiate")
        parser.link_arguments("data.tokenizer_state", "model.vocabulary", apply_on="instantiate")
        parser.add_lightning_class_args(ModelCheckpoint, "checkpoint")
        parser.set_defaults({"checkpoint.monitor": "val_loss", "checkpoint.mode": "min", "checkpoint.save_last": True,
                             "checkpoint.filename": "best-{step}", "checkpoint.dirpath": "runs/checkpoints",
                             "trainer.gradient_clip_val": 1.0, "trainer.use_distributed_sampler": False})
        self.add_architecture_arguments(parser)
        parser.add_optimizer_args((torch.optim.Optimizer,))
        parser.add_lr_scheduler_args(LRSchedulerTypeTuple)
        parser.set_defaults({"optimizer": {"class_path": "torch.optim.AdamW",
                                           "init_args": {"lr": 0.002, "weight_decay": 0.01}}})

    def add_architecture_arguments(self, parser) -> None:
        # read before the parser is built (architectures.py); declared here so configs and --help show it
        parser.add_argument("--architecture", choices=list(ARCHITECTURES), default="lstm",
                            help="the model: lstm (trainer/model.py) or gpt (trainer/gpt.py, a Transformer); "
                                 "give it before --help to see that model's options")
        if "pretrained" in inspect.signature(self.model_class.__init__).parameters:
            parser.link_arguments("model.pretrained", "data.pretrained")  # a pretrained model brings its tokenizer

    def _resolve_ckpt_path(self) -> None:
        """``last`` and ``best`` name files in ``checkpoint.dirpath``; a missing one is an error, not a fresh start."""
        config = self.config_init[self.subcommand]
        directory = Path(self.config[self.subcommand]["checkpoint"]["dirpath"])
        wanted = config.get("ckpt_path")
        if wanted == "best":
            config["ckpt_path"] = str(best_checkpoint(directory))
        elif wanted == "last":
            last = directory / "last.ckpt"
            if not last.is_file():
                raise ConfigError(f"--ckpt_path last: no {last} (checkpoint.dirpath); train first, or give a path")
            config["ckpt_path"] = str(last)
        elif wanted is not None and not Path(wanted).is_file():
            raise ConfigError(f"--ckpt_path {wanted}: no checkpoint at {wanted}")
        elif wanted is None and self.subcommand == "fit" and (directory / "last.ckpt").exists():
            raise ConfigError(f"{directory} already holds last.ckpt of an earlier run: resume it with --ckpt_path "
                              f"last, or start afresh in another --checkpoint.dirpath")

    def before_fit(self) -> None:
        self._resolve_ckpt_path()

    def before_validate(self) -> None:
        self._resolve_ckpt_path()

    def before_test(self) -> None:
        self._resolve_ckpt_path()


QUIET_WARNINGS = [
    # our batches come from an IterableDataset on purpose (no DistributedSampler); __len__ is exact
    r".*`IterableDataset` has `__len__` defined.*",
    # the model restores the data position, carried state and RNG itself (see model.py)
    r".*resuming from a checkpoint that ended before the epoch ended.*",
    r".*isinstance\(treespec, LeafSpec\)` is deprecated.*",
    # batches are slices of a memory map: worker processes would only add copies
    r".*does not have many workers which may be a bottleneck.*",
]


def run_lightning(argv: list[str] | None) -> int:
    for pattern in QUIET_WARNINGS:
        warnings.filterwarnings("ignore", message=pattern)
    model = model_class(architecture_from_argv(sys.argv[1:] if argv is None else argv))
    TrainerCLI(model, CorpusDataModule, args=argv, parser_class=TrainerArgumentParser,
               save_config_kwargs={"overwrite": True}, seed_everything_default=1234,
               trainer_defaults={"plugins": [{"class_path": "trainer.checkpoint.AtomicCheckpointIO"}]},
               parser_kwargs={"epilog": "other command: python -m trainer generate --help (write text with a "
                                        "checkpoint)\n\n" + EXIT_CODES})
    return 0


def make_generate_parser() -> argparse.ArgumentParser:
    parser = OneLineArgparse(
        prog="python -m trainer generate", description="Write text with a trained checkpoint, streamed to stdout.",
        epilog='example:\n  python -m trainer generate --ckpt runs/scifi/checkpoints/last.ckpt --prompt "It all began '
               'with" --length 500 --temperature 0.8 --top-k 40 --top-p 0.95 --seed 1\n\n' + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ckpt", type=Path, required=True, metavar="PATH", help="a checkpoint of `trainer fit`")
    parser.add_argument("--prompt", default="", help="text to start from")
    parser.add_argument("--length", type=int, default=500, metavar="N", help="tokens to write (default: 500)")
    parser.add_argument("--temperature", type=float, default=0.8, help="0 is greedy (default: 0.8)")
    parser.add_argument("--top-k", type=int, metavar="K", help="sample among the K most likely tokens")
    parser.add_argument("--top-p", type=float, metavar="P", help="sample among the most likely tokens up to mass P")
    parser.add_argument("--repetition-penalty", type=float, default=1.0, metavar="R",
                        help="above 1, recent tokens are less likely, against loops (default: 1, off)")
    parser.add_argument("--seed", type=int, help="same seed, same text")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu",
                        help="cpu or cuda (default: cuda when available)")
    return parser


class OneLineArgparse(argparse.ArgumentParser):
    def error(self, message: str):  # type: ignore[override]
        raise ConfigError(f"{message} (see {self.prog} --help)")


def run_generate(argv: list[str]) -> int:
    parser = make_generate_parser()
    args = parser.parse_args(argv)
    if args.length < 0:
        raise ConfigError(f"--length must be 0 or more, not {args.length}")
    try:
        device = torch.device(args.device)
    except (RuntimeError, ValueError):
        raise ConfigError(f"--device {args.device!r} is not a device; use cpu, cuda or cuda:N") from None
    if device.type == "cuda" and (not torch.cuda.is_available() or (device.index or 0) >= torch.cuda.device_count()):
        raise ConfigError(f"--device {args.device}: no such CUDA device here; use --device cpu")
    sys.stdout.reconfigure(errors="replace")  # a prompt from argv may hold undecodable bytes
    config = SamplingConfig(temperature=args.temperature, top_k=args.top_k, top_p=args.top_p,
                            repetition_penalty=args.repetition_penalty)
    config.validate()
    model, tokenizer = load_model(args.ckpt, args.device)
    sys.stdout.write(args.prompt)
    for piece in sample(model, tokenizer, args.prompt, args.length, config, args.seed):
        sys.stdout.write(piece)
        sys.stdout.flush()
    sys.stdout.write("\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    try:
        if given[:1] == ["generate"]:
            return run_generate(given[1:])
        return run_lightning(argv)  # None: LightningCLI reads sys.argv itself
    except TrainerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except MisconfigurationException as exc:  # Lightning's word for a trainer.* value it cannot honour
        print(f"error: {' '.join(str(exc).split())[:400]}", file=sys.stderr)
        return 2
    except RuntimeError as exc:
        if "Error(s) in loading state_dict" not in str(exc):
            raise
        print("error: the checkpoint does not fit the model of this config (its sizes or vocabulary differ); use the "
              "config it was trained with", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; resume with fit --ckpt_path last", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `generate | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
