"""Callbacks the CLI adds or the configs name: a clean stop on Ctrl-C or SIGTERM, losses printed as plain lines,
and checkpoints that keep a stable ``best.ckpt``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import torch
from pytorch_lightning.callbacks import Callback, ModelCheckpoint

from ..checkpoint import check_free_space

RECEIVED: list[str] = []
"""The names of the stop signals this process received (a second one stops at once, without saving)."""


def stop_signals() -> tuple[signal.Signals, ...]:
    signals = [signal.SIGINT, signal.SIGTERM]
    if os.environ.get("SLURM_JOB_ID") and hasattr(signal, "SIGUSR1"):  # SLURM's warning before the time limit
        signals.append(signal.SIGUSR1)
    return tuple(signals)


class StopOnSignal(Callback):
    """On SIGINT, SIGTERM (or SLURM's SIGUSR1), finish the current step, save ``last.ckpt``, and stop.

    The handler only sets a flag: the checkpoint is written after the optimizer step, in
    ``on_train_batch_end``, where the weights, the optimizer, the data position and the RNG agree, so it
    resumes exactly like any other. Under DDP every rank stops at the same step (a max-reduce of the flag).
    On SLURM, after SIGUSR1 (``#SBATCH --signal=SIGUSR1@120``), rank 0 requeues the job; the requeued
    job's ``fit`` resumes from ``last.ckpt`` by itself (``SLURM_RESTART_COUNT``).
    """

    def __init__(self):
        self.signal_name: str | None = None
        self.saved: Path | None = None
        self.step: int | None = None
        self._trainer = None

    def setup(self, trainer, pl_module, stage: str) -> None:
        if stage == "fit":
            self._install(trainer)

    def on_train_start(self, trainer, pl_module) -> None:
        self._install(trainer)  # again: Lightning registers its own SIGTERM handler after setup

    def teardown(self, trainer, pl_module, stage: str) -> None:
        self._trainer = None

    def _install(self, trainer) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        self._trainer = trainer
        for signum in stop_signals():
            signal.signal(signum, self._handle)

    def _handle(self, signum, frame) -> None:
        name = signal.Signals(signum).name
        RECEIVED.append(name)
        if self.signal_name is not None:  # asked twice: stop now
            raise KeyboardInterrupt
        self.signal_name = name
        trainer = self._trainer
        launcher = getattr(getattr(trainer, "strategy", None), "launcher", None)
        if signum != signal.SIGINT and trainer is not None and trainer.is_global_zero and hasattr(launcher, "procs"):
            launcher.kill(signum)  # Ctrl-C reaches every rank's process; a kill only reaches this one

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        requested = self.signal_name is not None
        if trainer.world_size > 1:  # every rank must stop, and save, at the same step
            flag = torch.tensor(float(requested), device=pl_module.device)
            requested = trainer.strategy.reduce(flag, reduce_op="max").item() > 0
        if not requested or self.saved is not None:
            return
        self.signal_name = self.signal_name or "a signal to another rank"
        checkpoint = trainer.checkpoint_callback
        if checkpoint is not None and checkpoint.dirpath:
            # through ModelCheckpoint, so that it knows this step is saved and writes nothing over it at the end
            checkpoint._save_last_checkpoint(trainer, checkpoint._monitor_candidates(trainer))
            self.saved = Path(checkpoint.last_model_path or Path(checkpoint.dirpath) / "last.ckpt")
        else:
            self.saved = Path(trainer.default_root_dir) / "last.ckpt"
            trainer.save_checkpoint(self.saved)
        self.step = trainer.global_step
        trainer.should_stop = True
        if self.signal_name == "SIGUSR1" and trainer.is_global_zero:
            requeue()


def requeue() -> None:
    job = os.environ.get("SLURM_ARRAY_JOB_ID")
    job = f"{job}_{os.environ['SLURM_ARRAY_TASK_ID']}" if job else os.environ.get("SLURM_JOB_ID")
    if not job:
        return
    try:
        done = subprocess.run(["scontrol", "requeue", job], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        print(f"warning: could not requeue SLURM job {job} ({exc}); resubmit it to resume", file=sys.stderr)
        return
    if done.returncode == 0:
        print(f"note: requeued SLURM job {job}: it resumes from last.ckpt when it restarts", file=sys.stderr)
    else:
        print(f"warning: scontrol requeue {job} failed: {done.stderr.strip()[:200]}; resubmit it to resume",
              file=sys.stderr)


class PrintLosses(Callback):
    """Print the training loss every ``every_n_steps`` steps and each validation loss, one plain line each.

    For runs without a progress bar (``configs/debug.yaml``): someone checking that everything works sees numbers.
    """

    def __init__(self, every_n_steps: int = 10):
        if every_n_steps < 1:
            from ..errors import ConfigError

            raise ConfigError(f"PrintLosses every_n_steps must be 1 or more, not {every_n_steps}")
        self.every_n_steps = every_n_steps

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        step = trainer.global_step
        if trainer.is_global_zero and step % self.every_n_steps == 0:
            metrics = trainer.callback_metrics
            line = f"step {step:>6}  train_loss {float(metrics['train_loss']):.4f}" if "train_loss" in metrics else ""
            if "train_bpc" in metrics:
                line += f"  train_bpc {float(metrics['train_bpc']):.3f}"
            if line:
                print(line, flush=True)

    def on_validation_end(self, trainer, pl_module) -> None:
        metrics = trainer.callback_metrics
        if trainer.is_global_zero and trainer.training is False and trainer.state.fn == "fit" \
                and not trainer.sanity_checking and "val_loss" in metrics:
            print(f"step {trainer.global_step:>6}  val_loss   {float(metrics['val_loss']):.4f}  val_bpc "
                  f"{float(metrics.get('val_bpc', float('nan'))):.3f}", flush=True)


BEST_LINK = "best.ckpt"
RELATIVE_PATHS = "paths_relative_to_dirpath"
"""Set in a RunCheckpoint's state when its checkpoint paths are names inside ``dirpath``."""


def checkpoint_bytes(module: torch.nn.Module) -> int:
    """About the size of one checkpoint of ``module``: its weights and an Adam-like optimizer's two moments."""
    unique = {id(p): p for p in module.parameters()}.values()
    return 3 * sum(p.numel() * p.element_size() for p in unique) + (1 << 20)


class RunCheckpoint(ModelCheckpoint):
    """ModelCheckpoint that also keeps ``best.ckpt``, a relative link to the best checkpoint so far.

    The best file's own name carries its step (``best-step=800.ckpt``) and changes as training goes; the
    link is the stable name that ``generate``, ``serve`` and ``export`` are given in README and scripts.
    """

    def __init__(self, *args, fresh_start: bool = False, **kwargs):
        """ModelCheckpoint's arguments, and:

        Args:
            fresh_start: A ``fit`` without ``--ckpt_path`` first removes the checkpoints an earlier run left in
                ``dirpath``, instead of refusing to mix with them. For smoke tests run again and again
                (``configs/debug.yaml``); leave it off for a real run, whose checkpoints are worth keeping.
        """
        super().__init__(*args, **kwargs)
        self.fresh_start = fresh_start

    def setup(self, trainer, pl_module, stage: str) -> None:
        super().setup(trainer, pl_module, stage)
        if stage == "fit" and trainer.is_global_zero and self.dirpath and "://" not in str(self.dirpath):
            # the model is built now, so its checkpoints' size is known: a disk too full for them is one line
            # before the first step, not an error at the first checkpoint
            check_free_space(self.dirpath, 2 * checkpoint_bytes(pl_module), "this model's best and last checkpoints")

    @property
    def state_key(self) -> str:
        # the key ModelCheckpoint itself would use, so checkpoints written before this class resume the same
        return super().state_key.replace(type(self).__qualname__, ModelCheckpoint.__qualname__, 1)

    def state_dict(self) -> dict:
        """Lightning's state, with the paths of checkpoints in ``dirpath`` stored as names relative to it: a run
        folder copied or moved elsewhere finds its own checkpoints, never the original run's."""
        state = super().state_dict()
        base = Path(self.dirpath) if self.dirpath and "://" not in str(self.dirpath) else None
        if base is None:
            return state

        def relative(path):
            if isinstance(path, str) and path and Path(path).parent == base:
                return Path(path).name
            return path

        for key in ("best_model_path", "kth_best_model_path", "last_model_path"):
            state[key] = relative(state.get(key))
        if isinstance(state.get("best_k_models"), dict):
            state["best_k_models"] = {relative(path): score for path, score in state["best_k_models"].items()}
        state[RELATIVE_PATHS] = True
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        if state_dict.get(RELATIVE_PATHS) and self.dirpath and "://" not in str(self.dirpath):
            base = Path(self.dirpath)

            def absolute(path):
                return str(base / path) if isinstance(path, str) and path and not Path(path).is_absolute() else path

            state_dict = dict(state_dict, dirpath=self.dirpath)  # the folder it is now in, wherever it was
            for key in ("best_model_path", "kth_best_model_path", "last_model_path"):
                state_dict[key] = absolute(state_dict.get(key))
            if isinstance(state_dict.get("best_k_models"), dict):
                state_dict["best_k_models"] = {absolute(p): s for p, s in state_dict["best_k_models"].items()}
        super().load_state_dict(state_dict)

    def _update_best_and_save(self, current, trainer, monitor_candidates) -> None:
        super()._update_best_and_save(current, trainer, monitor_candidates)
        if trainer.is_global_zero and self.best_model_path and self.dirpath and "://" not in str(self.dirpath):
            link_best(Path(self.dirpath), Path(self.best_model_path))


def link_best(directory: Path, best: Path) -> None:
    """Point ``directory/best.ckpt`` at ``best``: a new link renamed over the old, so a reader never sees none."""
    link = directory / BEST_LINK
    if best.name == BEST_LINK:  # checkpoint.filename: best writes the file under that name itself
        return
    temporary = directory / f".{BEST_LINK}.{os.getpid()}.tmp"
    temporary.unlink(missing_ok=True)
    os.symlink(best.name, temporary)
    os.replace(temporary, link)


def remove_earlier_checkpoints(directory: Path) -> list[Path]:
    """The ``*.ckpt`` files (and the ``best.ckpt`` link) an earlier run left in ``directory``, removed."""
    removed = []
    for path in sorted(directory.glob("*.ckpt")):
        if path.is_symlink() or path.is_file():
            path.unlink()
            removed.append(path)
    return removed
