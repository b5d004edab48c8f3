"""LightningCLI's ``fit``, ``validate`` and ``test`` with YAML configs: what ``cli.py`` loads to train.

Lightning takes seconds to import, so ``cli.py`` imports this module only for these three commands
(and ``--help-all``); ``--help``, ``--version`` and the extra commands answer without it. The
command line only parses and reports: the data module, the model and Lightning do the work.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import math
import os
import shlex
import signal
import sys
import threading
import warnings
from pathlib import Path

import torch
from jsonargparse import Namespace
from lightning_fabric.utilities.exceptions import MisconfigurationException
from pytorch_lightning.cli import LightningArgumentParser, LightningCLI, LRSchedulerTypeTuple

from .checkpoint import best_checkpoint, check_checkpoint_folder, load_checkpoint
from .commands import EXIT_CODES, LIGHTNING_COMMANDS, LIGHTNING_SUMMARIES, program_name
from .data.datamodule import CorpusDataModule
from .errors import ConfigError, Interrupted
from .models.architectures import ARCHITECTURES, architecture_from_argv, architecture_of_checkpoint
from .training.callbacks import RECEIVED, RunCheckpoint, StopOnSignal, remove_earlier_checkpoints, stop_signals
from .training.module import module_class

MIXED_PRECISIONS = {"bf16-mixed", "16-mixed", "bf16", "16", "bf16-true", "16-true", 16, "transformer-engine"}


class OneLineErrors:
    """jsonargparse, but a mistake in the config or the command line is one line, not a usage dump."""

    def error(self, message: str, ex: Exception | None = None):  # type: ignore[override]
        first = " ".join(str(message).split())
        if "--help)" not in first:
            words = self.prog.split()
            command = words[-1] if words[-1] in LIGHTNING_COMMANDS else ""
            first += f" (see {program_name()} {command} --help)".replace("  ", " ")
        raise ConfigError(first[:600])


class TrainerArgumentParser(OneLineErrors, LightningArgumentParser):
    pass


class TrainerCLI(LightningCLI):
    def __init__(self, *args, command_line: list[str] | None = None, **kwargs):
        self.command_line: list[str] = list(command_line or [])
        """The arguments as given, to print the exact resume command after an interrupt."""
        super().__init__(*args, **kwargs)

    @staticmethod
    def subcommands() -> dict[str, set[str]]:
        # predict is left out: the model has no predict_step, so it could only fail
        return {name: skip for name, skip in LightningCLI.subcommands().items() if name in LIGHTNING_COMMANDS}

    def _add_subcommands(self, parser, **kwargs) -> None:
        for name, summary in LIGHTNING_SUMMARIES.items():
            kwargs.setdefault(name, {}).setdefault("description", summary)
        # each command's --help-all opens with our summary; the list of commands is cli.py's own --help
        super()._add_subcommands(parser, **kwargs)

    def add_arguments_to_parser(self, parser) -> None:
        parser.link_arguments("data.vocab_size", "model.vocab_size", apply_on="instantiate")
        parser.link_arguments("data.tokenizer_state", "model.vocabulary", apply_on="instantiate")
        parser.add_lightning_class_args(RunCheckpoint, "checkpoint")
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

    # -- before any work: the whole config, and the checkpoint, are checked here --------------------------

    def _parse_ckpt_path(self) -> None:
        """Resolve ``--ckpt_path`` (``last``, ``best``, a file, or the default), verify the file, use its vocabulary.

        LightningCLI would ``torch.load`` the file here, unchecked; this loads it through ``load_checkpoint``
        (checksum, ours, readable), so a bad file is one line before any work.
        """
        subcommand = self.config.get("subcommand")
        if not subcommand or getattr(self, "_ckpt_path_checked", False):
            return
        self._ckpt_path_checked = True
        config = self.config[subcommand]
        self._validate(config)
        if subcommand == "fit" and "://" not in str(config["checkpoint"]["dirpath"]):
            check_checkpoint_folder(config["checkpoint"]["dirpath"])
        path = self._resolve_ckpt_path(subcommand, config)
        config["ckpt_path"] = str(path) if path is not None else None
        if path is None:
            return
        checkpoint = load_checkpoint(path)
        trained = architecture_of_checkpoint(checkpoint)
        if module_class(trained) is not self.model_class:
            raise ConfigError(f"{path} is a checkpoint of the {trained} architecture and the config trains another; "
                              f"use the config it was trained with (architecture: {trained}, or --architecture "
                              f"{trained})")
        hparams = dict(checkpoint.get("hyper_parameters") or {})
        hparams.pop("_instantiator", None)
        if hparams:  # the model's sizes are the checkpoint's, whatever the config says
            self.config = self.parser.parse_object({subcommand: {"model": hparams}}, self.config)
        self.config[subcommand]["data"]["vocabulary_from"] = str(path)

    def _resolve_ckpt_path(self, subcommand: str, config) -> Path | None:
        directory = Path(config["checkpoint"]["dirpath"])
        wanted = config.get("ckpt_path")
        last = directory / "last.ckpt"
        if wanted is None and subcommand in ("validate", "test"):
            best = best_checkpoint(directory) if last.is_file() else None
            if best is None:
                raise ConfigError(f"{subcommand} needs a trained checkpoint and {directory} has none (no last.ckpt): "
                                  f"train first, or give --ckpt_path PATH")
            print(f"note: no --ckpt_path given: {subcommand} uses the best checkpoint, {best}", file=sys.stderr)
            return best
        if wanted is None and subcommand == "fit" and last.exists():
            if int(os.environ.get("SLURM_RESTART_COUNT", "0") or 0) > 0:  # a requeued SLURM job: carry on
                print(f"note: SLURM requeue {os.environ['SLURM_RESTART_COUNT']}: resuming from {last}",
                      file=sys.stderr)
                return last
            if config["checkpoint"].get("fresh_start"):
                # only the first process removes: the other DDP processes start later and find nothing
                ranks = (os.environ.get("LOCAL_RANK", "0"), os.environ.get("NODE_RANK", "0"))
                if all(int(rank or 0) == 0 for rank in ranks):
                    removed = remove_earlier_checkpoints(directory)
                    print(f"note: checkpoint.fresh_start: removed the {len(removed)} checkpoints an earlier run left "
                          f"in {directory}", file=sys.stderr)
                return None
            raise ConfigError(f"{directory} already holds last.ckpt of an earlier run: resume it with --ckpt_path "
                              f"last, or start afresh in another --checkpoint.dirpath (or with "
                              f"--checkpoint.fresh_start true, which removes them)")
        if wanted == "best":
            return best_checkpoint(directory)
        if wanted == "last":
            if not last.is_file():
                raise ConfigError(f"--ckpt_path last: no {last} (checkpoint.dirpath); train first, or give a path")
            return last
        if wanted is not None and not Path(wanted).is_file():
            raise ConfigError(f"--ckpt_path {wanted}: no checkpoint at {wanted}")
        return Path(wanted) if wanted is not None else None

    def _validate(self, config) -> None:
        """What jsonargparse's types cannot say, checked before any corpus is read or any model built."""
        for group in ("data", "model", "trainer", "checkpoint"):
            if not isinstance(config.get(group), Namespace):
                raise ConfigError(f"{group} must be a mapping of keys ({group}.KEY: value), not "
                                  f"{config.get(group)!r:.80} (see {program_name()} fit --help)")
        if not config.get("data", {}).get("corpus"):
            raise ConfigError("no corpus: give a config (--config configs/debug.yaml, configs/scifi.yaml...) or "
                              f"--data.corpus corpora/SHELF (see {program_name()} fit --help)")
        self._check_optimizer(config.get("optimizer"))
        scheduler = config.get("lr_scheduler") or {}
        init = scheduler.get("init_args") if isinstance(scheduler, dict) or hasattr(scheduler, "get") else None
        if scheduler and str(scheduler.get("class_path", "")).endswith("WarmupCosine") and init is not None:
            if init.get("decay_steps") is None:
                max_steps = config["trainer"].get("max_steps") or -1
                if max_steps <= 0:
                    raise ConfigError("lr_scheduler WarmupCosine: set lr_scheduler.init_args.decay_steps, or "
                                      "trainer.max_steps for it to follow")
                init["decay_steps"] = max_steps
            warmup = init.get("warmup_steps") or 0
            if isinstance(warmup, int) and warmup > init["decay_steps"]:
                raise ConfigError(f"lr_scheduler WarmupCosine: need 0 <= warmup_steps ({warmup}) <= decay_steps "
                                  f"({init['decay_steps']}); lower lr_scheduler.init_args.warmup_steps")
        self._choose_precision(config["trainer"])
        self._check_devices(config["trainer"])

    @staticmethod
    def _check_optimizer(optimizer) -> None:
        """The optimizer's values, tried on a one-number parameter: torch's own checks (betas in [0, 1), a weight
        decay of at least 0...) and finite numbers, for any optimizer, before any corpus is read."""
        if not optimizer or not optimizer.get("class_path"):
            return
        init = optimizer.get("init_args") or {}
        init = init.as_dict() if isinstance(init, Namespace) else dict(init)
        lr = init.get("lr")
        if isinstance(lr, (int, float)) and not (math.isfinite(lr) and lr > 0):
            raise ConfigError(f"optimizer.init_args.lr must be a positive number, not {lr}")
        for key, value in init.items():
            numbers = value if isinstance(value, (list, tuple)) else [value]
            if any(isinstance(n, float) and not math.isfinite(n) for n in numbers):
                raise ConfigError(f"optimizer.init_args.{key} must be finite, not {value}")
        class_path = str(optimizer["class_path"])
        module, _, name = class_path.rpartition(".")
        try:
            optimizer_class = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            return  # jsonargparse has resolved it already; nothing to try here
        try:
            optimizer_class([torch.nn.Parameter(torch.zeros(1))], **init)
        except (TypeError, RuntimeError):
            return  # not a value out of range (a GPU-only option tried on a CPU tensor...): the fit will tell
        except ValueError as exc:  # torch's optimizers check their ranges with ValueError
            message = " ".join(str(exc).split())[:200]
            named = [key for key in init if key.rstrip("s") in message]  # "Invalid beta parameter" names betas
            option = f"optimizer.init_args.{max(named, key=len)}" if named else "optimizer.init_args"
            raise ConfigError(f"optimizer {name} refuses {option} ({message}); give it a value {name} accepts"
                              ) from None

    @staticmethod
    def _check_devices(trainer) -> None:
        """No more processes than the machine has devices: 99 CPU processes are killed for memory, silently."""
        accelerator, devices = str(trainer.get("accelerator") or "auto"), trainer.get("devices")
        if isinstance(devices, str) and devices.strip().isdigit():
            devices = int(devices)
        elif isinstance(devices, str) and "," in devices:
            devices = [part for part in devices.split(",") if part.strip()]
        count = len(devices) if isinstance(devices, (list, tuple)) else devices
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            return  # "auto", -1 (all of them), 0: Lightning's own words
        on_cpu = accelerator == "cpu" or (accelerator == "auto" and not torch.cuda.is_available())
        if on_cpu:
            cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
            limit = max(cores, 2)  # two processes even on one core: enough to try DDP
            if count > limit:
                raise ConfigError(f"trainer.devices {count}: this run is on the CPU, which has {cores} core"
                                  f"{'s' if cores != 1 else ''} here, so at most {limit} training processes; use "
                                  f"--trainer.devices 1 (or up to {limit})")
        elif accelerator in ("gpu", "cuda", "auto") and torch.cuda.is_available():
            gpus = torch.cuda.device_count()
            if count > gpus:
                raise ConfigError(f"trainer.devices {count}: this machine has {gpus} GPU{'s' if gpus != 1 else ''}; "
                                  f"use --trainer.devices {gpus} or fewer")

    @staticmethod
    def _choose_precision(trainer) -> None:
        precision, accelerator = trainer.get("precision"), str(trainer.get("accelerator") or "auto")
        if precision not in MIXED_PRECISIONS:
            return
        on_cpu = accelerator == "cpu" or (accelerator == "auto" and not torch.cuda.is_available())
        if on_cpu:
            print(f"warning: trainer.precision {precision} is for GPUs and this run is on the CPU (no GPU found): "
                  f"training in 32-true (fp32) instead, the fast one on a CPU; pass --trainer.precision 32-true to "
                  f"silence this", file=sys.stderr)
            trainer["precision"] = "32-true"

    def before_instantiate_classes(self) -> None:
        self._parse_ckpt_path()  # Lightning before 2.5 has no such step of its own: done here then

    def _instantiate_trainer(self, config, callbacks):
        self.stop_on_signal = StopOnSignal()
        return super()._instantiate_trainer(config, [*callbacks, self.stop_on_signal])

    def _report_checkpoints(self) -> None:
        """Where a finished fit left what the next commands need: ``last.ckpt`` and the best checkpoint."""
        checkpoint = next((c for c in self.trainer.callbacks if isinstance(c, RunCheckpoint)), None)
        if not self.trainer.is_global_zero or checkpoint is None or not checkpoint.dirpath:
            return
        directory = Path(checkpoint.dirpath)
        shown = os.path.relpath(directory)  # as the config wrote it, when it is below the working directory
        shown = directory if shown.startswith("..") else shown
        saved = [name for name in ("last.ckpt", "best.ckpt") if (directory / name).exists()]
        best = Path(checkpoint.best_model_path).name if checkpoint.best_model_path else None
        if best and "best.ckpt" in saved:
            saved[saved.index("best.ckpt")] = f"best.ckpt -> {best}"
        if saved:
            print(f"checkpoints: {shown} ({', '.join(saved)})", flush=True)

    @staticmethod
    def configure_optimizers(lightning_module, optimizer, lr_scheduler=None):
        # a scheduler that says so (trainer.training.schedule.WarmupCosine) is stepped after every optimizer step
        if lr_scheduler is not None and getattr(lr_scheduler, "interval", "epoch") == "step":
            return {"optimizer": optimizer, "lr_scheduler": {"scheduler": lr_scheduler, "interval": "step"}}
        return LightningCLI.configure_optimizers(lightning_module, optimizer, lr_scheduler)

    def after_fit(self) -> None:
        stop = self.stop_on_signal
        if stop.signal_name is None:
            self._report_checkpoints()
            return
        resume = f"{program_name()} {shlex.join([*_without_ckpt_path(self.command_line), '--ckpt_path', 'last'])}"
        if stop.saved is None:
            raise Interrupted(f"interrupted by {stop.signal_name} before a step was saved; any earlier last.ckpt "
                              f"stands")
        raise Interrupted(f"interrupted by {stop.signal_name} at step {stop.step}: saved {stop.saved}; resume "
                          f"exactly with: {resume}")


