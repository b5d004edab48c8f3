"""A hostile or broken site on 127.0.0.1: path tricks in links, dripping bodies, absurd headers,
binary bodies, a full disk and a corrupt cache index. None may write outside --out, hang the build,
or end in a traceback."""

from __future__ import annotations

import errno
import logging
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import fast_http
from fake_gutenberg import gutenberg_text, prose

from pipeline.book import FAILED, parse_book_id
from pipeline.build.run import Build
from pipeline.cli import main
from pipeline.discover.catalog import parse_catalog
from pipeline.discover.shelves import parse_shelf_page, slugify
from pipeline.errors import CacheWriteError, FetchError, Interrupted
from pipeline.fetch import client as http_client
from pipeline.fetch.cache import RawCache
from pipeline.fetch.client import PoliteClient, parse_content_length, parse_retry_after
from pipeline.fetch.fetcher import NOT_MODIFIED, Fetcher
from pipeline.fetch.site import GutenbergSite, UrlPolicy

REPO = Path(__file__).resolve().parents[1]
BOOK = "/cache/epub/101/pg101.txt"
PAGE_2 = "/ebooks/bookshelf/68?start_index=5"


def client_for(site, **http) -> PoliteClient:
    host = urlsplit(site.base_url).netloc
    return PoliteClient(fast_http(**http), allowed_hosts={host}, delays={host: 0.0},
                        policy=UrlPolicy(site.base_url))


def fetcher_for(site, cache_dir, **http) -> Fetcher:
    return Fetcher(client_for(site, **http), RawCache(cache_dir))


def files_outside(root: Path, allowed: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and not p.is_relative_to(allowed)]


# -- path tricks ------------------------------------------------------------------------------------

TRICKS = [
    "{base}/ebooks/../../../../../escaped-dots",
    "{base}/ebooks/bookshelf/68/../../../../../../escaped-dots?start_index=5",
    "{base}/ebooks/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/escaped-encoded",
    "{base}/ebooks/bookshelf/%2E%2E%2f%2E%2E%2f%2E%2E%2fescaped?start_index=5",
    "/escaped-absolute",
    "/ebooks/bookshelf/69?start_index=5",
    "http://127.0.0.2:9/ebooks/bookshelf/68?start_index=5",
    "{base}\\..\\..\\..\\..\\escaped-backslash",
    "\\..\\..\\..\\escaped-backslash?start_index=5",
    "/ebooks/bookshelf/68?start_index=\u0665",
    "/ebooks/bookshelf/68?start_index=5&next=/../../../escaped",
    "/ebooks/\u0661\u0662\u0663",
]


@pytest.mark.parametrize("trick", TRICKS)
def test_a_next_link_with_a_path_trick_is_never_followed_nor_written(site, make_config, tmp_path, trick, caplog):
    site.catch_all = b"whatever a client that followed the trick would write"
    page1 = "/ebooks/bookshelf/68"
    href = trick.format(base=site.base_url)
    site.link_next(page1, href)
    out = tmp_path / "corpora"
    with caplog.at_level(logging.WARNING):
        result = Build(make_config(out=out), progress=False).run()
    assert "ignored its Next link" in caplog.text
    assert {b.id for b in result.books} == {101, 102, 103, 104}  # the first page only
    assert not site.requests_for(PAGE_2)
    assert not [p for p in site.requested_paths() if "escaped" in p or "69" in p]
    assert files_outside(tmp_path, out) == []


def test_redirects_off_the_known_paths_are_refused(site, tmp_path):
    site.catch_all = b"evil"
    fetcher = fetcher_for(site, tmp_path / "cache")
    for location in ("/../../../../escaped", "/tmp/escaped", site.base_url + "/ebooks/%2e%2e/%2e%2e/escaped"):
        site.redirects[BOOK] = location
        with pytest.raises(FetchError, match="refused"):
            fetcher.fetch(site.base_url + BOOK)
    assert not [p for p in site.requested_paths() if "escaped" in p]
    assert files_outside(tmp_path, tmp_path / "cache") == []


