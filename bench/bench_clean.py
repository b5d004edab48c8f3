"""Cleaning throughput: decode + strip every text of the stand-in, against decode + split lines.

    python bench/bench_clean.py [--standin ../shared/gutenberg] [--repeat 3] [--processes 2]

Both sides run in the same process over the same bytes already in memory (no disk reads in the
timing), best of --repeat runs. The cleaner's target is 50 MB/s per core. With --processes N the
texts are also cleaned by N worker processes, and the per-core figure is the total divided by N.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.clean import clean  # noqa: E402
from pipeline.decode import decode  # noqa: E402

TARGET_MB_S = 50.0


def decode_and_split(raws: list[bytes]) -> int:
    return sum(len(decode(raw).text.split("\n")) for raw in raws)


def decode_and_clean(raws: list[bytes]) -> int:
    return sum(len(clean(raw).text) for raw in raws)


def best_of(repeat: int, fn, raws) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn(raws)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--standin", type=Path, default=REPO.parent / "shared" / "gutenberg")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    files = sorted((args.standin / "site").rglob("pg*.txt")) + sorted((args.standin / "samples").rglob("*.txt"))
    if not files:
        sys.exit(f"error: no texts under {args.standin}; pass --standin DIR")
    raws = [f.read_bytes() for f in files]
    megabytes = sum(map(len, raws)) / 1e6
    baseline = best_of(args.repeat, decode_and_split, raws)
    cleaner = best_of(args.repeat, decode_and_clean, raws)
    print(f"{len(raws)} texts, {megabytes:.1f} MB, best of {args.repeat}\n")
    print(f"{'':40} {'seconds':>8} {'MB/s/core':>10} {'vs baseline':>12}")
    print(f"{'decode + split lines (baseline)':40} {baseline:8.2f} {megabytes / baseline:10.1f} {1:11.2f}x")
    print(f"{'decode + clean (pipeline.clean)':40} {cleaner:8.2f} {megabytes / cleaner:10.1f} "
          f"{baseline / cleaner:11.2f}x")
    if args.processes > 1:
        chunks = [raws[i::args.processes] for i in range(args.processes)]
        with ProcessPoolExecutor(args.processes) as pool:
            list(pool.map(decode_and_clean, chunks))  # start the workers outside the timing
            start = time.perf_counter()
            list(pool.map(decode_and_clean, chunks))
            seconds = time.perf_counter() - start
        print(f"{f'decode + clean, {args.processes} processes':40} {seconds:8.2f} "
              f"{megabytes / seconds / args.processes:10.1f} {'':>12}  ({megabytes / seconds:.1f} MB/s in all)")
    verdict = "meets" if megabytes / cleaner >= TARGET_MB_S else "misses"
    print(f"\ntarget: {TARGET_MB_S:.0f} MB/s per core for decode + strip: {verdict} it "
          f"({megabytes / cleaner:.1f} MB/s on one core)")


if __name__ == "__main__":
    main()
