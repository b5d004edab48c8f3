"""How a build scales with the number of books: synthetic corpora of 150, 1,500 and 6,000 books.

    python bench/bench_scale.py [--sizes 150,1500,6000] [--jobs N] [--texts mirror|site]
                                [--standin ../shared/gutenberg] [--keep DIR]

The books are made from the stand-in's real paragraphs: every English stand-in book is cleaned by
the pipeline, cut into paragraphs, and each synthetic book draws its own ~30,000 characters of
them at random (seeded by its id), so no two books are duplicates and every book costs about the
same to process. They are written, in a temporary folder (never in the repository), as a
Gutenberg rsync mirror (``1/0/0/1/5/10015/10015-0.txt``) beside a tiny site that serves
``pg_catalog.csv`` and ``robots.txt`` on 127.0.0.1; ``--texts site`` serves the texts too, at
``/cache/epub/N/pgN.txt``, instead of the mirror.

Each size is built with ``--language en --source catalog --mirror DIR`` (every English text), in
a fresh process, twice: cold (empty cache), then a no-op refresh. Printed per size: cold build
time, cost per book, no-op refresh time, and peak memory: the main process's peak RSS, the
largest worker's, and the largest sum over the build's processes sampled every 0.2 s (shared
pages counted once per process). Per-book cost and peak memory should stay flat (within 1.5x of
the smallest size). The last lines extrapolate to a 60,000-book English catalog on 2 and 16
cores: the main process's serial stages, plus the per-book steps shared by the cores, no faster
than the main process's own share of each book (fetching it, handing it to a worker) lets them go.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from standin import DEFAULT as STANDIN  # noqa: E402

from pipeline.config import available_cores  # noqa: E402

FIRST_ID = 100_001
BOOK_CHARS = 30_000
CATALOG_ENGLISH_BOOKS = 60_000


# -- the synthetic corpus ----------------------------------------------------------------------------------

def standin_paragraphs(standin: Path) -> list[str]:
    """Paragraphs (200 to 3,000 characters) of the stand-in's English books, cleaned by the pipeline."""
    from pipeline.clean.cleaner import clean

    site = standin / "site"
    with open(site / "cache/epub/feeds/pg_catalog.csv", encoding="utf-8", newline="") as handle:
        english = [row["Text#"] for row in csv.DictReader(handle) if row["Language"].strip() == "en"]
    paragraphs = []
    for book_id in english:
        path = site / f"cache/epub/{book_id}/pg{book_id}.txt"
        if path.is_file():
            text = clean(path.read_bytes()).text
            paragraphs += [p.strip() for p in re.split(r"\n\s*\n", text) if 200 <= len(p.strip()) <= 3000]
    if len(paragraphs) < 1000:
        sys.exit(f"error: only {len(paragraphs)} paragraphs in the stand-in at {standin}; pass --standin DIR")
    return paragraphs


def synthetic_text(book_id: int, paragraphs: list[str]) -> str:
    rng = random.Random(book_id)
    body, size = [], 0
    while size < BOOK_CHARS:
        paragraph = paragraphs[rng.randrange(len(paragraphs))]
        body.append(paragraph)
        size += len(paragraph) + 2
    title, author = f"Synthetic Book {book_id}", f"Writer {book_id}"
    upper = title.upper()
    return (f"The Project Gutenberg EBook of {title}, by {author}\n\n"
            f"This eBook is for the use of anyone anywhere at no cost and with\nalmost no restrictions whatsoever.\n\n"
            f"Title: {title}\n\nAuthor: {author}\n\nRelease Date: May 1, 2012 [EBook #{book_id}]\n\n"
            f"Language: English\n\nCharacter set encoding: UTF-8\n\n"
            f"*** START OF THIS PROJECT GUTENBERG EBOOK {upper} ***\n\n\n\n\n"
            + "\n\n".join(body)
            + f"\n\n\n\nEnd of the Project Gutenberg EBook of {title}, by {author}\n\n"
              f"*** END OF THIS PROJECT GUTENBERG EBOOK {upper} ***\n")


