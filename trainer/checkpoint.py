"""Checkpoints written atomically and read safely (``weights_only=True``), with one-line errors."""

from __future__ import annotations

import os
import pickle
import uuid
import zipfile
from pathlib import Path
from typing import Any

import torch
from pytorch_lightning.plugins import TorchCheckpointIO

from .errors import CheckpointError


class AtomicCheckpointIO(TorchCheckpointIO):
    """torch.save to a temporary file beside the target, fsync, then rename: a kill never leaves half a file."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path, storage_options: Any | None = None) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.part")
        try:
            with open(temp, "wb") as handle:
                torch.save(checkpoint, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, path)
        finally:
            temp.unlink(missing_ok=True)

    def load_checkpoint(self, path, map_location: Any | None = None, weights_only: bool | None = None) -> dict:
        return load_checkpoint(path, map_location=map_location)


def load_checkpoint(path, map_location: Any = "cpu") -> dict:
    """A checkpoint of this trainer, loaded with ``weights_only=True``; anything else is a CheckpointError."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{path} is not a readable checkpoint (corrupt, truncated, or not a safe "
                              f"torch checkpoint: {first[:160]})") from None
    if not isinstance(checkpoint, dict) or "gutenberg_lstm" not in checkpoint or "state_dict" not in checkpoint:
        raise CheckpointError(f"{path} was not written by this trainer; give one from a `python -m trainer fit` run")
    return checkpoint


def best_checkpoint(directory: Path) -> Path:
    """The best checkpoint recorded by ModelCheckpoint in ``last.ckpt`` of ``directory``."""
    last = Path(directory) / "last.ckpt"
    checkpoint = load_checkpoint(last)
    for key, state in checkpoint.get("callbacks", {}).items():
        if key.startswith("ModelCheckpoint") and state.get("best_model_path"):
            best = Path(state["best_model_path"])
            if best.is_file():
                return best
            raise CheckpointError(f"the best checkpoint recorded in {last}, {best}, is gone")
    raise CheckpointError(f"{last} records no best checkpoint (was validation ever run?)")