@pytest.mark.parametrize("url", [
    "http://h:1/ebooks/../../../../../../tmp/x", "http://h:1/ebooks/%2e%2e/%2e%2e/x", "http://h:1/..",
    "http://h:1/a\\..\\..\\x", "http://../../x", "http://h:1/./.hidden/..", "http://h:1/x?../../y",
    "http://h:1/" + "a" * 5000, "http://h:1/\u0661\u0662/..%2f..", "file:///../../etc/passwd",
])
def test_no_url_names_a_cache_path_outside_raw(tmp_path, url):
    cache = RawCache(tmp_path)
    path = cache.path_for(url)
    assert path.is_relative_to(tmp_path / "raw")
    relative = path.relative_to(tmp_path / "raw").parts
    assert not any(part in (".", "..") or part.startswith(".") for part in relative)
    assert all(len(part) <= 255 for part in relative)


def test_only_the_sites_known_paths_are_allowed():
    policy = UrlPolicy("http://127.0.0.1:5", mirror_url="http://127.0.0.1:6/mirror/")
    allowed = ["/robots.txt", "/ebooks/bookshelf/", "/ebooks/bookshelf/68", "/ebooks/bookshelf/68?start_index=26",
               "/cache/epub/123/pg123.txt", "/cache/epub/123/pg123.rdf", "/files/123/123-0.txt",
               "/cache/epub/feeds/pg_catalog.csv", "/ebooks/author/37", "/ebooks/bookshelf/68/?start_index=26"]
    for path in allowed:
        assert policy.refusal("http://127.0.0.1:5" + path) is None, path
    assert policy.refusal("http://127.0.0.1:6/mirror/1/2/123/123-0.txt") is None
    refused = ["/ebooks/../etc", "/cache/epub/123/pg124.txt", "/cache/epub/\u0661/pg\u0661.txt",
               "/cache/epub/%31/pg1.txt", "/ebooks/bookshelf/68?start_index=1&x=y", "/tmp/x",
               "/cache/epub/12345678/pg12345678.txt", "/files/1/1-0.txt/..", "//127.0.0.1:5/robots.txt"]
    for path in refused:
        assert policy.refusal("http://127.0.0.1:5" + path), path
    assert policy.refusal("http://127.0.0.2:5/robots.txt")
    assert policy.refusal("http://127.0.0.1:6/mirror/../1/2/123/123-0.txt")


# -- book ids ---------------------------------------------------------------------------------------

def test_book_ids_are_ascii_digits_in_a_sane_range():
    assert parse_book_id("123") == 123
    for text in ("\u0661\u0662\u0663", "\u00b2", "0", "-5", "9" * 5000, "12345678", "1e3", ""):
        assert parse_book_id(text) is None, text


def test_shelf_pages_skip_links_that_are_not_book_ids(caplog):
    items = "".join(f'<li class="booklink"><a class="link" href="/ebooks/{n}"><span class="title">T{n}</span></a></li>'
                    for n in ("\u0661\u0662\u0663", "9" * 5000, "77"))
    with caplog.at_level(logging.WARNING):
        page = parse_shelf_page(f'<meta name="totalResults" content="{"9" * 5000}"/><ul>{items}</ul>',
                                "http://h/ebooks/bookshelf/1")
    assert [b.id for b in page.books] == [77]
    assert "ignored 2 book link(s)" in caplog.text


def test_the_catalog_skips_ids_that_are_not_book_ids():
    data = ("Text#,Type,Issued,Title,Language,Authors,Subjects,LoCC,Bookshelves\n"
            f"\u0661\u0662\u0663,Text,,A,en,X,,,Science Fiction\n{'9' * 5000},Text,,B,en,X,,,Science Fiction\n"
            "5,Text,,C,en,X,,,Science Fiction\n")
    assert [b.id for b in parse_catalog(data.encode())] == [5]


def test_a_shelf_name_cannot_make_a_path():
    for name in ("../../etc", "..", "a/b\\c", "x" * 5000, "\u0661\u0662"):
        slug = slugify(name)
        assert "/" not in slug and "\\" not in slug and "." not in slug and 0 < len(slug) <= 80


