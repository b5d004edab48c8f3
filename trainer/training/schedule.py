"""Learning-rate schedules stepped after every optimizer step (LightningCLI alone steps them once an epoch).

``WarmupCosine`` is nanoGPT's and litgpt's: a linear warmup, then a cosine decay to a minimum, then flat::

    lr_scheduler:
      class_path: trainer.training.schedule.WarmupCosine
      init_args: {warmup_steps: 500, decay_steps: 30000, min_lr: 0.0002}
"""

from __future__ import annotations

import math

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler

from ..errors import ConfigError


def warmup_cosine(step: int, base_lr: float, warmup_steps: int, decay_steps: int, min_lr: float) -> float:
    """The learning rate of optimizer step ``step`` (counted from 0)."""
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    if step >= decay_steps:
        return min_lr
    progress = (step - warmup_steps) / max(1, decay_steps - warmup_steps)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (base_lr - min_lr)


class WarmupCosine(LRScheduler):
    interval = "step"
    """Read by the CLI's ``configure_optimizers``: Lightning steps this scheduler after every optimizer step."""

    def __init__(self, optimizer: Optimizer, warmup_steps: int = 0, decay_steps: int | None = None,
                 min_lr: float = 0.0, last_epoch: int = -1):
        """Linear warmup from ``lr / warmup_steps`` to ``lr``, cosine decay to ``min_lr`` at ``decay_steps``, then flat.

        Args:
            optimizer: Set by the CLI.
            warmup_steps: Optimizer steps of linear warmup (0: none).
            decay_steps: The step at which the decay reaches ``min_lr``; default ``trainer.max_steps``.
            min_lr: The learning rate at the end of the decay and after it (nanoGPT: about lr / 10).
            last_epoch: The last step done; set by Lightning when it resumes.
        """
        if decay_steps is None:
            raise ConfigError("lr_scheduler WarmupCosine: set lr_scheduler.init_args.decay_steps or trainer.max_steps")
        if warmup_steps < 0 or decay_steps < 1 or warmup_steps > decay_steps:
            raise ConfigError(f"lr_scheduler WarmupCosine: need 0 <= warmup_steps ({warmup_steps}) <= decay_steps "
                              f"({decay_steps}) and decay_steps >= 1")
        lrs = [group["lr"] for group in optimizer.param_groups]
        if not (math.isfinite(min_lr) and 0 <= min_lr <= min(lrs)):
            raise ConfigError(f"lr_scheduler WarmupCosine: min_lr {min_lr} must be between 0 and the optimizer's lr "
                              f"({min(lrs)})")
        self.warmup_steps, self.decay_steps, self.min_lr = warmup_steps, decay_steps, min_lr
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [warmup_cosine(self.last_epoch, base, self.warmup_steps, self.decay_steps, self.min_lr)
                for base in self.base_lrs]
