"""One build per corpus at a time.

An exclusive ``flock`` on ``<corpus>/.lock`` that holds the owner's pid. The kernel drops the lock
when its process dies, however it dies, so a lock left by a killed run is simply taken over;
the pid left in the file tells whose it was.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path

from ..errors import LockedError, UsageError
from ..files import check_inside

log = logging.getLogger(__name__)


class CorpusLock:
    def __init__(self, corpus_dir: Path):
        self.path = Path(corpus_dir) / ".lock"
        self._fd: int | None = None
        self.taken_over_from: int | None = None
        """The pid of a dead run whose lock this run took over."""

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            check_inside(self.path, self.path.parent)
            # O_NOFOLLOW: a link planted at .lock would have the file it names truncated below
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise UsageError(f"cannot take the lock {self.path}: {exc.strerror or exc}; nothing was done") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = _read_pid(fd)
            os.close(fd)
            who = f"pid {owner}" if owner else "pid unknown"
            raise LockedError(f"another build is running ({who}) on {self.path.parent}; "
                              f"this run did nothing, try again when it ends") from None
        previous = _read_pid(fd)
        if previous and previous != os.getpid():
            self.taken_over_from = previous
            # info: a quiet nightly run says nothing of it unless something else happened (see the CLI)
            log.info("took over the lock of %s left by pid %s, which is no longer running",
                        self.path.parent, previous)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)  # an empty file: nobody to report as the owner any more
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> CorpusLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        return int(text) if text else None
    except (OSError, ValueError):
        return None
