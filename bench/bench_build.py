"""The whole build from the stand-in over loopback: time per stage and per book; language cost vs length.

    python bench/bench_build.py [--jobs N] [--shelf science-fiction] [--standin ../shared/gutenberg]
                                [--speedup-jobs 1,2] [--rounds 3]

1. A cold build (empty cache) of the shelf, then a no-op refresh, each timed end to end, with the
   seconds each stage took (per-book stages are summed over the worker threads, so they can add
   up to more than the wall time). Baseline, side by side: a plain ``requests.get`` loop over the
   same book texts, which only downloads.
2. Every core: with warm downloads (the raw cache kept, the clean and analysis caches emptied, so
   every book is decoded, cleaned, language-checked and MinHashed again), the build with
   ``--jobs 1`` (CPU steps in this process) against ``--jobs 2`` (two worker processes), measured
   in the same run, alternately, best of ``--rounds`` (3); the speedup is their ratio.
3. The language step's cost per book against book length: the pipeline's ten sampled chunks,
   next to langdetect given the whole text (baseline), on cleaned stand-in books and on the
   longest one repeated up to 16 times. The pipeline's column must stay flat.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from standin import DEFAULT as STANDIN  # noqa: E402
from standin import serve_standin  # noqa: E402

from pipeline.build.run import Build  # noqa: E402
from pipeline.config import BuildConfig, available_cores  # noqa: E402
from pipeline.corpus.language import CHUNK_CHARS, CHUNKS, analyse_language, detect  # noqa: E402

STAGES = ("discover", "metadata", "download", "clean", "language", "profile", "duplicates", "splits", "publish")


def cpu_busy_share(seconds: float = 1.0) -> float:
    """The share of the machine's CPU time that was not idle over ``seconds`` (0 where /proc/stat is missing)."""
    def sample() -> tuple[int, int]:
        fields = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(fields), fields[3] + fields[4]  # total, idle + iowait

    try:
        total, idle = sample()
        time.sleep(seconds)
        total2, idle2 = sample()
    except (OSError, ValueError, IndexError):
        return 0.0
    return 1 - (idle2 - idle) / max(total2 - total, 1)


def timed_build(base_url: str, out: Path, shelf: str, jobs: int, cache_dir: Path | None = None):
    started = time.perf_counter()
    result = Build(BuildConfig(shelf=shelf, base_url=base_url, out=out, jobs=jobs, cache_dir=cache_dir),
                   progress=False).run()
    return time.perf_counter() - started, result


def warm_download_builds(base_url: str, cache_dir: Path, shelf: str, jobs: list[int], rounds: int) -> dict[int, float]:
    """Best seconds per job count of a build whose texts are cached but must be cleaned and analysed again."""
    best: dict[int, float] = {}
    for round_ in range(rounds):
        for n in jobs if round_ % 2 == 0 else reversed(jobs):  # alternate, so a slow spell hits both
            shutil.rmtree(cache_dir / "clean", ignore_errors=True)
            shutil.rmtree(cache_dir / "analysis", ignore_errors=True)
            with tempfile.TemporaryDirectory() as out:
                seconds, result = timed_build(base_url, Path(out), shelf, n, cache_dir)
            assert result.cleaned_from_cache == 0 and result.counts.by_status["downloaded"] == 0
            best[n] = min(best.get(n, seconds), seconds)
    return best


def baseline_download(result) -> float:
    urls = [b.text_url for b in result.books if b.text_url]
    started = time.perf_counter()
    for url in urls:
        requests.get(url, timeout=60).raise_for_status()
    return time.perf_counter() - started


