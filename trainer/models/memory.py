"""Whether a model fits in this machine's memory, known from its sizes before a byte of it is allocated.

A mistyped size (``model.hidden_size 1000000``) would otherwise end in an allocation error after the
corpus was encoded, or in the kernel killing the process with no word at all. The network is built on
PyTorch's ``meta`` device, which records shapes and allocates nothing, and its parameters are counted.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import torch
from torch import nn

from ..checkpoint import size
from ..errors import ConfigError

TRAINING_COPIES = 4
"""Weights, gradients and an Adam-like optimizer's two moments: what training holds per parameter, at least."""


def memory() -> tuple[int, int]:
    """This machine's memory in bytes: (available now, total)."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            fields = dict(line.split(":", 1) for line in handle if ":" in line)
        return int(fields["MemAvailable"].split()[0]) * 1024, total
    except (OSError, KeyError, ValueError):
        return total, total


def parameter_count(build: Callable[[], nn.Module]) -> int:
    """The parameters of the module ``build`` makes (shared ones once), counted without allocating them."""
    with torch.device("meta"):
        module = build()
    return sum(p.numel() for p in {id(p): p for p in module.parameters()}.values())


def require_memory(build: Callable[[], nn.Module], sizes: str, fix: str) -> None:
    """A ConfigError saying how much memory the model needs, when this machine cannot hold it.

    Refused: weights larger than the memory available now (they are made in it first), or, on a machine
    without a GPU, training copies larger than all its memory.
    """
    count = parameter_count(build)
    weights = count * torch.tensor([], dtype=torch.get_default_dtype()).element_size()
    training = TRAINING_COPIES * weights
    available, total = memory()
    if weights > available or (training > total and not torch.cuda.is_available()):
        raise ConfigError(f"the model is too large for this machine: {sizes} make {count:,} parameters, "
                          f"{size(weights)} for the weights alone and about {size(training)} to train them "
                          f"(weights, gradients, optimizer state), and this machine has {size(total)} of memory "
                          f"({size(available)} available); {fix}")