def _without_ckpt_path(argv: list[str]) -> list[str]:
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--ckpt_path":
            skip = True
        elif not arg.startswith("--ckpt_path="):
            out.append(arg)
    return out


QUIET_WARNINGS = [
    # our batches come from an IterableDataset on purpose (no DistributedSampler); __len__ is exact
    r".*`IterableDataset` has `__len__` defined.*",
    # the model restores the data position, carried state and RNG itself (see model.py)
    r".*resuming from a checkpoint that ended before the epoch ended.*",
    r".*isinstance\(treespec, LeafSpec\)` is deprecated.*",
    # batches are slices of a memory map: worker processes would only add copies
    r".*does not have many workers which may be a bottleneck.*",
]


def _interrupt(signum, frame):  # SIGTERM before training starts: as Ctrl-C (StopOnSignal takes over in fit)
    raise KeyboardInterrupt


def run_lightning(argv: list[str] | None, command_line: list[str]) -> int:
    for pattern in QUIET_WARNINGS:
        warnings.filterwarnings("ignore", message=pattern)
    RECEIVED.clear()
    main_thread = threading.current_thread() is threading.main_thread()
    previous = {signum: signal.getsignal(signum) for signum in stop_signals()} if main_thread else {}
    if main_thread:
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        model = module_class(architecture_from_argv(command_line))
        TrainerCLI(model, CorpusDataModule, args=argv, command_line=command_line,
                   parser_class=TrainerArgumentParser,
                   save_config_kwargs={"overwrite": True}, seed_everything_default=1234,
                   trainer_defaults={"plugins": [{"class_path": "trainer.checkpoint.AtomicCheckpointIO"}]},
                   parser_kwargs={"prog": program_name(), "formatter_class": argparse.RawDescriptionHelpFormatter,
                                  "description": "Train LSTM (or Transformer: --architecture gpt) language models on "
                                                 "corpora built by the pipeline.",
                                  "epilog": f"examples:\n  {program_name()} fit --config configs/debug.yaml\n"
                                            f"  {program_name()} fit --config configs/scifi.yaml --ckpt_path last\n"
                                            f"  {program_name()} test --config configs/scifi.yaml --ckpt_path best\n"
                                            f"  {program_name()} generate --ckpt runs/scifi/checkpoints/last.ckpt "
                                            f"--prompt \"It all began with\"\n\n{EXIT_CODES}"})
    finally:  # StopOnSignal's handlers (which Lightning's teardown puts back) end with the run
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0


