"""The trainer's errors: each is a mistake or a state the user can act on, reported as one line."""

import argparse


def install_hint(extra: str) -> str:
    """How to install an optional extra, in README's form for a source checkout and in the form for an install."""
    return f"python -m pip install -e '.[{extra}]' (in a source checkout; else 'gutenberg-lstm[{extra}]')"


class TrainerError(Exception):
    """Base class; exit code 1."""

    exit_code = 1


class ConfigError(TrainerError):
    """A config value or the corpus it names is wrong; nothing was trained."""

    exit_code = 2


class CorpusError(ConfigError):
    """``data.corpus`` is missing, is not a corpus, or lacks a split."""


class CheckpointError(TrainerError):
    """A checkpoint is corrupt, foreign or missing."""

    exit_code = 2


class NonFiniteLossError(TrainerError):
    """The loss or the gradients became NaN or infinite; training stopped before the weights were touched."""


class Interrupted(TrainerError):
    """Ctrl-C or SIGTERM: the run stopped; fit saved a checkpoint at the step reached first."""

    exit_code = 130


class OneLineArgparse(argparse.ArgumentParser):
    """argparse for the extra commands (``generate``...): a mistake is a ConfigError, one line, exit 2."""

    def error(self, message: str):  # type: ignore[override]
        raise ConfigError(f"{message} (see {self.prog} --help)")
