"""Checkpoints: written atomically with a checksum of their content, read safely, and what a run needs from one.

Every command given a checkpoint takes its tokenizer from it (``data.tokenizer.tokenizer_of``), never from the corpus,
and compares the corpus it was trained on (``corpus_record``) with the one it reads now.
"""

from __future__ import annotations

import errno
import hashlib
import os
import pickle
import shutil
import uuid
import zipfile
from pathlib import Path
from typing import Any

import torch

from .errors import CheckpointError, ConfigError

CHECKSUM_KEY = "content_sha256"
"""Top-level key of the checksum; every other key is covered by it."""
FORMAT = 2
"""The format this trainer writes (``gutenberg_lstm.format``): 1, no checksum and no corpus record; 2, both."""
FORMAT_1_RECORD = {"format"}
"""All that format 1 wrote in its ``gutenberg_lstm`` record: a record claiming format 1 with more is a newer
checkpoint whose checksum was removed (and its format lowered) to pass unchecked."""


def content_digest(checkpoint: dict) -> str:
    """sha256 over every value of the checkpoint but the checksum itself, walked in its (pickled) order."""
    digest = hashlib.sha256()

    def walk(value: Any) -> None:
        if isinstance(value, torch.Tensor):
            tensor = value.detach().cpu().contiguous()
            digest.update(f"T{tensor.dtype}{tuple(tensor.shape)}".encode())
            digest.update(memoryview(tensor.reshape(-1).view(torch.uint8).numpy()))
        elif isinstance(value, dict):
            items = [(k, v) for k, v in value.items() if not (value is checkpoint and k == CHECKSUM_KEY)]
            digest.update(f"D{len(items)}".encode())
            for key, item in items:
                walk(key)
                walk(item)
        elif isinstance(value, (list, tuple)):
            digest.update(f"L{len(value)}".encode())
            for item in value:
                walk(item)
        else:
            digest.update(f"V{type(value).__name__}:{value!r};".encode())

    walk(checkpoint)
    return digest.hexdigest()


