"""Ctrl-C and SIGTERM while worker processes are cleaning and analysing: the build stops within 2 s,
exits 130 with one line, releases the corpus's lock, and leaves no worker process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from fake_gutenberg import FakeBook, FakeGutenberg, gutenberg_text, prose

from pipeline.build.run import MIN_BOOKS_FOR_WORKERS, Build
from pipeline.config import BuildConfig, CorpusConfig
from pipeline.errors import Interrupted

REPO = Path(__file__).resolve().parents[1]
BIG = (301, 302)
"""Books of some 14 MB each: seconds of MinHash in a worker, so the signal lands while the workers work."""


def shelf_with_two_big_books() -> FakeGutenberg:
    books = []
    for n in range(MIN_BOOKS_FOR_WORKERS):  # enough books for the build to start its workers
        book_id = 301 + n
        body = prose(book_id, paragraphs=40_000 if book_id in BIG else 30)
        books.append(FakeBook(book_id, f"Story {book_id}", "Writer, A.", ["Science Fiction"],
                              text=gutenberg_text(book_id, f"Story {book_id}", "A. Writer", body).encode("utf-8")))
    return FakeGutenberg(books=books, shelves={68: "Science Fiction"})


@pytest.fixture
def site():
    server = shelf_with_two_big_books()
    server.start()
    yield server
    server.stop()


def descendants(pid: int, *, below: int = 0) -> set[int]:
    """Live processes under ``pid`` (its children, theirs...), from /proc; ``below=1``: grandchildren on."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            if fields[0] != "Z":
                parents[int(entry.name)] = int(fields[1])
    found, frontier, depth = set(), {pid}, 0
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        depth += 1
        if depth > below:
            found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return state[state.rindex(")") + 2] != "Z"


def wait_until_the_workers_work(site: FakeGutenberg, process: subprocess.Popen) -> set[int]:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and process.poll() is None:
        served = all(site.requests_for(f"/cache/epub/{n}/pg{n}.txt", 200) for n in BIG)
        workers = descendants(process.pid)
        if served and len(workers) >= 3:  # the forkserver and both workers
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the build never got both big books to its workers (exit {process.poll()})")
    time.sleep(1.0)  # both workers are now in the middle of the big books
    return descendants(process.pid)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process tree from /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_while_workers_clean_stops_within_2_s_and_leaves_no_worker(site, tmp_path, sig):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "build", "--shelf", "68", "--base-url", site.base_url,
         "--out", str(tmp_path), "--jobs", "2", "--min-words", "100", "-q"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        workers = wait_until_the_workers_work(site, process)
        assert process.poll() is None and workers
        signalled = time.monotonic()
        if sig == signal.SIGINT:
            os.killpg(process.pid, sig)  # Ctrl-C: the whole process group gets it, workers included
        else:
            process.send_signal(sig)  # kill PID, cron, systemd: the main process alone
        _, err = process.communicate(timeout=60)
        took = time.monotonic() - signalled
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    print(f"{signal.Signals(sig).name}: exit {process.returncode} {took:.2f} s after the signal")
    assert process.returncode == 130, err
    assert took < 2.0, f"stopped {took:.1f} s after the signal"
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert (tmp_path / "science-fiction" / ".lock").read_text() == ""
    deadline = time.monotonic() + 5  # the forkserver notices its parent is gone; workers must be gone already
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in workers if alive(pid)], "a worker process outlived the build"


def test_the_stop_flag_stops_a_build_whose_workers_are_busy(site, tmp_path):
    config = BuildConfig(shelf="68", base_url=site.base_url, out=tmp_path, jobs=2,
                         corpus=CorpusConfig(min_words=100))
    stop = threading.Event()
    build = Build(config, progress=False, stop=stop)
    # the pool's workers are forked by the forkserver, this process's child, which lives on for later pools
    before = descendants(os.getpid(), below=1)

    def stop_when_busy():
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if all(site.requests_for(f"/cache/epub/{n}/pg{n}.txt", 200) for n in BIG) and \
                    len(descendants(os.getpid(), below=1) - before) >= 2:
                break
            time.sleep(0.1)
        time.sleep(1.0)
        stopped.append(time.monotonic())
        stop.set()

    stopped: list[float] = []
    threading.Thread(target=stop_when_busy, daemon=True).start()
    with pytest.raises(Interrupted):
        build.run()
    took = time.monotonic() - stopped[0]
    assert took < 2.0, f"stopped {took:.1f} s after the flag"
    assert not descendants(os.getpid(), below=1) - before, "a worker process outlived the build"
    assert (tmp_path / "science-fiction" / ".lock").read_text() == ""


def test_the_next_build_removes_what_a_killed_worker_left_in_the_clean_and_analysis_caches(site, tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()
    left = [tmp_path / ".cache" / kind / "ab" / f".{name}.{dead.pid}-abcdef12.part"
            for kind, name in (("clean", "ab12.v1.txt"), ("analysis", "ab12.v1.a1.json"))]
    live = tmp_path / ".cache" / "clean" / "cd" / f".cd34.v1.txt.{os.getpid()}-abcdef12.part"
    for part in (*left, live):
        part.parent.mkdir(parents=True, exist_ok=True)
        part.write_bytes(b"half a text")
    config = BuildConfig(shelf="68", base_url=site.base_url, out=tmp_path, jobs=1, dry_run=True)
    Build(config, progress=False).run()
    assert not any(part.exists() for part in left)
    assert live.exists()  # its writer (this process) is alive
