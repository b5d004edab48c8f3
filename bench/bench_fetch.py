"""Fetch throughput: the pipeline's polite client + cache against a plain ``requests.get`` loop.

Serves ../shared/gutenberg over loopback with serve.py, then fetches every file of the stand-in
site (shelf index and pages, RDF, texts, catalog) with no delay:

  - baseline: ``for url in urls: requests.get(url)`` — no cache, no checks, nothing written;
  - pipeline: the Fetcher (polite client, temp file + fsync + rename, sha256, SQLite index),
    with --jobs workers and with one;
  - refresh: the same Fetcher again over the warm cache (conditional requests, all 304).

    python bench/bench_fetch.py [--jobs 4] [--standin ../shared/gutenberg]

Prints MB/s and each figure's ratio to the baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from standin import DEFAULT as STANDIN  # noqa: E402
from standin import serve_standin  # noqa: E402

from pipeline.config import HttpConfig  # noqa: E402
from pipeline.fetch.cache import RawCache  # noqa: E402
from pipeline.fetch.client import PoliteClient  # noqa: E402
from pipeline.fetch.fetcher import Fetcher  # noqa: E402


def site_urls(site: Path, base_url: str) -> list[str]:
    """Every file of the stand-in, as the URL serve.py answers it on."""
    urls = []
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        rel = path.relative_to(site).as_posix()
        if rel == "ebooks/bookshelf/index.html":
            urls.append(base_url + "/ebooks/bookshelf/")
        elif rel.startswith("ebooks/bookshelf/"):
            shelf, page = rel.split("/")[2], path.stem
            urls.append(f"{base_url}/ebooks/bookshelf/{shelf}" + ("" if page == "1" else f"?start_index={page}"))
        else:
            urls.append(f"{base_url}/{rel}")
    return urls


def plain_loop(urls: list[str]) -> int:
    total = 0
    for url in urls:
        response = requests.get(url, timeout=60)
        response.raise_for_status()
        total += len(response.content)
    return total


def pipeline_fetch(urls: list[str], cache_dir: Path, jobs: int) -> int:
    host = urlsplit(urls[0]).netloc
    client = PoliteClient(HttpConfig(delay=0), allowed_hosts={host}, delays={host: 0.0})
    fetcher = Fetcher(client, RawCache(cache_dir))
    with ThreadPoolExecutor(jobs) as pool:
        return sum(f.entry.size for f in pool.map(fetcher.fetch, urls))


def timed(fn, *args) -> tuple[float, int]:
    start = time.perf_counter()
    size = fn(*args)
    return time.perf_counter() - start, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--standin", type=Path, default=STANDIN)
    args = parser.parse_args()
    with serve_standin(args.standin) as base_url:
        urls = site_urls(args.standin / "site", base_url)
        plain_loop(urls[:5])  # warm the OS file cache for both sides
        rows = []
        seconds, size = timed(plain_loop, urls)
        rows.append(("requests.get loop (baseline)", seconds, size))
        with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as many:
            rows.append(("pipeline fetcher, 1 job", *timed(pipeline_fetch, urls, Path(one), 1)))
            rows.append((f"pipeline fetcher, {args.jobs} jobs", *timed(pipeline_fetch, urls, Path(many), args.jobs)))
            rows.append((f"refresh over warm cache, {args.jobs} jobs (304s)",
                         *timed(pipeline_fetch, urls, Path(many), args.jobs)))
    base_seconds = rows[0][1]
    print(f"{len(urls)} URLs, {rows[0][2] / 1e6:.1f} MB over loopback, no delay\n")
    print(f"{'':48} {'seconds':>8} {'MB/s':>8} {'vs baseline':>12}")
    for name, seconds, size in rows:
        print(f"{name:48} {seconds:8.2f} {size / 1e6 / seconds:8.1f} {base_seconds / seconds:11.2f}x")
    print("\nMB/s of the refresh counts the bytes served from the cache; 'vs baseline' is the baseline's time "
          "divided by the row's.")


if __name__ == "__main__":
    main()
