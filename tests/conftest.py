from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fake_gutenberg import FakeGutenberg  # noqa: E402

from pipeline.config import BuildConfig, HttpConfig  # noqa: E402

STANDIN = Path(__file__).resolve().parents[1].parent / "shared" / "gutenberg"


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