def best_of(fn, text: str, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn(text)
        times.append(time.perf_counter() - started)
    return min(times)


def language_cost(result) -> list[tuple[str, int, float, float]]:
    books = sorted((b for b in result.books if b.clean_path), key=lambda b: b.clean_chars)
    picks = [books[0], books[len(books) // 4], books[len(books) // 2], books[3 * len(books) // 4], books[-1]]
    rows = []
    for book in picks:
        text = book.clean_path.read_text(encoding="utf-8")
        rows.append((f"#{book.id}", len(text), best_of(analyse_language, text), best_of(detect, text)))
    longest = books[-1].clean_path.read_text(encoding="utf-8")
    for times in (4, 16):
        text = "\n\n".join([longest] * times)
        rows.append((f"#{books[-1].id} x{times}", len(text), best_of(analyse_language, text), best_of(detect, text)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=available_cores(),
                        help="jobs of the cold build and the refresh (default: the machine's cores)")
    parser.add_argument("--speedup-jobs", default="1,2", help="job counts compared with warm downloads (1,2)")
    parser.add_argument("--rounds", type=int, default=3, help="warm-download builds per job count; best kept (3)")
    parser.add_argument("--shelf", default="science-fiction")
    parser.add_argument("--standin", type=Path, default=STANDIN)
    args = parser.parse_args()
    busy = cpu_busy_share()
    with serve_standin(args.standin) as base_url, tempfile.TemporaryDirectory() as out:
        cold_seconds, cold = timed_build(base_url, Path(out), args.shelf, args.jobs)
        warm_seconds, warm = timed_build(base_url, Path(out), args.shelf, args.jobs)
        speedup_jobs = [int(n) for n in args.speedup_jobs.split(",")]
        warm_downloads = warm_download_builds(base_url, Path(out) / ".cache", args.shelf, speedup_jobs, args.rounds)
        baseline = baseline_download(cold)
        languages = language_cost(cold)

    books = len(cold.books)
    megabytes = cold.counts.bytes_downloaded / 1e6
    print(f"shelf {cold.shelf.slug}: {books} books, {megabytes:.1f} MB, {len(cold.kept)} kept, jobs {args.jobs}, "
          f"no delay (loopback); {available_cores()} cores, {busy:.0%} busy in the second before the run")
    if busy > 0.1:
        print("  (the machine was busy: timings, and the speedup above all, are only meaningful on an idle one)")
    print()
    print(f"{'':34} {'seconds':>8} {'ms/book':>8} {'vs baseline':>12}")
    for name, seconds in (("requests.get of the texts (baseline)", baseline), ("cold build", cold_seconds),
                          ("no-op refresh", warm_seconds)):
        print(f"{name:34} {seconds:8.2f} {seconds / books * 1000:8.1f} {seconds / baseline:11.2f}x")
    print(f"\nno-op refresh published a new version: {warm.published} (target: False, under 5 s)")
    print(f"\n{'stage (thread/process-seconds)':34} {'cold':>8} {'refresh':>8} {'cold ms/book':>13}")
    for stage in STAGES:
        c, w = cold.stage_seconds.get(stage, 0.0), warm.stage_seconds.get(stage, 0.0)
        print(f"{stage:34} {c:8.2f} {w:8.2f} {c / books * 1000:13.1f}")

    first = speedup_jobs[0]
    print(f"\nwarm downloads (texts cached; every book cleaned, language-checked and MinHashed again), "
          f"best of {args.rounds}, on {available_cores()} cores:")
    for n in speedup_jobs:
        print(f"  --jobs {n:<3} {warm_downloads[n]:7.2f} s  {warm_downloads[n] / books * 1000:7.1f} ms/book  "
              f"speedup {warm_downloads[first] / warm_downloads[n]:.2f}x over --jobs {first}")
    print("  (target: --jobs 2 at least 1.7x faster than --jobs 1 on 2 cores)")

    print(f"\n{'language step per book':20} {'chars':>11} {'10 chunks ms':>13} {'whole text ms':>14}")
    for name, chars, sampled, whole in languages:
        print(f"{name:20} {chars:>11,} {sampled * 1000:13.1f} {whole * 1000:14.1f}")
    full = [row for row in languages if row[1] >= CHUNKS * CHUNK_CHARS]  # shorter books are read whole, in fewer chunks
    sampled, whole = [row[2] for row in full], [row[3] for row in full]
    print(f"\nbooks of {CHUNKS * CHUNK_CHARS:,}+ characters ({full[0][1]:,} to {full[-1][1]:,}, "
          f"{full[-1][1] / full[0][1]:.0f}x): 10 chunks slowest/fastest {max(sampled) / min(sampled):.2f}x "
          f"(median {statistics.median(sampled) * 1000:.1f} ms); "
          f"whole text longest/shortest {whole[-1] / whole[0]:.2f}x")


if __name__ == "__main__":
    main()
