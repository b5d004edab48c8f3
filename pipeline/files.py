"""Writing files so that a reader, or a run killed half-way, never sees half of one."""

from __future__ import annotations

import hashlib
import os
import threading
import uuid
from pathlib import Path


def write_atomically(path: Path, data: bytes, *, durable: bool = True, folders: FolderSyncs | None = None) -> None:
    """Write to a temporary name beside ``path``, then rename it into place.

    ``durable``: the data is flushed to disk before the rename and the folder after it, so a power
    cut leaves the old file or the new one, never an empty or a half-written one under the name.
    With ``folders``, the folder's flush is left to ``folders.flush()``: one per folder at the end
    of a stage instead of one per file, which halves what a stage writing thousands of files waits.
    """
    # pid and a random part: two threads, or two processes, may write the same path at once
    temp = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.part")
    try:
        with open(temp, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temp, path)
        if durable and folders is not None:
            folders.add(path.parent)
        elif durable:
            fsync_dir(path.parent)
    finally:
        temp.unlink(missing_ok=True)


class FolderSyncs:
    """Folders holding renames not yet flushed to disk; ``flush()`` syncs each once (thread-safe)."""

    def __init__(self):
        self._folders: set[Path] = set()
        self._lock = threading.Lock()

    def add(self, folder: Path) -> None:
        with self._lock:
            self._folders.add(folder)

    def flush(self) -> None:
        with self._lock:
            folders, self._folders = self._folders, set()
        for folder in sorted(folders):
            fsync_dir(folder)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def seal(payload: bytes) -> bytes:
    """``payload`` behind a first line holding its sha256, so a damaged copy is known when read back."""
    return hashlib.sha256(payload).hexdigest().encode("ascii") + b"\n" + payload


def unseal(data: bytes) -> bytes | None:
    """The payload of a sealed file, or None when it does not match its recorded sha256."""
    digest, newline, payload = data.partition(b"\n")
    if not newline or len(digest) != 64 or hashlib.sha256(payload).hexdigest().encode("ascii") != digest:
        return None
    return payload