# -- absurd headers ---------------------------------------------------------------------------------

def test_header_parsers_take_ascii_digits_only():
    assert parse_content_length("42") == 42
    assert parse_content_length("9" * 5000) > 10**17
    with pytest.raises(ValueError, match="invalid Content-Length"):
        parse_content_length("\u00b2")
    assert parse_retry_after("\u00b2") is None
    assert parse_retry_after("9" * 5000) == float("inf")


def test_a_content_length_of_a_superscript_two_is_a_failed_attempt(site, tmp_path):
    site.raw_headers[BOOK] = [("Content-Length", "\u00b2")]
    with pytest.raises(FetchError, match=r"invalid Content-Length header '\\xb2' after 2 attempts"):
        client_for(site, retries=1).get_to_file(site.base_url + BOOK, tmp_path / "b")
    assert len(site.requests_for(BOOK)) == 2


def test_a_content_length_of_5000_digits_is_over_the_cap(site, tmp_path):
    site.raw_headers[BOOK] = [("Content-Length", "9" * 5000)]
    with pytest.raises(FetchError, match="over the size cap"):
        client_for(site).get_to_file(site.base_url + BOOK, tmp_path / "b")
    assert len(site.requests_for(BOOK)) == 1


@pytest.mark.parametrize("value", ["\u00b2", "9" * 5000])
def test_an_absurd_retry_after_still_retries_within_the_backoff_cap(site, tmp_path, value):
    site.retry_after = value
    site.fail(BOOK, "503")
    result = client_for(site, max_backoff=0.3).get_to_file(site.base_url + BOOK, tmp_path / "b")
    assert result.status == 200
    assert [r.status for r in site.requests_for(BOOK)] == [503, 200]


@pytest.mark.parametrize("value", ["\u00b2", "9" * 5000, "1/\u00b2"])
def test_an_absurd_crawl_delay_is_ignored_with_a_warning(site, tmp_path, value, caplog):
    rule = "Request-rate" if "/" in value else "Crawl-delay"
    site.files["/robots.txt"] = f"User-agent: *\n{rule}: {value}\nDisallow: /cache/epub/102/\n".encode()
    fetcher = fetcher_for(site, tmp_path)
    with caplog.at_level(logging.WARNING):
        fetcher.fetch(site.base_url + BOOK)
    assert "not a number of seconds" in caplog.text
    with pytest.raises(FetchError, match="disallowed"):  # the rest of robots.txt still holds
        fetcher.fetch(site.base_url + "/cache/epub/102/pg102.txt")


def test_a_day_long_crawl_delay_is_capped_with_a_warning_naming_the_host(site, tmp_path, caplog):
    site.files["/robots.txt"] = b"User-agent: *\nCrawl-delay: 100000\n"
    fetcher = fetcher_for(site, tmp_path, max_crawl_delay=0.5)
    host = urlsplit(site.base_url).netloc
    with caplog.at_level(logging.WARNING):
        fetcher.fetch(site.base_url + BOOK)
        fetcher.fetch(site.base_url + "/cache/epub/108/pg108.txt")
    assert f"{host} asks in its robots.txt for 100000 s" in caplog.text and "waiting 0.5 s instead" in caplog.text
    assert fetcher.client.gate(host).delay == 0.5
    first, second = (site.requests_for(p)[0].at for p in (BOOK, "/cache/epub/108/pg108.txt"))
    assert second - first >= 0.45


def test_the_default_crawl_delay_cap_is_a_minute():
    from pipeline.config import HttpConfig

    assert HttpConfig().max_crawl_delay == 60


