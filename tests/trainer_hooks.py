"""Callbacks the trainer tests load through the config (``trainer.callbacks``): real faults, on cue."""

from __future__ import annotations

import os
import signal
import time

import torch
from pytorch_lightning.callbacks import Callback


class KillAtStep(Callback):
    """SIGKILL this process (every rank kills itself) when training reaches ``step``: a crash, not an exit."""

    def __init__(self, step: int):
        self.step = step

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.global_step == self.step:
            os.kill(os.getpid(), signal.SIGKILL)


class PoisonAtStep(Callback):
    """Turn one embedding row to NaN before ``step``, as a diverging run would."""

    def __init__(self, step: int):
        self.step = step

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.global_step == self.step:
            with torch.no_grad():
                pl_module.embedding.weight[batch[0][0, 0]] = float("nan")


class WaitForSignalAtStep(Callback):
    """At ``step``, write ``marker`` and wait (up to two minutes) until the trainer's stop handler has a signal.

    The test sends a real SIGINT or SIGTERM from outside once the marker exists: the signal arrives
    mid-epoch, inside a step, however loaded the machine is.
    """

    def __init__(self, step: int, marker: str):
        self.step, self.marker = step, marker

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.global_step != self.step:
            return
        from trainer.training.callbacks import StopOnSignal

        [stop] = [c for c in trainer.callbacks if isinstance(c, StopOnSignal)]
        open(self.marker, "w").close()
        deadline = time.monotonic() + 120
        while stop.signal_name is None and time.monotonic() < deadline:
            time.sleep(0.02)


class InfiniteGradientAtStep(Callback):
    """Make one gradient infinite at ``step`` (after backward, before clipping) while the loss stays finite."""

    def __init__(self, step: int):
        self.step = step

    def on_before_optimizer_step(self, trainer, pl_module, optimizer):
        if trainer.global_step == self.step:
            with torch.no_grad():
                pl_module.lstm.weight_hh_l0.grad[0, 0] = float("inf")
