"""Selectors against ../shared/gutenberg/serve.py (real Gutenberg pages and catalog); skipped where it is absent."""

from __future__ import annotations

import re

import pytest
from conftest import STANDIN, fast_http
from test_standin import standin

from pipeline.build.run import Build
from pipeline.config import BuildConfig
from pipeline.selection import Selector

pytestmark = [pytest.mark.standin,
              pytest.mark.skipif(not (STANDIN / "serve.py").is_file(), reason="../shared/gutenberg is absent")]


def listed(base_url, out, *selectors, **overrides):
    config = BuildConfig(base_url=base_url, out=out, http=fast_http(), selectors=list(selectors), **overrides)
    build = Build(config, progress=False)
    return [b.id for b in build.list_books(build.resolve())]


def test_site_and_catalog_agree_on_an_author(tmp_path):
    with standin(tmp_path / "log") as base_url:
        by_name = listed(base_url, tmp_path, Selector("author", "Wells, H. G."))
        by_catalog = listed(base_url, tmp_path, Selector("author", "H. G. Wells"), source="catalog")
        by_id = listed(base_url, tmp_path, Selector("author", "30"))
    page = (STANDIN / "site" / "ebooks" / "author" / "30" / "1.html").read_text(encoding="utf-8")
    expected = {int(n) for n in re.findall(r'href="/ebooks/(\d+)"', page)}
    assert set(by_name) == set(by_id) == set(by_catalog) == expected
    assert len(expected) >= 5


def test_the_top_100_reads_a_hundred_distinct_books(tmp_path):
    with standin(tmp_path / "log") as base_url:
        yesterday = listed(base_url, tmp_path, Selector("top", "100"))
        month = listed(base_url, tmp_path, Selector("top", "10", period=30))
    assert len(yesterday) == len(set(yesterday)) == 100
    assert yesterday[0] == 84 and len(month) == 10


def test_a_subject_from_the_real_catalog(tmp_path):
    with standin(tmp_path / "log") as base_url:
        books = listed(base_url, tmp_path, Selector("subject", "Time travel"), source="catalog")
    assert 35 in books
