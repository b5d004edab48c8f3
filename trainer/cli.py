"""``python -m trainer``: the commands, answering ``--help`` and ``--version`` without loading Lightning.

Lightning takes some seconds to import (more on a busy machine), and only training needs it. So this
module parses just enough to choose: ``--help`` and each command's ``--help`` are printed from the
table in ``commands.py``; ``generate``, ``serve`` and ``export`` import what they need when they run;
``fit``, ``validate`` and ``test`` load LightningCLI (``lightning_cli.py``). ``fit --help-all`` prints
LightningCLI's own help, every option of Lightning's Trainer included.
"""

from __future__ import annotations

import importlib.metadata
import os
import sys
import textwrap

from .commands import DISTRIBUTION, EXIT_CODES, EXTRA_COMMANDS, LIGHTNING_COMMANDS, LIGHTNING_SUMMARIES, program_name
from .config_files import check_config_arguments
from .errors import ConfigError, TrainerError

HELP = ("-h", "--help")
HELP_ALL = "--help-all"

CONFIG_KEYS = {
    "data": ("corpus", "tokenizer", "max_vocab", "seq_len", "batch_size", "mode"),
    "model, lstm (the default)": ("embedding_size", "hidden_size", "num_layers", "dropout", "tie_weights"),
    "model, --architecture gpt": ("block_size", "n_layer", "n_head", "n_embd", "dropout", "bias", "pretrained"),
    "checkpoint": ("dirpath", "monitor", "save_last", "filename", "fresh_start"),
    "trainer": ("max_steps", "max_time", "accelerator", "devices", "strategy", "precision", "val_check_interval",
                "limit_val_batches", "gradient_clip_val", "logger", "callbacks"),
}
"""The config keys ``fit --help`` names, by section; every one is an option of LightningCLI's parser (tested)."""

COMMAND_OPTIONS = """\
options (every key of a config is an option too: --data.seq_len 128, --trainer.max_steps 100):
  -c, --config CONFIG   a YAML config (configs/debug.yaml, configs/scifi.yaml...); repeat to layer several
  --print_config        print the whole config this command would run with, and stop
  --ckpt_path PATH      a checkpoint: last or best (of checkpoint.dirpath), or a file;
                        fit resumes from it exactly, validate and test measure it
  --architecture NAME   lstm (the default) or gpt (a Transformer); give it before --help-all to see its options
  --seed_everything N   the seed of the run (default 1234)

config keys, by section:
{keys}
  optimizer             a torch optimizer by class_path (default AdamW, lr 0.002, weight_decay 0.01)
  lr_scheduler          a scheduler by class_path; trainer.training.schedule.WarmupCosine steps every batch

every option, Lightning's Trainer's included: {prog} {command} --help-all (loads Lightning)
"""


def config_keys_help() -> str:
    lines = []
    for section, keys in CONFIG_KEYS.items():
        name, _, note = section.partition(", ")
        listed = ", ".join(keys)
        lines.append(textwrap.fill(f"{(note + ': ') if note else ''}{listed}", width=104,
                                   initial_indent=f"  {name + '.*':<20}  ", subsequent_indent=" " * 24))
    return "\n".join(lines)


def version() -> str:
    """The installed distribution's name and version (the trainer and the pipeline ship as one)."""
    try:
        return f"{DISTRIBUTION} {importlib.metadata.version(DISTRIBUTION)}"
    except importlib.metadata.PackageNotFoundError:
        return f"{DISTRIBUTION} (not installed: run from a source tree)"


def main_help() -> str:
    prog = program_name()
    width = max(len(name) for name in [*LIGHTNING_COMMANDS, *EXTRA_COMMANDS])
    summaries = {**LIGHTNING_SUMMARIES, **{name: c.summary for name, c in EXTRA_COMMANDS.items()}}
    listed = "\n".join(f"  {name:<{width}}  {summary}" for name, summary in summaries.items())
    choices = ",".join([*LIGHTNING_COMMANDS, *EXTRA_COMMANDS])
    return (f"usage: {prog} [-h] [--version] {{{choices}}} ...\n\n"
            f"Train LSTM (or Transformer: --architecture gpt) language models on corpora built by the pipeline,\n"
            f"and share them.\n\ncommands ({prog} COMMAND --help for each):\n{listed}\n\n"
            f"options:\n  -h, --help  show this help and exit\n  --version   print the version and exit\n\n"
            f"examples:\n  {prog} fit --config configs/debug.yaml\n"
            f"  {prog} fit --config configs/scifi.yaml --ckpt_path last\n"
            f"  {prog} test --config configs/scifi.yaml --ckpt_path best\n"
            f"  {prog} generate --ckpt runs/debug/checkpoints/last.ckpt --prompt \"It all began with\"\n\n"
            f"{EXIT_CODES}\n")


def command_help(command: str) -> str:
    prog = program_name()
    return (f"usage: {prog} {command} [-h] [--help-all] [-c CONFIG] [--print_config] [--ckpt_path PATH] "
            f"[--KEY VALUE ...]\n\n{LIGHTNING_SUMMARIES[command]}\n\n"
            f"{COMMAND_OPTIONS.format(prog=prog, command=command, keys=config_keys_help())}\n"
            f"examples:\n  {prog} {command} --config configs/debug.yaml"
            f"{' --ckpt_path best' if command != 'fit' else ''}\n"
            f"  {prog} {command} --config configs/scifi.yaml --ckpt_path {'last' if command == 'fit' else 'best'}\n\n"
            f"{EXIT_CODES}\n")


def main(argv: list[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    try:
        if given == ["--version"]:
            print(version())
            return 0
        if not given or given[0] in HELP:
            print(main_help(), end="")
            return 0
        if given[0] in EXTRA_COMMANDS:
            return EXTRA_COMMANDS[given[0]].run(given[1:])
        if given[0] in LIGHTNING_COMMANDS and len(given) == 2 and given[1] in HELP:
            print(command_help(given[0]), end="")
            return 0
        if given[0] not in LIGHTNING_COMMANDS:
            known = ", ".join(repr(c) for c in [*LIGHTNING_COMMANDS, *EXTRA_COMMANDS])
            raise ConfigError(f"invalid choice: {given[0]!r} is not a command (choose from {known}; see "
                              f"{program_name()} --help)")
        lightning_argv = [arg if arg != HELP_ALL else "--help" for arg in given]
        check_config_arguments(lightning_argv)  # bounded, UTF-8, no alias bomb: before jsonargparse reads them
        from .lightning_cli import run  # Lightning loads here, and only here

        return run(None if argv is None and lightning_argv == given else lightning_argv, lightning_argv)
    except TrainerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:  # before training started: there is nothing new to save
        print("error: interrupted; resume with fit --ckpt_path last if a run had started", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `generate | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
