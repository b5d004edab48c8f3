"""Callbacks the trainer tests load through the config (``trainer.callbacks``): real faults, on cue."""

from __future__ import annotations

import os
import signal

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
