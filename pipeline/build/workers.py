"""Worker processes for the CPU steps: decode, clean, language, profile (MinHash) run on every core.

langdetect, MinHash and the cleaner are pure Python and hold the GIL, so threads cannot spread
them over cores; processes can. The design is safe under ``spawn`` and ``forkserver`` (no state
is inherited by accident): the worker function is module-level, a book goes in and comes back
pickled (paths and small numbers, never its text), and each worker builds its own caches from
``CpuServices``. On Linux and macOS the pool uses ``forkserver`` with this package preloaded (and
langdetect's profiles loaded once, in the server), so a worker starts in milliseconds without
copying the parent's threads or locks; elsewhere it uses ``spawn``.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor

from ..book import Book
from .steps import BookContext, CpuServices, run_cpu_steps

PRELOAD = "pipeline.build._preload"
_services: CpuServices | None = None


PR_SET_PDEATHSIG = 1


def die_with_parent(*, by_signal: bool = True) -> None:
    """End this process when its parent ends, however it ends (``kill -9``, the OOM killer).

    On Linux the kernel sends SIGKILL at the parent's death (``prctl(PR_SET_PDEATHSIG)``); elsewhere, or
    without ``by_signal``, a thread watches for the parent to change. The signal comes when the parent
    *thread* that forked ends, so a process started from a short-lived thread (the forkserver, started by
    the pool's helper thread) must be watched instead. A parent already gone ends the process at once.
    """
    parent = os.getppid()
    if by_signal and sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
                if os.getppid() != parent:
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()


def _start_worker(services: CpuServices) -> None:
    # Ctrl-C reaches the whole process group: the main process alone decides what stops
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()  # a worker's parent is the forkserver, which itself dies with the build (_preload)
    global _services
    _services = services
    from ..corpus.language import _detector_factory

    _detector_factory()  # already loaded under forkserver; loaded once per worker under spawn


def _work(book: Book) -> tuple[Book, BookContext]:
    assert _services is not None, "worker not started"
    book, ctx = run_cpu_steps(book, _services)
    # renamed into place and flushed, but their folders not yet: the main process does that before publishing
    ctx.unsynced_folders = _services.folders.take()
    return book, ctx


def process_context():
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([PRELOAD])
        return context
    return multiprocessing.get_context("spawn")


def _ready() -> None:
    pass


class CpuPool:
    """``jobs`` worker processes; ``submit`` a book, get its ``(book, context)``.

    The workers are started at once, from a helper thread: starting one waits for the forkserver's
    preload (seconds on a busy machine), and a Ctrl-C landing in the main thread in the middle of a
    start would orphan a half-started worker that prints a traceback after the run has ended.
    Signals only ever interrupt the main thread, and ``shutdown`` waits for a start under way.

    ``shutdown(kill=True)`` (an interrupt: Ctrl-C, SIGTERM, the stop flag) does not wait for the books
    in the workers' hands: it kills the workers, so none outlives the build nor holds it up. A book
    cut short leaves at most a temporary file in the cache (every write is temp + rename).
    """

    def __init__(self, jobs: int, services: CpuServices):
        self.executor = ProcessPoolExecutor(max_workers=jobs, mp_context=process_context(),
                                            initializer=_start_worker, initargs=(services,))
        self._starter = threading.Thread(target=self._start_workers, args=(jobs,), name="start-workers", daemon=True)
        self._starter.start()

    def _start_workers(self, jobs: int) -> None:
        for _ in range(jobs):  # each submit starts a worker while none is idle
            try:
                self.executor.submit(_ready)
            except RuntimeError:  # shut down meanwhile
                return

    def submit(self, book: Book) -> Future:
        return self.executor.submit(_work, book)

    def shutdown(self, *, kill: bool = False) -> None:
        self._starter.join()  # no worker is half-started from here on
        if kill:
            self._kill_workers()
        self.executor.shutdown(wait=True, cancel_futures=True)

    def _kill_workers(self) -> None:
        kill_workers = getattr(self.executor, "kill_workers", None)  # Python 3.14
        if kill_workers is not None:
            kill_workers()
            return
        # before 3.14 there is no public way to stop a worker mid-book; the pool then sees its workers gone,
        # fails what was pending (nobody waits for it any more) and shuts down at once
        for process in list((getattr(self.executor, "_processes", None) or {}).values()):
            if process.is_alive():
                process.kill()
