"""Writing files so that a reader, or a run killed half-way, never sees half of one."""

from __future__ import annotations

import errno
import hashlib
import os
import threading
import uuid
from pathlib import Path


class OutsideRootError(OSError):
    """A path that a symbolic link leads outside the folder the pipeline may write in."""


def check_inside(path: Path, root: Path) -> None:
    """Refuse to write ``path`` when its folder resolves outside ``root`` (a link planted under it), or
    when ``path`` itself is a symbolic link. Path checks on the text alone miss both."""
    real_root = os.path.realpath(root)
    real_parent = os.path.realpath(Path(path).parent)
    if os.path.commonpath([real_root, real_parent]) != real_root:
        raise OutsideRootError(errno.ELOOP, f"{Path(path).parent} leads outside {root} through a symbolic link; "
                                            f"refused to write there (remove the link)")
    if os.path.islink(path):
        raise OutsideRootError(errno.ELOOP, f"{path} is a symbolic link; refused to write through it "
                                            f"(remove the link)")


def make_folder(folder: Path, root: Path) -> None:
    """``folder`` and its parents, created only where they stay inside ``root``."""
    check_inside(Path(folder) / "_", root)
    Path(folder).mkdir(parents=True, exist_ok=True)


def create_file(path: Path, root: Path | None = None, *, exclusive: bool = False):
    """``path`` opened for binary writing, created or truncated, never through a symbolic link (``O_NOFOLLOW``),
    and with ``root``, only inside it. ``exclusive``: the name must be new (a temporary file)."""
    if root is not None:
        check_inside(path, root)
    flags = os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW | (os.O_EXCL if exclusive else os.O_TRUNC)
    return os.fdopen(os.open(path, flags, 0o644), "wb")


def no_follow(path, flags: int) -> int:
    """An ``opener`` for ``open()``: the file is never opened through a symbolic link."""
    return os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)


def write_atomically(path: Path, data: bytes, *, durable: bool = True, folders: FolderSyncs | None = None,
                     root: Path | None = None) -> None:
    """Write to a temporary name beside ``path``, then rename it into place.

    ``root``: the folder ``path`` must stay inside once links are resolved (see ``check_inside``); the
    rename replaces a link planted at ``path`` itself, never the file it points to.

    ``durable``: the data is flushed to disk before the rename and the folder after it, so a power
    cut leaves the old file or the new one, never an empty or a half-written one under the name.
    With ``folders``, the folder's flush is left to ``folders.flush()``: one per folder at the end
    of a stage instead of one per file, which halves what a stage writing thousands of files waits.
    """
    # pid and a random part: two threads, or two processes, may write the same path at once
    temp = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.part")
    if root is not None:
        check_inside(path.parent / "_", root)
    try:
        with create_file(temp, exclusive=True) as handle:
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

    def take(self) -> list[Path]:
        """The folders waiting for a flush, handed over to someone else's (a worker process's, to the main's)."""
        with self._lock:
            folders, self._folders = self._folders, set()
        return sorted(folders)

    def flush(self) -> None:
        for folder in self.take():
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
