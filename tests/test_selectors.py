"""Selectors: authors, Top 100, ids, subjects, a language, and their union, against the tests' own site."""

from __future__ import annotations

import csv
import logging
import re

import pytest
from conftest import THIRDS, fast_http
from fake_selectors import WELLS_LIKE, SelectorSite

from pipeline.build.run import Build
from pipeline.cli import main
from pipeline.config import BuildConfig, CorpusConfig
from pipeline.discover.authors import author_keys, same_author
from pipeline.discover.top import parse_top_authors, parse_top_books
from pipeline.errors import ConfigError, EmptySelectionError, SelectorNotFoundError
from pipeline.fetch.site import UrlPolicy
from pipeline.selection import Selector, parse_ids, read_ids_file

QUILL_IDS = {201, 202, 203, 204, 205, 206}


@pytest.fixture
def quill_site():
    site = SelectorSite.with_quill()
    site.start()
    yield site
    site.stop()


@pytest.fixture
def config(quill_site, tmp_path):
    def make(*selectors: Selector, **overrides) -> BuildConfig:
        settings = dict(base_url=quill_site.base_url, out=tmp_path / "corpora", http=fast_http(),
                        selectors=list(selectors), jobs=1, corpus=CorpusConfig(min_words=500))
        settings.update(overrides)
        return BuildConfig(**settings)

    return make


def listed(config: BuildConfig):
    build = Build(config, progress=False)
    selection = build.resolve()
    return selection, build.list_books(selection)


def read_books_csv(corpus_dir):
    with open(corpus_dir / "current" / "books.csv", encoding="utf-8", newline="") as handle:
        return {int(row["id"]): row for row in csv.DictReader(handle)}


# -- names, ids, slugs ----------------------------------------------------------------------------------

@pytest.mark.parametrize("query", ["Wells, H. G.", "H. G. Wells", "wells, h.g.", "Wells, H. G. (Herbert George)"])
def test_an_author_is_matched_however_it_is_written(query):
    assert same_author(query, "Wells, H. G. (Herbert George), 1866-1946 [Illustrator]")


def test_different_authors_do_not_match():
    assert not same_author("Wells, Carolyn", "Wells, H. G. (Herbert George), 1866-1946")
    assert author_keys("Homer, 751? BCE-651? BCE") == {"homer"}


def test_ids_parse_and_a_bad_one_is_named():
    assert parse_ids("84, 1342,2701 84") == [84, 1342, 2701]
    with pytest.raises(ConfigError, match="'13x' is not a book id"):
        parse_ids("84,13x")


def test_an_ids_file_takes_comments_and_names_a_bad_line(tmp_path):
    good = tmp_path / "picks.txt"
    good.write_text("# my picks\n84   # Frankenstein\n\n1342\n84\n")
    assert read_ids_file(good) == [84, 1342]
    bad = tmp_path / "bad.txt"
    bad.write_text("84\nPride and Prejudice\n")
    with pytest.raises(ConfigError, match="line 2: 'Pride and Prejudice' is not a book id"):
        read_ids_file(bad)
    with pytest.raises(ConfigError, match="--ids-file .*missing.txt"):
        read_ids_file(tmp_path / "missing.txt")


@pytest.mark.parametrize("selector, slug", [
    (Selector("top", "100"), "top-100"), (Selector("top", "20", period=7), "top-20-last7"),
    (Selector("author", "Wells, H. G."), "author-wells-h-g"), (Selector("author", "30"), "author-30"),
    (Selector("ids", "84,1342,2701"), "ids-84-1342-2701"), (Selector("ids-file", "lists/My Picks.txt"), "ids-my-picks"),
    (Selector("subject", "Science fiction"), "subject-science-fiction"), (Selector("language", "en"), "language-en"),
])
def test_one_selector_names_its_folder(selector, slug):
    assert selector.slug() == slug