def run(argv: list[str] | None, given: list[str]) -> int:
    """``fit``, ``validate`` or ``test``; Lightning's own mistakes become one line here (ours are TrainerErrors)."""
    try:
        return run_lightning(argv, given)  # None: LightningCLI reads sys.argv itself
    except MisconfigurationException as exc:  # Lightning's word for a trainer.* value it cannot honour
        print(f"error: {' '.join(str(exc).split())[:400]}", file=sys.stderr)
        return 2
    except ValueError as exc:
        if "val_check_interval" not in str(exc):
            raise
        print(f"error: trainer.val_check_interval is more batches than one epoch has: lower it, or set "
              f"trainer.check_val_every_n_epoch null to count it across epochs ({' '.join(str(exc).split())[:200]})",
              file=sys.stderr)
        return 2
    except RuntimeError as exc:
        if "Error(s) in loading state_dict" not in str(exc):
            raise
        print("error: the checkpoint does not fit the model of this config (its sizes or vocabulary differ); use the "
              "config it was trained with", file=sys.stderr)
        return 2
    except SystemExit as exc:
        if exc.code == 1 and RECEIVED:  # a second Ctrl-C: Lightning exits 1 on KeyboardInterrupt
            print(f"error: interrupted twice ({', '.join(RECEIVED)}): stopped at once, without saving; the last "
                  f"checkpoint written stands", file=sys.stderr)
            return 130
        raise
