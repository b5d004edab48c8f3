"""Gutenberg bookshelf → corpus pipeline: ``python -m pipeline build --shelf science-fiction``.

Packages, one job each, listed from the bottom layer up (a package imports only from those below it;
``lint-imports`` checks this, with the contracts in pyproject.toml):

- ``book``, ``errors``, ``files``: the record that flows through the steps, the error hierarchy,
  atomic file writes. ``selection``: the selectors as the user gave them. ``config``: the typed
  build configuration, validated whole before any work.
- ``fetch/``: the polite HTTP client, its watchdog, the site's URL layout and policy, the raw
  download cache, conditional fetching, a book's text from the site or a mirror.
- ``clean/``: bytes of any Gutenberg encoding to text, and every cleaning rule family, with the
  clean cache. Independent of ``fetch``.
- ``discover/``: which books a selection holds (shelves, authors, Top 100, subjects, the catalog)
  and each book's RDF metadata.
- ``corpus/``: language, per-book analysis, filters, dedup, splits, publishing, verifying and the
  versions of a corpus folder, and its lock. Independent of ``discover``.
- ``build/``: the run of ``build`` (the steps a book flows through, worker processes, the result,
  the summary) and ``report``.
- ``options`` (command-line options → config) and ``cli`` (parses and reports; the library does the work).
"""

__version__ = "0.1.0"
PROJECT_NAME = "gutenberg-lstm"
PROJECT_URL = "https://github.com/gutenberg-lstm/gutenberg-lstm"
