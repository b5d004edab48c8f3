"""``build`` end to end against the tests' site: statuses, reruns, changes, mirrors, faults."""

from __future__ import annotations

import hashlib

import pytest

from pipeline.book import DOWNLOADED, FAILED, NOT_MODIFIED, SKIPPED
from pipeline.build.run import Build
from pipeline.config import CorpusConfig
from pipeline.errors import ConfigError, ShelfNotFoundError, SourceError
from pipeline.fetch.cache import RawCache

SF_IDS = {101, 102, 103, 104, 105, 106, 107, 108}
FETCHABLE = {101, 102, 103, 104, 106, 108}


def by_id(result):
    return {b.id: b for b in result.books}


def test_a_build_fetches_every_book_of_the_shelf(site, make_config):
    result = Build(make_config(), progress=False).run()
    books = by_id(result)
    assert set(books) == SF_IDS
    assert {i for i, b in books.items() if b.fetched == DOWNLOADED} == FETCHABLE
    assert books[105].status == SKIPPED and books[105].reason == "not text: Sound"
    assert books[107].status == FAILED and "no plain-text file" in books[107].reason
    assert "/files/107/107-0.txt" in books[107].reason
    assert books[106].text_url.endswith("/files/106/106-0.txt")
    assert 104 in result.metadata_notes
    assert result.exit_code == 1
    for book_id in FETCHABLE:
        book = books[book_id]
        expected = site.books[book_id].text
        assert book.raw_path.read_bytes() == expected
        assert book.raw_sha256 == hashlib.sha256(expected).hexdigest()
    assert result.counts.by_status[DOWNLOADED] == len(FETCHABLE)
    assert result.counts.skip_reasons == {"not text: Sound": 1}
    assert result.counts.bytes_downloaded == sum(len(site.books[i].text) for i in FETCHABLE)


def test_a_second_run_downloads_nothing(site, make_config):
    Build(make_config(), progress=False).run()
    site.clear_log()
    result = Build(make_config(), progress=False).run()
    assert site.count(200) == 0
    assert {i for i, b in by_id(result).items() if b.fetched == NOT_MODIFIED} == FETCHABLE
    # the text that moved to /files/ is asked for where it was found, not at the 404 first
    assert not site.requests_for("/cache/epub/106/pg106.txt")


def test_a_changed_book_is_the_only_one_downloaded_again(site, make_config):
    Build(make_config(), progress=False).run()
    site.books[101].text += b"\nErrata: page 12.\n"
    site.render()
    site.clear_log()
    result = Build(make_config(), progress=False).run()
    assert {i for i, b in by_id(result).items() if b.fetched == DOWNLOADED} == {101}
    assert [r.path for r in site.log if r.status == 200] == ["/cache/epub/101/pg101.txt"]


def test_a_book_added_to_the_shelf_is_picked_up(site, make_config):
    Build(make_config(), progress=False).run()
    site.books[109].shelves.append("Science Fiction")
    site.render()
    result = Build(make_config(), progress=False).run()
    assert by_id(result)[109].fetched == DOWNLOADED
    assert result.counts.by_status[DOWNLOADED] == 1


def test_faults_on_every_kind_of_request_still_end_with_every_book(site, make_config):
    site.retry_after = "0"
    for path in ["/ebooks/bookshelf/", "/ebooks/bookshelf/68?start_index=5", "/cache/epub/101/pg101.rdf"]:
        site.fail(path, "503")
    site.fail("/cache/epub/102/pg102.txt", "truncate", "429")
    site.fail("/cache/epub/104/pg104.txt", "reset", "500")
    result = Build(make_config(), progress=False).run()
    assert {i for i, b in by_id(result).items() if b.fetched == DOWNLOADED} == FETCHABLE
    assert by_id(result)[102].raw_path.read_bytes() == site.books[102].text


def test_a_book_that_keeps_failing_fails_alone(site, make_config):
    site.fail("/cache/epub/101/pg101.txt", *["503"] * 20)
    site.retry_after = "0"
    config = make_config()
    config.http.retries = 2
    result = Build(config, progress=False).run()
    books = by_id(result)
    assert books[101].status == FAILED and "HTTP 503 after 3 attempts" in books[101].reason
    assert {i for i, b in books.items() if b.fetched == DOWNLOADED} == FETCHABLE - {101}


def test_catalog_source_finds_the_same_books(site, make_config):
    result = Build(make_config(source="catalog"), progress=False).run()
    assert set(by_id(result)) == SF_IDS
    assert not site.requests_for("/ebooks/bookshelf/68")


def test_dry_run_lists_books_and_fetches_no_book(site, make_config):
    result = Build(make_config(dry_run=True), progress=False).run()
    assert set(by_id(result)) == SF_IDS
    assert not [r for r in site.log if r.path.startswith("/cache/epub/")]


def test_a_local_mirror_supplies_the_texts(site, make_config, tmp_path):
    mirror = tmp_path / "mirror"
    for book_id in (101, 102, 108):
        folder = mirror.joinpath(*str(book_id)[:-1], str(book_id))
        folder.mkdir(parents=True)
        (folder / f"{book_id}-0.txt").write_bytes(site.books[book_id].text)
    result = Build(make_config(mirror=str(mirror)), progress=False).run()
    books = by_id(result)
    assert books[101].text_url == str(mirror / "1/0/101/101-0.txt")
    assert books[101].raw_path.read_bytes() == site.books[101].text
    assert books[103].status == FAILED and "103-0.txt" in books[103].reason
    assert not [r for r in site.log if r.path.endswith(".txt") and r.path != "/robots.txt"]
    again = Build(make_config(mirror=str(mirror)), progress=False).run()
    assert by_id(again)[101].fetched == NOT_MODIFIED