def save_checkpoint(checkpoint: dict[str, Any], path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    checkpoint = dict(checkpoint)
    checkpoint[CHECKSUM_KEY] = content_digest(checkpoint)
    temp = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.part")
    try:
        with open(temp, "wb") as handle:
            torch.save(checkpoint, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def load_checkpoint(path, map_location: Any = "cpu") -> dict:
    """A checkpoint of this trainer, loaded with ``weights_only=True`` and its checksum verified.

    Anything else (empty, truncated, garbage, another project's, a flipped byte) is a CheckpointError.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError, KeyError,
            AttributeError, TypeError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{path} is not a readable checkpoint (corrupt, truncated, or not a safe "
                              f"torch checkpoint: {first[:160]})") from None
    if not isinstance(checkpoint, dict) or "gutenberg_lstm" not in checkpoint or "state_dict" not in checkpoint:
        raise CheckpointError(f"{path} was not written by this trainer; give one from a `python -m trainer fit` run")
    format_ = check_format(checkpoint, path)
    if CHECKSUM_KEY in checkpoint:
        if content_digest(checkpoint) != checkpoint[CHECKSUM_KEY]:
            raise CheckpointError(f"{path} is corrupt: its content does not match the checksum written with it; "
                                  f"use another checkpoint (e.g. the best-*.ckpt beside it)")
    elif format_ >= 2:  # format 1 predates checksums
        raise CheckpointError(f"{path} has lost its checksum; it was altered after it was written")
    elif set(checkpoint["gutenberg_lstm"]) - FORMAT_1_RECORD:
        newer = ", ".join(sorted(set(checkpoint["gutenberg_lstm"]) - FORMAT_1_RECORD))
        raise CheckpointError(f"{path} claims format 1 (no checksum) but holds what only later formats write "
                              f"({newer}): its checksum was removed and its format lowered after it was written; "
                              f"use another checkpoint")
    check_content(checkpoint, path)
    return checkpoint


def check_format(checkpoint: dict, path) -> int:
    """The checkpoint's format, a whole number this trainer reads; anything else is a CheckpointError."""
    record = checkpoint["gutenberg_lstm"]
    if not isinstance(record, dict):
        raise CheckpointError(f"{path} is damaged: its gutenberg_lstm record is {type(record).__name__} "
                              f"{record!r:.40}, not a mapping; use another checkpoint")
    format_ = record.get("format", 1)
    if not isinstance(format_, int) or isinstance(format_, bool) or format_ < 1:
        raise CheckpointError(f"{path} is damaged: its format is {format_!r:.40}, not a checkpoint format (1 to "
                              f"{FORMAT}); use another checkpoint")
    if format_ > FORMAT:
        raise CheckpointError(f"{path} is format {format_}, newer than this trainer reads (1 to {FORMAT}): "
                              f"update gutenberg-lstm to load it")
    return format_


CONTENT = {"state_dict": dict, "hyper_parameters": dict, "vocabulary": dict}
"""What every checkpoint of this trainer holds, format 1 included, and the type of each."""


def check_content(checkpoint: dict, path) -> None:
    """The checkpoint holds weights, finite ones, and what a model is built from: its sizes and its vocabulary."""
    for key, kind in CONTENT.items():
        if key not in checkpoint:
            raise CheckpointError(f"{path} has no {key} (written by this trainer, it always has one): it is "
                                  f"damaged or was made by hand; use another checkpoint")
        if not isinstance(checkpoint[key], kind):
            raise CheckpointError(f"{path} is damaged: its {key} is {type(checkpoint[key]).__name__}, not a "
                                  f"mapping; use another checkpoint")
    weights = checkpoint["state_dict"]
    if not weights:
        raise CheckpointError(f"{path} holds no weights (an empty state_dict); use another checkpoint")
    for name, tensor in weights.items():
        if not isinstance(name, str) or not isinstance(tensor, torch.Tensor):
            raise CheckpointError(f"{path} is damaged: its state_dict holds {type(tensor).__name__} {name!r:.60} "
                                  f"where a tensor of weights belongs; use another checkpoint")
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise CheckpointError(f"{path} holds NaN or infinite weights ({name}): the run diverged before it "
                                  f"was saved, or the file was altered; use an earlier checkpoint")
    corpus = checkpoint["gutenberg_lstm"].get("corpus")
    architecture = checkpoint["gutenberg_lstm"].get("architecture", "lstm")
    if not (corpus is None or isinstance(corpus, dict)) or not isinstance(architecture, str):
        raise CheckpointError(f"{path} is damaged: its gutenberg_lstm record holds values of the wrong type "
                              f"(corpus {type(corpus).__name__}, architecture {type(architecture).__name__}); use "
                              f"another checkpoint")


PROBE_BYTES = 1 << 16
"""Written (and fsynced) in the checkpoint folder before a fit: a full disk or a read-only one shows at once."""


def check_checkpoint_folder(directory, option: str = "checkpoint.dirpath") -> None:
    """``directory`` is, or can be made, a folder this process can write a file into; else a ConfigError.

    Checked before a fit starts, so that a file in its place, a folder of another user or a read-only or full
    disk is one line then, not an error at the first checkpoint after minutes or hours of training."""
    directory = Path(directory)
    fix = f"give another --{option}"
    if directory.exists() and not directory.is_dir():
        raise ConfigError(f"{option} {directory} is a file, not a folder; {fix}")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = "a part of that path is a file" if exc.errno in (errno.ENOTDIR, errno.EEXIST) else exc.strerror
        raise ConfigError(f"{option} {directory}: cannot create the folder ({reason}); {fix}") from None
    probe = directory / f".write-test-{os.getpid()}"
    try:
        with open(probe, "wb") as handle:
            handle.write(bytes(PROBE_BYTES))
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise ConfigError(f"{option} {directory}: cannot write there ({exc.strerror or exc}); free some space, "
                          f"or {fix}") from None
    finally:
        try:
            probe.unlink(missing_ok=True)
        except OSError:
            pass


def check_free_space(directory, needed: int, what: str, option: str = "checkpoint.dirpath") -> None:
    """At least ``needed`` bytes are free on the disk of ``directory``; else a ConfigError that says how much."""
    try:
        free = shutil.disk_usage(directory).free
    except OSError:
        return  # not there yet, or not a local disk: the write itself will tell
    if free < needed:
        raise ConfigError(f"{option} {directory}: {size(free)} free on its disk, and {what} need about {size(needed)}; "
                          f"free some space, or give another --{option}")


def size(count: float) -> str:
    """Bytes for people: 512 B, 3.1 MB, 16.0 TB."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if count < 1000 or unit == "TB":
            return f"{count:,.0f} {unit}" if unit == "B" else f"{count:,.1f} {unit}"
        count /= 1000
    return f"{count:,.1f} TB"


def corpus_record(checkpoint: dict) -> dict:
    """The corpus a checkpoint was trained on: ``{"version", "content_key", "path"}`` (empty for older ones)."""
    return dict(checkpoint.get("gutenberg_lstm", {}).get("corpus") or {})


def best_checkpoint(directory: Path) -> Path:
    """The best checkpoint recorded by ModelCheckpoint in ``last.ckpt`` of ``directory``."""
    last = Path(directory) / "last.ckpt"
    checkpoint = load_checkpoint(last)
    for key, state in checkpoint.get("callbacks", {}).items():
        if key.startswith("ModelCheckpoint") and state.get("best_model_path"):
            best = Path(state["best_model_path"])
            if not best.is_absolute():  # stored relative to the checkpoint folder, wherever it now is
                best = Path(directory) / best
            elif best.parent.resolve() != Path(directory).resolve() and (Path(directory) / best.name).is_file():
                best = Path(directory) / best.name  # an older run folder, copied: its own, not the original's
            if best.is_file():
                return best
            raise CheckpointError(f"the best checkpoint recorded in {last}, {best}, is gone")
    raise CheckpointError(f"{last} records no best checkpoint (was validation ever run?)")


def __getattr__(name: str):
    # Lightning's CheckpointIO base class is loaded only when a fit asks for this plugin by its class path
    # (``trainer.checkpoint.AtomicCheckpointIO``): reading a checkpoint to generate text never loads Lightning
    if name == "AtomicCheckpointIO":
        globals()[name] = atomic_checkpoint_io = _atomic_checkpoint_io()
        return atomic_checkpoint_io
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _atomic_checkpoint_io() -> type:
    from pytorch_lightning.plugins import TorchCheckpointIO

    class AtomicCheckpointIO(TorchCheckpointIO):
        """Checksum, torch.save to a temporary file beside the target, fsync, rename: a kill leaves no half file."""

        def save_checkpoint(self, checkpoint: dict[str, Any], path, storage_options: Any | None = None) -> None:
            save_checkpoint(checkpoint, path)

        def load_checkpoint(self, path, map_location: Any | None = None, weights_only: bool | None = None) -> dict:
            return load_checkpoint(path, map_location=map_location)

    AtomicCheckpointIO.__module__ = __name__
    AtomicCheckpointIO.__qualname__ = "AtomicCheckpointIO"
    return AtomicCheckpointIO
