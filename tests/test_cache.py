"""Raw cache + conditional fetching: reruns re-download nothing unchanged, damage is refetched."""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from urllib.parse import urlsplit

import pytest
from conftest import fast_http

from pipeline.errors import FetchError, NotFoundError
from pipeline.fetch.cache import RawCache
from pipeline.fetch.client import PoliteClient
from pipeline.fetch.fetcher import DOWNLOADED, NOT_MODIFIED, UNCHANGED, Fetcher

BOOK = "/cache/epub/101/pg101.txt"


def fetcher_for(site, cache_dir, **http) -> Fetcher:
    host = urlsplit(site.base_url).netloc
    client = PoliteClient(fast_http(**http), allowed_hosts={host}, delays={host: 0.0})
    return Fetcher(client, RawCache(cache_dir))


def test_first_fetch_downloads_and_indexes_the_bytes(site, tmp_path):
    fetched = fetcher_for(site, tmp_path).fetch(site.base_url + BOOK)
    assert fetched.state == DOWNLOADED
    assert fetched.read_bytes() == site.files[BOOK]
    assert fetched.entry.sha256 == hashlib.sha256(site.files[BOOK]).hexdigest()
    assert fetched.path.is_relative_to(tmp_path / "raw")


def test_a_rerun_sends_validators_and_downloads_nothing(site, tmp_path):
    fetcher_for(site, tmp_path).fetch(site.base_url + BOOK)
    site.clear_log()
    again = fetcher_for(site, tmp_path).fetch(site.base_url + BOOK)  # a new process: only the disk remembers
    assert again.state == NOT_MODIFIED
    [request] = site.requests_for(BOOK)
    assert request.conditional and request.status == 304
    assert again.read_bytes() == site.files[BOOK]


def test_a_changed_file_is_downloaded_again(site, tmp_path):
    fetcher_for(site, tmp_path).fetch(site.base_url + BOOK)
    site.files[BOOK] = site.files[BOOK] + b"\nA late correction.\n"
    again = fetcher_for(site, tmp_path).fetch(site.base_url + BOOK)
    assert again.state == DOWNLOADED
    assert again.read_bytes().endswith(b"A late correction.\n")


def test_a_server_that_ignores_validators_yields_unchanged(site, tmp_path):
    fetcher = fetcher_for(site, tmp_path)
    first = fetcher.fetch(site.base_url + BOOK)
    fetcher.cache._db.execute("UPDATE entries SET etag = NULL, last_modified = NULL")
    again = fetcher.fetch(site.base_url + BOOK)
    assert again.state == UNCHANGED
    assert again.entry.sha256 == first.entry.sha256


@pytest.mark.parametrize("damage", ["truncate", "flip", "delete"])
def test_a_damaged_cache_entry_is_fetched_again_unconditionally(site, tmp_path, damage):
    fetched = fetcher_for(site, tmp_path).fetch(site.base_url + BOOK)
    if damage == "truncate":
        fetched.path.write_bytes(fetched.read_bytes()[:100])
    elif damage == "flip":
        data = bytearray(fetched.read_bytes())
        data[50] ^= 0xFF
        fetched.path.write_bytes(bytes(data))
    else:
        fetched.path.unlink()
    site.clear_log()
    again = fetcher_for(site, tmp_path).fetch(site.base_url + BOOK)
    [request] = site.requests_for(BOOK)
    assert not request.conditional and request.status == 200
    assert again.state == DOWNLOADED
    assert again.read_bytes() == site.files[BOOK]


def test_a_failed_download_leaves_the_previous_copy_and_no_temp_file(site, tmp_path):
    fetcher = fetcher_for(site, tmp_path, retries=1)
    good = fetcher.fetch(site.base_url + BOOK)
    site.files[BOOK] = b"new bytes that never arrive whole" * 100
    site.fail(BOOK, "truncate", "truncate")
    with pytest.raises(FetchError, match="cut short"):
        fetcher.fetch(site.base_url + BOOK)
    assert good.path.read_bytes() != site.files[BOOK]
    assert fetcher.cache.is_intact(fetcher.cache.lookup(site.base_url + BOOK))
    assert not list((tmp_path / "raw").rglob("*.part"))


