"""The commands of ``python -m trainer``: names, one-line summaries, exit codes, and how each extra one runs.

A table apart from both command lines: ``cli.py`` answers ``--help`` from it without loading Lightning,
and ``lightning_cli.py`` lists the same commands in LightningCLI's full help. Extra commands
(``generate``, ``serve``, ``export``) are a name, a summary and a function of the remaining
arguments that returns the exit code; each imports what it needs only when it runs.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

EXIT_CODES = """exit codes: 0 ok, 1 training failed (NaN loss: the last good checkpoint stays), 2 config, corpus or
checkpoint error (one line says which), 130 interrupted (Ctrl-C or SIGTERM: fit saves a checkpoint first)"""

DISTRIBUTION = "gutenberg-lstm"
"""The distribution the trainer and the pipeline ship in."""
LIGHTNING_COMMANDS = ("fit", "validate", "test")
LIGHTNING_SUMMARIES = {
    "fit": "Train a model on a corpus; resume a stopped run exactly with --ckpt_path last.",
    "validate": "Measure a checkpoint on the val split: loss, bits per character, perplexity.",
    "test": "Measure a checkpoint on the test split (keep it for the end): loss, bits per character, perplexity.",
}
"""Our words for Lightning's commands: its own are the first line of Trainer's docstrings, cut mid-sentence."""

def program_name() -> str:
    """``python -m trainer``, or the console script's own name when run as one."""
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    console_script = name and name not in ("-m", "-c") and not name.endswith(".py")
    return name if console_script else "python -m trainer"


@dataclass(frozen=True)
class ExtraCommand:
    summary: str
    """One line for ``python -m trainer --help``."""
    run: Callable[[list[str]], int]
    """Runs the command with the arguments after its name; returns the exit code."""


def _run_generate(argv: list[str]) -> int:
    from .sharing.generate import run_generate

    return run_generate(argv, prog=f"{program_name()} generate")


def _run_serve(argv: list[str]) -> int:
    from .sharing.serve import main as serve_main  # its web libraries load only when it runs

    return serve_main(argv)


def _run_export(argv: list[str]) -> int:
    from .sharing.export import main as export_main

    return export_main(argv)


def _run_report(argv: list[str]) -> int:
    from .sharing.report import main as report_main  # matplotlib loads only when it runs

    return report_main(argv, prog=f"{program_name()} report")


EXTRA_COMMANDS: dict[str, ExtraCommand] = {
    "generate": ExtraCommand("Write text with a trained checkpoint, streamed to stdout.", _run_generate),
    "serve": ExtraCommand("Serve a checkpoint: an OpenAI-style completions API and a page to play with it.",
                          _run_serve),
    "export": ExtraCommand("Export a checkpoint to ONNX or TorchScript, with its vocabulary as JSON.", _run_export),
    "report": ExtraCommand("A run's loss, bits per character, learning rate and throughput curves, its best "
                           "checkpoint and a seeded sample: PNGs or one HTML page.", _run_report),
}