def test_a_mirror_url_supplies_the_texts(site, make_config):
    site.files["/mirror/1/0/101/101-8.txt"] = site.books[101].text
    # the mirror holds one book: a corpus of one, published as such
    result = Build(make_config(mirror=site.base_url + "/mirror", corpus=CorpusConfig(allow_empty_splits=True)),
                   progress=False).run()
    book = by_id(result)[101]
    assert book.fetched == DOWNLOADED and book.text_url.endswith("/mirror/1/0/101/101-8.txt")
    assert site.requests_for("/mirror/1/0/101/101-0.txt", 404)


def test_the_cache_lives_beside_the_corpora(site, make_config, tmp_path):
    Build(make_config(), progress=False).run()
    assert (tmp_path / "corpora" / ".cache" / "http.sqlite").is_file()
    cache = RawCache(tmp_path / "corpora" / ".cache")
    assert cache.lookup(site.base_url + "/cache/epub/101/pg101.txt") is not None


def test_an_unknown_shelf_fails_before_any_book_request(site, make_config):
    with pytest.raises(ShelfNotFoundError):
        Build(make_config(shelf="space opera"), progress=False).run()
    assert not [r for r in site.log if r.path.startswith("/cache/")]


def test_an_unreachable_site_is_a_source_error(make_config):
    config = make_config(base_url="http://127.0.0.1:9")
    config.http.retries = 0
    with pytest.raises(SourceError, match="cannot read the shelf index.*check --base-url"):
        Build(config, progress=False).run()


@pytest.mark.parametrize("overrides, message", [
    (dict(base_url="ftp://x"), "is not an http"),
    (dict(source="rss"), "--source must be"),
    (dict(mirror="/no/such/mirror"), "no such directory"),
    (dict(jobs=0), "--jobs must be"),
    (dict(shelf=" "), "--shelf is empty"),
])
def test_the_whole_config_is_validated_before_any_request(site, make_config, overrides, message):
    with pytest.raises(ConfigError, match=message):
        Build(make_config(**overrides), progress=False).run()
    assert site.log == []


def test_a_negative_delay_is_refused(make_config):
    config = make_config()
    config.http.delay = -1
    with pytest.raises(ConfigError, match="--delay"):
        Build(config, progress=False)


# -- the cleaning stage --------------------------------------------------------------------------------

def test_fetched_books_are_cleaned_and_audited_in_the_published_version(site, make_config, tmp_path):
    import json

    result = Build(make_config(), progress=False).run()
    books = by_id(result)
    latin = books[102].clean_path.read_text(encoding="utf-8")
    assert latin.startswith("VOYAGE TO THE ICE MOON") and "crème brûlée" in latin
    assert "Gutenberg" not in latin and "Produced by" not in latin
    assert books[102].encoding == "iso-8859-1" and books[104].encoding == "utf-8-sig"
    assert result.cleaned == len(FETCHABLE) and result.cleaned_from_cache == 0
    audit = tmp_path / "corpora" / "science-fiction" / "current" / "cleaning.jsonl"
    records = [json.loads(line) for line in audit.open()]
    assert [r["id"] for r in records] == sorted(FETCHABLE)
    rules = {c["rule"] for r in records for c in r["cuts"]}
    assert {"header", "footer", "credits"} <= rules


def test_a_rerun_recleans_only_changed_books(site, make_config):
    Build(make_config(), progress=False).run()
    site.books[101].text = site.books[101].text.replace(b"THE END", b"THE VERY END")
    site.render()
    result = Build(make_config(), progress=False).run()
    assert result.cleaned_from_cache == len(FETCHABLE) - 1
    assert "THE VERY END" in by_id(result)[101].clean_path.read_text(encoding="utf-8")


def test_a_new_cleaner_version_recleans_everything(site, make_config, monkeypatch):
    Build(make_config(), progress=False).run()
    monkeypatch.setattr("pipeline.clean.cache.CLEANER_VERSION", 10_000)
    result = Build(make_config(jobs=1), progress=False).run()  # one job: the CPU steps run here, patched
    assert result.cleaned == len(FETCHABLE) and result.cleaned_from_cache == 0


def test_a_book_that_cleans_to_nothing_is_skipped_with_the_reason(site, make_config):
    site.books[108].text = (b"The Project Gutenberg EBook of Nothing\n\n*** START OF THIS PROJECT GUTENBERG EBOOK"
                            b" NOTHING ***\n\n\n*** END OF THIS PROJECT GUTENBERG EBOOK NOTHING ***\n")
    site.render()
    book = by_id(Build(make_config(), progress=False).run())[108]
    assert book.status == SKIPPED and book.reason == "empty after cleaning"


def test_an_unexpected_error_on_one_book_fails_that_book_alone(site, make_config, monkeypatch):
    from pipeline.clean.cache import CleanCache

    original = CleanCache.clean_book

    def clean_book(self, book):
        if book.id == 101:
            raise ValueError("something odd in this file")
        return original(self, book)

    monkeypatch.setattr(CleanCache, "clean_book", clean_book)
    result = Build(make_config(jobs=1), progress=False).run()  # one job: the CPU steps run here, patched
    books = by_id(result)
    assert books[101].status == FAILED and "ValueError: something odd in this file" in books[101].reason
    assert {i for i, b in books.items() if b.clean_path is not None} == FETCHABLE - {101}


def test_atomic_writes_of_one_path_from_many_threads_do_not_collide(tmp_path):
    import threading

    from pipeline.files import write_atomically

    errors = []

    def write(n):
        try:
            for _ in range(50):
                write_atomically(tmp_path / "same.txt", f"writer {n}".encode())
        except OSError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert (tmp_path / "same.txt").read_text().startswith("writer ")
    assert not list(tmp_path.glob("*.part"))