def write_corpus(root: Path, count: int, paragraphs: list[str], texts: str) -> None:
    """``root/site`` (catalog, robots.txt, and with ``texts == "site"`` the texts) and ``root/mirror``."""
    from pipeline.fetch.mirror import book_dir

    site, mirror = root / "site", root / "mirror"
    (site / "cache/epub/feeds").mkdir(parents=True)
    (site / "robots.txt").write_text("User-agent: *\nDisallow: /ebooks/search\n")
    with open(site / "cache/epub/feeds/pg_catalog.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["Text#", "Type", "Issued", "Title", "Language", "Authors", "Subjects", "LoCC", "Bookshelves"])
        for book_id in range(FIRST_ID, FIRST_ID + count):
            writer.writerow([book_id, "Text", "2012-05-01", f"Synthetic Book {book_id}", "en",
                             f"{book_id}, Writer", "Fiction", "PR", "Synthetic"])
    for book_id in range(FIRST_ID, FIRST_ID + count):
        data = synthetic_text(book_id, paragraphs).encode("utf-8")
        path = (site / f"cache/epub/{book_id}/pg{book_id}.txt" if texts == "site"
                else mirror / book_dir(book_id) / f"{book_id}-0.txt")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    mirror.mkdir(exist_ok=True)


class StaticSite:
    """``python -m http.server`` on 127.0.0.1 over ``folder`` (it answers If-Modified-Since with 304)."""

    def __init__(self, folder: Path):
        self.process = subprocess.Popen([sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1",
                                         "--directory", str(folder)], stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, text=True)
        line = self.process.stdout.readline()
        port = re.search(r"port (\d+)", line).group(1)
        self.base_url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


# -- one size, measured in its own process -----------------------------------------------------------------

def _status(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def _descendants(root: int) -> list[int]:
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parents[int(entry)] = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    found, frontier = [], [root]
    while frontier:
        pid = frontier.pop()
        children = [p for p, parent in parents.items() if parent == pid]
        found += children
        frontier += children
    return found


class MemorySampler:
    """Peak RSS of this process, of its largest descendant, and of all of them together (every 0.2 s)."""

    def __init__(self):
        self.peak_total = self.peak_worker = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.wait(0.2):
            others = _descendants(me)
            rss = [_status(p, "VmRSS") for p in others]
            self.peak_worker = max([self.peak_worker] + [_status(p, "VmHWM") for p in others])
            self.peak_total = max(self.peak_total, _status(me, "VmRSS") + sum(rss))

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def build_one(args) -> None:
    from pipeline.build.run import Build
    from pipeline.config import BuildConfig
    from pipeline.selection import Selector

    def config() -> BuildConfig:
        return BuildConfig(base_url=args.base_url, source="catalog", selectors=[Selector("language", "en")],
                           mirror=args.mirror or None, out=Path(args.out), jobs=args.jobs)

    with MemorySampler() as memory:
        started, main_cpu = time.perf_counter(), time.process_time()
        cold = Build(config(), progress=False).run()
        cold_seconds, main_cpu = time.perf_counter() - started, time.process_time() - main_cpu
    started = time.perf_counter()
    refresh = Build(config(), progress=False).run()
    refresh_seconds = time.perf_counter() - started
    assert not refresh.published, "the no-op refresh published a new version"
    print(json.dumps({"books": len(cold.books), "kept": len(cold.kept), "cold": cold_seconds,
                      "main_cpu": main_cpu, "refresh": refresh_seconds, "main_peak": _status(os.getpid(), "VmHWM"),
                      "worker_peak": memory.peak_worker, "total_peak": memory.peak_total,
                      "stages": {k: round(v, 2) for k, v in cold.stage_seconds.items()}}))


# -- the table -----------------------------------------------------------------------------------------------

def measure(size: int, root: Path, paragraphs: list[str], jobs: int, texts: str) -> dict:
    folder = root / f"books-{size}"
    started = time.perf_counter()
    write_corpus(folder, size, paragraphs, texts)
    print(f"  {size:,} books written in {time.perf_counter() - started:.1f} s; building...",
          file=sys.stderr, flush=True)
    site = StaticSite(folder / "site")
    try:
        mirror = str(folder / "mirror") if texts == "mirror" else ""
        child = subprocess.run([sys.executable, __file__, "--build-one", "--base-url", site.base_url,
                                "--mirror", mirror, "--out", str(folder / "corpora"), "--jobs", str(jobs)],
                               capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(REPO)))
    finally:
        site.stop()
    if child.returncode != 0:
        sys.exit(f"error: the build of {size} books failed:\n{child.stderr[-3000:]}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="150,1500,6000", help="books per corpus (150,1500,6000)")
    parser.add_argument("--jobs", type=int, default=available_cores(), help="--jobs of the builds (the cores)")
    parser.add_argument("--texts", choices=("mirror", "site"), default="mirror",
                        help="texts from a mirror directory, or served over loopback (mirror)")
    parser.add_argument("--standin", type=Path, default=STANDIN)
    parser.add_argument("--keep", type=Path, help="build under this folder and keep it (default: a temp folder)")
    parser.add_argument("--build-one", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--mirror", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_one:
        return build_one(args)

    sizes = [int(n) for n in args.sizes.split(",")]
    paragraphs = standin_paragraphs(args.standin)
    print(f"{len(paragraphs):,} paragraphs from the stand-in's English books; books of ~{BOOK_CHARS:,} characters; "
          f"texts from the {args.texts}; --jobs {args.jobs} on {available_cores()} cores", flush=True)
    with kept_or_temporary(args.keep) as root:
        rows = []
        for size in sizes:
            rows.append((size, measure(size, root, paragraphs, args.jobs, args.texts)))
            print_table(rows)

    print_stages(rows)
    per_book = [r["cold"] / r["books"] for _, r in rows]
    peaks = [r["total_peak"] for _, r in rows]
    print(f"\nper-book cost, largest/smallest: {max(per_book) / min(per_book):.2f}x; "
          f"peak memory (all processes), largest/smallest: {max(peaks) / min(peaks):.2f}x (target: both within 1.5x)")
    size, last = rows[-1]
    model = CatalogEstimate.from_run(last, args.jobs)
    print(f"\nfrom the {size:,}-book run: {model.serial_per_book * 1000:.1f} ms per book in the main process's "
          f"serial stages (listing, duplicates, splits, publish), {model.core_per_book * 1000:.0f} core-ms per book "
          f"in the per-book steps, of which {model.main_per_book * 1000:.1f} ms in the main process "
          f"(fetching, handing books to the workers): that caps the per-book steps at "
          f"{1 / max(model.main_per_book, 1e-6):,.0f} books/s however many cores")
    for cores in (2, 16):
        print(f"a {CATALOG_ENGLISH_BOOKS:,}-book English catalog from a mirror on {cores} cores: about "
              f"{duration(model.seconds(CATALOG_ENGLISH_BOOKS, cores))} cold; a no-op refresh about "
              f"{duration(last['refresh'] / last['books'] * CATALOG_ENGLISH_BOOKS)}")


SERIAL_STAGES = ("discover", "duplicates", "splits", "publish")


@dataclass
class CatalogEstimate:
    """A build's time as serial work in the main process plus per-book steps shared by the cores, which
    cannot go faster than the main process hands books out."""

    serial_per_book: float
    core_per_book: float
    main_per_book: float

    @classmethod
    def from_run(cls, run: dict, jobs: int) -> CatalogEstimate:
        books = run["books"]
        serial = sum(run["stages"].get(stage, 0.0) for stage in SERIAL_STAGES)
        per_book_wall = max(run["cold"] - serial, 0.0)
        return cls(serial_per_book=serial / books, core_per_book=per_book_wall * jobs / books,
                   main_per_book=max(run["main_cpu"] - serial, 0.0) / books)

    def seconds(self, books: int, cores: int) -> float:
        return books * (self.serial_per_book + max(self.core_per_book / cores, self.main_per_book))


def duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.0f} s"


@contextmanager
def kept_or_temporary(keep: Path | None):
    """``keep`` (created, and left in place afterwards), or a temporary folder removed at the end."""
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        if any(keep.iterdir()):
            sys.exit(f"error: --keep {keep} is not empty; pass an empty or new folder")
        yield keep
        print(f"the corpora, mirrors and catalogs are kept in {keep}", file=sys.stderr)
        return
    with tempfile.TemporaryDirectory() as temp:
        yield Path(temp)


STAGES = ("discover", "metadata", "download", "clean", "language", "profile", "duplicates", "splits", "publish")


def print_stages(rows) -> None:
    """Per book, ms in each stage (the per-book steps summed over threads and worker processes)."""
    print(f"\n{'ms per book':>12} " + " ".join(f"{stage:>10}" for stage in STAGES))
    for size, r in rows:
        print(f"{r['books']:>12,} " + " ".join(f"{r['stages'].get(stage, 0) / r['books'] * 1000:10.1f}"
                                          for stage in STAGES))


def print_table(rows) -> None:
    print(f"\n{'books':>6} {'kept':>6} {'cold s':>8} {'ms/book':>8} {'refresh s':>10} {'main MB':>8} "
          f"{'worker MB':>10} {'all MB':>8}")
    for size, r in rows:
        print(f"{r['books']:>6,} {r['kept']:>6,} {r['cold']:8.1f} {r['cold'] / r['books'] * 1000:8.1f} "
              f"{r['refresh']:10.2f} {r['main_peak'] / 2**20:8.0f} {r['worker_peak'] / 2**20:10.0f} "
              f"{r['total_peak'] / 2**20:8.0f}", flush=True)


if __name__ == "__main__":
    main()