def test_404_is_not_cached(site, tmp_path):
    fetcher = fetcher_for(site, tmp_path)
    with pytest.raises(NotFoundError):
        fetcher.fetch(site.base_url + "/cache/epub/107/pg107.txt")
    assert fetcher.cache.lookup(site.base_url + "/cache/epub/107/pg107.txt") is None


def test_temp_files_of_dead_writers_are_removed_live_ones_kept(tmp_path):
    cache = RawCache(tmp_path)
    mine = cache.temp_path("http://h/a.txt")
    sleeper = subprocess.Popen(["sleep", "30"])
    dead = subprocess.Popen(["true"])
    dead.wait()
    alive = mine.with_name(f".b.txt.{sleeper.pid}-abcdef12.part")
    gone = mine.with_name(f".c.txt.{dead.pid}-abcdef12.part")
    old_alive = mine.with_name(f".d.txt.{sleeper.pid}-abcdef13.part")
    for part in (mine, alive, gone, old_alive):
        part.write_bytes(b"x")
    a_day_ago = time.time() - 86400
    os.utime(old_alive, (a_day_ago, a_day_ago))
    try:
        assert cache.remove_stale_parts() == 2
    finally:
        sleeper.kill()
    assert mine.exists() and alive.exists()
    assert not gone.exists() and not old_alive.exists()


def test_cache_paths_are_readable_and_distinct(tmp_path):
    cache = RawCache(tmp_path)
    urls = ["http://h:1/ebooks/bookshelf/", "http://h:1/ebooks/bookshelf/68",
            "http://h:1/ebooks/bookshelf/68?start_index=26", "http://h:1/cache/epub/68/pg68.txt"]
    paths = [cache.path_for(u).relative_to(tmp_path).as_posix() for u in urls]
    assert len(set(paths)) == len(urls)
    assert paths[3] == "raw/h_1/cache/epub/68/pg68.txt"


def test_robots_txt_disallow_is_respected(site, tmp_path):
    site.files["/robots.txt"] = b"User-agent: *\nDisallow: /cache/epub/101/\n"
    fetcher = fetcher_for(site, tmp_path)
    with pytest.raises(FetchError, match="disallowed by the host's robots.txt"):
        fetcher.fetch(site.base_url + BOOK)
    assert not site.requests_for(BOOK)
    assert fetcher.fetch(site.base_url + "/cache/epub/108/pg108.txt").state == DOWNLOADED


def test_robots_crawl_delay_slows_the_host_down(site, tmp_path):
    site.files["/robots.txt"] = b"User-agent: *\nCrawl-delay: 1\n"
    fetcher = fetcher_for(site, tmp_path)
    fetcher.fetch(site.base_url + BOOK)
    fetcher.fetch(site.base_url + "/cache/epub/108/pg108.txt")
    starts = [r.at for r in site.log]
    assert starts[2] - starts[1] >= 0.95


def test_a_missing_robots_txt_allows_everything(site, tmp_path):
    del site.files["/robots.txt"]
    assert fetcher_for(site, tmp_path).fetch(site.base_url + BOOK).state == DOWNLOADED


def test_local_files_are_copied_once_and_then_not_modified(tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    source = mirror / "1.txt"
    source.write_bytes(b"hello")
    fetcher = Fetcher(PoliteClient(fast_http(), allowed_hosts=set()), RawCache(tmp_path / "cache"))
    assert fetcher.fetch_local(source).state == DOWNLOADED
    assert fetcher.fetch_local(source).state == NOT_MODIFIED
    source.write_bytes(b"hello, world")
    changed = fetcher.fetch_local(source)
    assert changed.state == DOWNLOADED and changed.read_bytes() == b"hello, world"
    with pytest.raises(NotFoundError):
        fetcher.fetch_local(mirror / "2.txt")
