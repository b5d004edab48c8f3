from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fake_gutenberg import FakeGutenberg  # noqa: E402

from pipeline.config import BuildConfig, HttpConfig  # noqa: E402

STANDIN = Path(__file__).resolve().parents[1].parent / "shared" / "gutenberg"
THIRDS = (1 / 3, 1 / 3, 1 / 3)
"""Split shares that give every split books even on a small shelf."""


@pytest.fixture
def site():
    """The tests' own small Gutenberg-like site, served on 127.0.0.1 for one test."""
    fake = FakeGutenberg()
    fake.start()
    yield fake
    fake.stop()


def fast_http(**overrides) -> HttpConfig:
    """HTTP settings that keep retries quick in tests (Retry-After still honoured)."""
    settings = dict(backoff=0.01, max_backoff=5.0, read_timeout=5.0, connect_timeout=2.0)
    settings.update(overrides)
    return HttpConfig(**settings)


@pytest.fixture
def make_config(site, tmp_path):
    def make(**overrides) -> BuildConfig:
        settings = dict(shelf="science-fiction", base_url=site.base_url, out=tmp_path / "corpora", http=fast_http())
        settings.update(overrides)
        return BuildConfig(**settings)

    return make


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory):
    """A real corpus built by the pipeline from the tests' site: a dozen made-up English books, split in thirds."""
    from fake_gutenberg import FakeBook, gutenberg_text, prose

    from pipeline.build.run import Build
    from pipeline.config import CorpusConfig

    fake = FakeGutenberg()
    for n in range(12):
        book_id = 400 + n
        title = f"Made-up Book {book_id}"
        fake.books[book_id] = FakeBook(book_id, title, "Writer, Some", ["Science Fiction"], downloads=5,
                                       text=gutenberg_text(book_id, title, "Some Writer",
                                                           prose(book_id, paragraphs=20)).encode())
    fake.render()
    fake.start()
    try:
        out = tmp_path_factory.mktemp("corpora")
        config = BuildConfig(shelf="science-fiction", base_url=fake.base_url, out=out, http=fast_http(),
                             corpus=CorpusConfig(split_ratios=THIRDS, min_words=500))
        result = Build(config, progress=False).run()
    finally:
        fake.stop()
    assert all(n > 0 for n in result.split_counts().values()), result.split_counts()
    return result.corpus_dir


from model_fixtures import tiny_checkpoint  # noqa: E402,F401  (serve, export and page tests share one fit)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for every page test (installed with apt-get where missing; see browser_setup)."""
    pytest.importorskip("selenium", reason="the test extra (selenium) is not installed")
    from browser_setup import ensure_chromium, start_chromium

    found = ensure_chromium()
    if isinstance(found, str):
        pytest.skip(f"no browser can be installed here: {found}")
    driver = start_chromium(*found)
    yield driver
    driver.quit()