@pytest.mark.parametrize("overrides, message", [
    (dict(selectors=[]), "give at least one selector"),
    (dict(shelf="68", selectors=[Selector("top", "10")]), "2 selectors given: name the corpus folder with --name"),
    (dict(selectors=[Selector("subject", "Science fiction")]),
     "--subject reads the offline catalog: add --source catalog"),
    (dict(selectors=[Selector("top", "101")]), "--top 101: give a count from 1 to 100"),
    (dict(selectors=[Selector("top", "5", period=3)]), "--top-period 3"),
    (dict(selectors=[Selector("ids", "1,2,3,4,5,6")]), "--ids lists 6 books: name the corpus folder with --name"),
    (dict(selectors=[Selector("top", "5")], name="../escape"), "--name '../escape'"),
    (dict(selectors=[Selector("top", "\u00b2")]), "--top \u00b2: give a count from 1 to 100"),
    (dict(selectors=[Selector("top", "9" * 5000)]), "--top '999999999999'... (5000 characters): give a count"),
    (dict(selectors=[Selector("author", "\u00b2")]), "--author '\u00b2': an author id is ASCII digits"),
    (dict(selectors=[Selector("author", "0")]), "--author '0': an author id is ASCII digits"),
    (dict(selectors=[Selector("author", "9" * 5000)]), "--author '999999999999'... (5000 characters): an author id"),
    (dict(selectors=[Selector("ids", "84,\u0661\u0662\u0663")]), "--ids: '\u0661\u0662\u0663' is not a book id"),
])
def test_a_bad_selection_is_refused_before_any_request(quill_site, tmp_path, overrides, message):
    settings = dict(base_url=quill_site.base_url, out=tmp_path, http=fast_http())
    settings.update(overrides)
    with pytest.raises(ConfigError, match=re.escape(message)):
        Build(BuildConfig(**settings), progress=False)
    assert quill_site.log == []


