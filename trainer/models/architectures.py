"""Which model a config or a checkpoint means: the top-level ``architecture`` key (``lstm``, the default, or ``gpt``).

LightningCLI builds its parser from one model class, so the command line is read for
``architecture`` (in ``--config`` files, then ``--architecture``) before the parser is made.
Checkpoints record their architecture, so ``generate`` needs no config.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path

from ..config_files import load_config
from ..errors import ConfigError

ARCHITECTURES = {"lstm": "trainer.models.lstm:LSTMNetwork", "gpt": "trainer.models.gpt:GPTNetwork"}
"""Each architecture's network, in plain PyTorch (``training.module`` adds the steps of a fit to each)."""
DEFAULT = "lstm"


def network_class(architecture: str) -> type:
    if architecture not in ARCHITECTURES:
        raise ConfigError(f"architecture {architecture!r}: use one of {', '.join(ARCHITECTURES)}")
    module, name = ARCHITECTURES[architecture].split(":")
    return getattr(importlib.import_module(module), name)


def architecture_of_checkpoint(checkpoint: dict) -> str:
    return (checkpoint.get("gutenberg_lstm") or {}).get("architecture", DEFAULT)


def architecture_from_argv(argv: Sequence[str]) -> str:
    """The last ``architecture`` given: by a ``--config`` file (in order) or by ``--architecture``."""
    architecture = DEFAULT
    arguments = list(argv)
    for n, argument in enumerate(arguments):
        name, _, inline = argument.partition("=")
        if name not in ("--config", "-c", "--architecture"):
            continue
        value = inline if inline else (arguments[n + 1] if n + 1 < len(arguments) else None)
        if value is None:
            continue
        if name == "--architecture":
            architecture = value
            continue
        if not Path(value).is_file():
            continue  # the CLI's own parser reports a missing config in its words
        config = load_config(value)
        if isinstance(config, dict) and "architecture" in config:
            architecture = str(config["architecture"])
    if architecture not in ARCHITECTURES:
        raise ConfigError(f"architecture {architecture!r}: use one of {', '.join(ARCHITECTURES)}")
    return architecture