def test_a_book_whose_text_has_absurd_headers_fails_with_its_reason(site, tmp_path, capsys):
    site.raw_headers[BOOK] = [("Content-Length", "\u00b2")]
    code = main(["build", "--shelf", "68", "--base-url", site.base_url, "--out", str(tmp_path), "-q",
                 "--retries", "1"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "#101  invalid Content-Length header '\\xb2' after 2 attempts" in out
    assert "Traceback" not in err


# -- binary bodies ----------------------------------------------------------------------------------

def test_binary_pages_rdf_and_robots_do_not_crash_the_build(site, make_config):
    noise = bytes(range(256)) * 40
    site.files["/robots.txt"] = noise
    site.files["/cache/epub/101/pg101.rdf"] = noise
    result = Build(make_config(), progress=False).run()
    book = {b.id: b for b in result.books}[101]
    assert result.metadata_notes[101].startswith("no RDF metadata (RDF does not parse")
    assert book.status != FAILED


def test_a_binary_shelf_index_is_a_one_line_error(site, tmp_path, capsys):
    site.files["/ebooks/bookshelf/"] = bytes(range(256)) * 40
    code = main(["build", "--shelf", "68", "--base-url", site.base_url, "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 3 and "lists no bookshelves" in err and len(err.strip().splitlines()) == 1


def test_a_binary_catalog_is_not_a_traceback():
    assert parse_catalog(b"Text#,Type,Issued,Title,Language,Authors,Subjects,LoCC,Bookshelves\n"
                         + bytes(range(256)) * 10) == []


# -- dripping bodies, deadlines and signals ----------------------------------------------------------

def test_a_dripping_body_fails_at_the_request_deadline_without_retries(site, tmp_path):
    site.drip[BOOK] = 0.05
    began = time.monotonic()
    with pytest.raises(FetchError, match=r"not complete after 1 s.*--request-deadline"):
        client_for(site, request_deadline=1.0).get_to_file(site.base_url + BOOK, tmp_path / "b")
    assert time.monotonic() - began < 10  # the body alone would take minutes
    assert len(site.requests_for(BOOK)) == 1


def test_a_server_that_never_answers_fails_at_the_deadline(site, tmp_path):
    site.response_delay = 30
    with pytest.raises(FetchError, match="not complete after 1 s"):
        client_for(site, request_deadline=1.0, read_timeout=60).get_to_file(site.base_url + BOOK, tmp_path / "b")


@pytest.mark.parametrize("where", ["body", "headers"])
def test_the_stop_flag_interrupts_a_request_at_once(site, tmp_path, where):
    if where == "body":
        site.drip[BOOK] = 1.0
    else:
        site.response_delay = 30
    client = client_for(site, read_timeout=60)
    stopper = __import__("threading").Timer(0.5, client.stop.set)
    stopper.start()
    began = time.monotonic()
    with pytest.raises(Interrupted):
        client.get_to_file(site.base_url + BOOK, tmp_path / "b")
    assert time.monotonic() - began < 5  # within a second or so of the stop, not the read timeout


def start_build(site, out: Path, *extra: str, **popen) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "pipeline", "build", "--shelf", "68", "--base-url", site.base_url,
                             "--out", str(out), "-q", *extra], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **popen)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_build_stuck_on_a_dripping_body_stops_within_2_s_of_a_signal(site, tmp_path, sig):
    site.drip[BOOK] = 1.0
    process = start_build(site, tmp_path)
    deadline = time.monotonic() + 120
    while not site.requests_for(BOOK) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert site.requests_for(BOOK), "the build never asked for the dripping text"
    time.sleep(1.5)  # it is now in the middle of reading the body
    assert process.poll() is None
    signalled = time.monotonic()
    process.send_signal(sig)
    _, err = process.communicate(timeout=60)
    took = time.monotonic() - signalled
    print(f"{signal.Signals(sig).name}: exit {process.returncode} {took:.2f} s after the signal")
    assert process.returncode == 130, err
    assert took < 2.0, f"stopped {took:.1f} s after the signal"
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    lock = tmp_path / "science-fiction" / ".lock"
    assert lock.read_text() == ""  # released by the run itself, not only dropped by the kernel


# -- a full disk ------------------------------------------------------------------------------------

class _FullDisk:
    def __init__(self, real):
        self.real = real

    def write(self, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.real.close()


def test_a_full_disk_while_fetching_fails_the_book_with_its_reason(site, make_config, monkeypatch):
    real_open = open

    def full_for_one_book(path, mode="r", *args, **kwargs):
        handle = real_open(path, mode, *args, **kwargs)
        return _FullDisk(handle) if "pg101.txt" in str(path) and "w" in mode else handle

    monkeypatch.setattr(http_client, "open", full_for_one_book, raising=False)
    result = Build(make_config(), progress=False).run()
    book = {b.id: b for b in result.books}[101]
    assert book.status == FAILED and "No space left on device" in book.reason
    assert result.exit_code == 1
    assert not list((make_config().resolved_cache_dir / "raw").rglob("*.part"))


def test_a_full_disk_raises_a_cache_write_error(site, tmp_path, monkeypatch):
    monkeypatch.setattr(http_client, "open", lambda path, mode="r", *a, **k: _FullDisk(open(os.devnull, "wb")),
                        raising=False)
    with pytest.raises(CacheWriteError, match="No space left on device"):
        fetcher_for(site, tmp_path).fetch(site.base_url + BOOK)


def test_a_file_size_limit_mid_build_is_reported_not_a_traceback(site, tmp_path):
    big = gutenberg_text(101, "The Clockwork Comet", "Ada Vance", prose(101) * 300).encode()
    site.files[BOOK] = big
    limit = 2 * 1024 * 1024
    assert len(big) > limit

    def limited():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    process = start_build(site, tmp_path, preexec_fn=limited)
    out, err = process.communicate(timeout=300)
    assert "Traceback" not in err, err
    assert process.returncode == 1, err
    assert "#101  " in out and "File too large" in out


# -- a corrupt cache index --------------------------------------------------------------------------

def fill_cache(site, cache_dir: Path) -> list[str]:
    fetcher = fetcher_for(site, cache_dir)
    urls = [site.base_url + p for p in site.files if p.startswith("/cache/epub/") and not p.endswith(".csv")]
    for url in urls:
        fetcher.fetch(url)
    fetcher.cache.close()
    return urls


def test_a_cache_index_that_is_not_a_database_is_moved_aside_and_rebuilt(site, tmp_path, caplog):
    urls = fill_cache(site, tmp_path)
    sound = RawCache(tmp_path)
    sound.lookup(urls[0]).path.write_bytes(b"a cached file that no longer matches its sidecar")
    sound.close()
    (tmp_path / "http.sqlite").write_bytes(b"this is not a database, it is a text file" * 100)
    with caplog.at_level(logging.WARNING):
        cache = RawCache(tmp_path)
    assert caplog.text.count("was corrupt") == 1
    # the texts and RDFs less the damaged one, and robots.txt
    assert f"rebuilt it from the {len(urls) - 1 + 1} cached files that verify" in caplog.text
    assert list(tmp_path.glob("http.sqlite.corrupt-*"))
    assert cache.lookup(urls[0]) is None
    site.clear_log()
    fetcher = Fetcher(client_for(site), cache)
    assert {fetcher.fetch(url).state for url in urls[1:]} == {NOT_MODIFIED}
    assert all(r.conditional for r in site.log if r.path != "/robots.txt")
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        RawCache(tmp_path)
    assert "corrupt" not in caplog.text  # warned once: the rebuilt index is sound


def test_a_cache_index_with_malformed_pages_is_rebuilt(site, tmp_path, caplog):
    urls = fill_cache(site, tmp_path)
    db = tmp_path / "http.sqlite"
    data = bytearray(db.read_bytes())
    assert len(data) >= 3 * 4096, "the index should span several pages"
    data[4096:len(data)] = bytes([0xA5]) * (len(data) - 4096)  # every page but the header page
    db.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING):
        cache = RawCache(tmp_path)
    assert "was corrupt" in caplog.text
    assert all(cache.is_intact(cache.lookup(url)) for url in urls)


def test_a_build_on_a_corrupt_index_warns_once_and_succeeds(site, tmp_path, capsys, caplog):
    first = start_build(site, tmp_path)  # another process, closed and gone, as in cron
    first.communicate(timeout=300)
    assert first.returncode == 1  # book 107 has no text
    argv = ["build", "--shelf", "68", "--base-url", site.base_url, "--out", str(tmp_path), "-q"]
    (tmp_path / ".cache" / "http.sqlite").write_bytes(b"\0garbage" * 1000)
    with caplog.at_level(logging.WARNING):
        assert main(argv) == 1
    out, err = capsys.readouterr()
    assert caplog.text.count("was corrupt") == 1 and "Traceback" not in err
    assert "unchanged:" in out


# -- RDF that fails ----------------------------------------------------------------------------------

RDF = "/cache/epub/101/pg101.rdf"


def test_a_book_whose_rdf_fails_with_5xx_fails_for_the_run(site, make_config):
    site.fail(RDF, *["503"] * 10)
    site.retry_after = "0"
    result = Build(make_config(http=fast_http(retries=1)), progress=False).run()
    book = {b.id: b for b in result.books}[101]
    assert book.status == FAILED
    assert book.reason.startswith("RDF metadata could not be fetched: HTTP 503 after 2 attempts")
    assert 101 not in {b.id for b in result.kept}
    assert result.exit_code == 1
    assert not site.requests_for(BOOK)  # its text is not even fetched


def test_a_book_whose_rdf_fails_keeps_its_last_good_metadata(site, make_config):
    Build(make_config(), progress=False).run()
    site.books[101].title = "A Title Nobody Should See"
    site.fail(RDF, *["500"] * 10)
    site.retry_after = "0"
    result = Build(make_config(http=fast_http(retries=1)), progress=False).run()
    book = {b.id: b for b in result.books}[101]
    assert book.usable and book.title == "The Clockwork Comet"
    assert "RDF: HTTP 500 after 2 attempts" in book.stale
    assert result.exit_code == 1


# -- an empty shelf ----------------------------------------------------------------------------------

def test_an_empty_shelf_is_reported_as_empty(site, tmp_path, capsys):
    site.shelves[219] = "Continental Monthly"
    site.render()
    site.files["/ebooks/bookshelf/219"] = (
        b'<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n<html><head><title>Continental Monthly | '
        b'Project Gutenberg</title></head><body><div class="container"><div id="content" class="page_content">'
        b"<h1>Continental Monthly</h1><p>No books on this shelf.</p></div></div></body></html>")
    code = main(["build", "--shelf", "219", "--base-url", site.base_url, "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 3
    assert err.strip().splitlines() == [
        "error: shelf 'Continental Monthly' (id 219) is empty: its page says \"No books on this shelf.\"; "
        "nothing was built"]
    assert "layout" not in err


def test_a_page_without_books_and_without_that_sentence_is_still_a_layout_change():
    from pipeline.errors import LayoutChangedError

    with pytest.raises(LayoutChangedError):
        parse_shelf_page("<html><body><p>Service unavailable</p></body></html>", "http://h/ebooks/bookshelf/1")


def test_site_urls_for_a_book_are_all_allowed():
    site = GutenbergSite("http://127.0.0.1:5")
    policy = UrlPolicy(site.base_url)
    for url in [site.rdf_url(9_999_999), site.catalog_url, site.shelf_index_url, site.shelf_url(68, 26),
                *site.text_urls(12345)]:
        assert policy.refusal(url) is None, url


def test_request_deadline_is_an_option_of_build(site, tmp_path, capsys):
    site.drip[BOOK] = 0.2
    code = main(["build", "--shelf", "68", "--base-url", site.base_url, "--out", str(tmp_path), "-q",
                 "--request-deadline", "1"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "#101  " in out and "not complete after 1 s, the deadline of one request (--request-deadline)" in out
    code = main(["build", "--shelf", "68", "--base-url", site.base_url, "--out", str(tmp_path),
                 "--request-deadline", "0"])
    err = capsys.readouterr().err
    assert code == 2 and err.strip().splitlines() == ["error: --request-deadline must be more than 0 seconds, not 0.0"]


def test_a_5000_digit_shelf_id_is_a_one_line_error(site, tmp_path, capsys):
    code = main(["build", "--shelf", "9" * 5000, "--base-url", site.base_url, "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "no shelf has id 999999999999... (5000 digits)" in err and len(err.splitlines()) == 1