@pytest.mark.parametrize("bad", ["\u0661\u0662\u0663", "\u00b2", "0", "12345678", "9" * 5000])
def test_ids_that_are_not_book_ids_are_one_short_line(tmp_path, bad):
    with pytest.raises(ConfigError, match=r"is not a book id \(ASCII digits, 1 to 9,999,999\)") as raised:
        parse_ids(f"84,{bad}")
    assert len(str(raised.value)) < 200
    picks = tmp_path / "picks.txt"
    picks.write_text(f"84\n{bad}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="line 2: .* is not a book id") as raised:
        read_ids_file(picks)
    assert len(str(raised.value)) < 300


def test_the_url_policy_knows_the_author_and_top_pages_and_nothing_more():
    base = "http://127.0.0.1:5"
    policy = UrlPolicy(base)
    for path in ("/browse/scores/top", "/ebooks/author/30", "/ebooks/author/30?start_index=26"):
        assert policy.refusal(base + path) is None, path
    for path in ("/browse/scores/top?x=1", "/browse/scores/top/", "/browse/scores/", "/browse/scores/top-100",
                 "/browse/scores/top/../../etc", "/browse/scores/top/%2e%2e", "/ebooks/author/30?start_index=26&x=1",
                 "/ebooks/author/30?sort=title", "/ebooks/author/\u0661", "/ebooks/author/12345678",
                 "/ebooks/author/30/books", "/ebooks/author/"):
        assert policy.refusal(base + path), path


# -- the Top 100 page ------------------------------------------------------------------------------------

def test_the_top_page_parses_each_period(quill_site):
    page = quill_site.files["/browse/scores/top"]
    url = quill_site.base_url + "/browse/scores/top"
    for period in (1, 7, 30):
        books = parse_top_books(page, url, period)
        assert [b.id for b in books] == [b.id for b in quill_site.ranking(period)]
    yesterday = parse_top_books(page, url, 1)
    assert (yesterday[0].id, yesterday[0].title, yesterday[0].author) == (201, "Quill Story 1", "Arthur B. Quill")
    assert [b.id for b in parse_top_books(page, url, 7)] != [b.id for b in yesterday]
    authors = parse_top_authors(page, url)
    assert any(a.name == "Quill, Arthur B. (Arthur Bramwell)" for a in authors)


def test_the_top_page_skips_links_that_are_not_ids():
    links = "".join(f'<li><a href="/ebooks/{n}">Title {i} by A (5)</a></li>'
                    for i, n in enumerate(("\u0661\u0662\u0663", "9" * 5000, "12345678", "77")))
    authors = "".join(f'<li><a href="/ebooks/author/{n}">Writer (5)</a></li>' for n in ("\u0663", "9" * 5000, "37"))
    page = (f'<h2 id="books-last1">Top</h2><ol>{links}</ol>'
            f'<h2 id="authors-last1">Top authors</h2><ol>{authors}</ol>')
    assert [b.id for b in parse_top_books(page, "http://127.0.0.1:5/browse/scores/top")] == [77]
    assert [a.id for a in parse_top_authors(page, "http://127.0.0.1:5/browse/scores/top")] == [37]


def test_top_n_lists_the_n_most_downloaded(config, quill_site):
    selection, books = listed(config(Selector("top", "3", period=30)))
    assert selection.slug == "top-3-last30"
    assert [b.id for b in books] == [b.id for b in quill_site.ranking(30)[:3]]
    assert all(b.selected_by == ["top:3:last30"] for b in books)


# -- authors ------------------------------------------------------------------------------------------------

def test_an_author_by_name_reads_every_page_and_agrees_with_the_catalog(config, quill_site):
    selection, site_books = listed(config(Selector("author", "Quill, Arthur B.")))
    author_id = quill_site.author_ids[WELLS_LIKE]
    assert selection.slug == "author-quill-arthur-b"
    assert {b.id for b in site_books} == QUILL_IDS
    assert quill_site.requests_for(f"/ebooks/author/{author_id}?start_index=5"), "the second page was not read"
    _, catalog_books = listed(config(Selector("author", "Arthur B. Quill"), source="catalog"))
    assert {b.id for b in catalog_books} == QUILL_IDS
    _, by_id = listed(config(Selector("author", str(author_id))))
    assert {b.id for b in by_id} == QUILL_IDS


@pytest.mark.parametrize("source, where", [("shelf", "site's Top 100 authors"), ("catalog", "catalog")])
def test_an_unknown_author_names_the_closest(config, source, where):
    with pytest.raises(SelectorNotFoundError, match=f"no author named 'Quil, Arthur' in the {where}.*"
                                                    r"closest: 'Quill, Arthur B\. \(Arthur Bramwell\)"):
        Build(config(Selector("author", "Quil, Arthur"), source=source), progress=False).resolve()


def test_an_author_id_the_site_does_not_know_is_one_line(config):
    build = Build(config(Selector("author", "999999")), progress=False)
    with pytest.raises(SelectorNotFoundError, match="no author has id 999999"):
        build.list_books(build.resolve())


@pytest.mark.parametrize("href", [
    "/ebooks/author/{other}?start_index=5",                # another author's page
    "/ebooks/author/{id}/../../../etc/passwd?start_index=5",
    "/ebooks/author/{id}?start_index=5&x=1",
    "http://127.0.0.2:{port}/ebooks/author/{id}?start_index=5",
    "/ebooks/author/{id}?start_index=%35",
])
def test_an_author_pages_next_link_leads_only_to_that_authors_next_page(config, quill_site, caplog, href):
    author_id = quill_site.author_ids[WELLS_LIKE]
    other = next(i for name, i in quill_site.author_ids.items() if i != author_id)
    first = f"/ebooks/author/{author_id}"
    quill_site.link_next(first, href.format(id=author_id, other=other, port=quill_site.base_url.rsplit(":", 1)[1]))
    quill_site.catch_all = b"what a client that followed the link would write"
    with caplog.at_level(logging.WARNING):
        _, books = listed(config(Selector("author", str(author_id))))
    assert len(books) == quill_site.per_page  # the first page only
    assert "does not lead to another page" in caplog.text
    assert [p for p in quill_site.requested_paths() if "/ebooks/" in p] == [first]


# -- ids, subjects, a language --------------------------------------------------------------------------

def test_ids_and_an_ids_file_list_those_books(config, tmp_path):
    picks = tmp_path / "picks.txt"
    picks.write_text("110  # sea\n# none\n109\n")
    selection, books = listed(config(Selector("ids", "101,102"), Selector("ids-file", str(picks)), name="picked"))
    assert [b.id for b in books] == [101, 102, 110, 109]
    assert books[2].selected_by == ["ids-file:picks.txt"] and books[0].selected_by == ["ids"]
    assert selection.slug == "picked"


def test_a_subject_matches_headings_and_main_headings(config):
    _, books = listed(config(Selector("subject", "science FICTION"), source="catalog"))
    assert {b.id for b in books} == {101, 201, 202}
    _, books = listed(config(Selector("subject", "Time travel"), source="catalog"))
    assert {b.id for b in books} == {201}


def test_an_unknown_subject_names_the_closest(config):
    with pytest.raises(SelectorNotFoundError, match="no subject 'Sciense fiction'.*closest: 'Science fiction'"):
        Build(config(Selector("subject", "Sciense fiction"), source="catalog"), progress=False).resolve()


def test_a_language_lists_every_text_in_it(config):
    _, books = listed(config(Selector("language", "fr"), source="catalog"))
    assert [b.id for b in books] == [103]


def test_an_empty_selection_is_one_line(config):
    with pytest.raises(EmptySelectionError, match="language fi lists no books"):
        listed(config(Selector("language", "fi"), source="catalog"))


# -- the union, built -------------------------------------------------------------------------------------

def test_a_union_holds_each_book_once_and_says_who_brought_it(config, quill_site):
    cfg = config(Selector("author", "Quill, Arthur B."), Selector("ids", "101,201,109"), shelf="science-fiction",
                 name="sf-and-quill")
    result = Build(cfg, progress=False).run()
    ids = [b.id for b in result.books]
    assert len(ids) == len(set(ids))
    assert set(ids) == {101, 102, 103, 104, 105, 106, 107, 108, 109} | QUILL_IDS
    rows = read_books_csv(result.corpus_dir)
    assert result.corpus_dir.name == "sf-and-quill"
    assert rows[201]["selected_by"] == "shelf:science-fiction author:quill-arthur-b ids"
    assert rows[202]["selected_by"] == "author:quill-arthur-b"
    assert rows[109]["selected_by"] == "ids"
    assert rows[102]["selected_by"] == "shelf:science-fiction"
    assert rows[202]["status"] == "kept" and rows[109]["status"] == "kept"


def test_a_changing_top_list_never_moves_a_kept_book(config, quill_site):
    cfg = config(Selector("top", "8"), corpus=CorpusConfig(min_words=500, split_ratios=THIRDS))
    first = Build(cfg, progress=False).run()
    before = {b.id: b.split for b in first.kept}
    quill_site.books[110].downloads = 5000  # a new favourite pushes the eighth book out
    quill_site.books[109].downloads = 4000
    quill_site.render()
    second = Build(cfg, progress=False).run()
    after = {b.id: b.split for b in second.kept}
    assert {109, 110} <= set(after) and not {109, 110} <= set(before)
    assert set(before) - set(after), "the list should have dropped a book"
    assert all(after[i] == before[i] for i in set(before) & set(after))
    assert second.published


# -- the command line --------------------------------------------------------------------------------------

@pytest.mark.parametrize("argv, message", [
    (["--author", "Nobody, At All"], "error: no author named 'Nobody, At All'"),
    (["--subject", "Sciense fiction", "--source", "catalog"], "closest: 'Science fiction'"),
    (["--top", "5", "--author", "5000"], "2 selectors given: name the corpus folder with --name NAME"),
    (["--language", "fi", "--source", "catalog"], "language fi lists no books"),
    (["--shelf", "68", "--top-period", "7"], "--top-period 7 needs --top N"),
    (["--author", "9" * 5000], "--author '999999999999'... (5000 characters): an author id is ASCII digits"),
    (["--ids", "84,\u00b2"], "--ids: '\u00b2' is not a book id"),
])
def test_cli_selector_mistakes_are_one_line(quill_site, tmp_path, capsys, argv, message):
    code = main(["build", *argv, "--base-url", quill_site.base_url, "--out", str(tmp_path), "--dry-run"])
    _, err = capsys.readouterr()
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1


def test_cli_dry_run_of_a_union(quill_site, tmp_path, capsys):
    code = main(["build", "--top", "2", "--ids", "110", "--author", "Arthur B. Quill", "--name", "mix",
                 "--base-url", quill_site.base_url, "--out", str(tmp_path), "--dry-run"])
    out, _ = capsys.readouterr()
    assert code == 0
    assert "mix (author:arthur-b-quill + top:2 + ids) → mix: 8 books" in out
    assert f"{tmp_path / 'mix'}" in out
