"""Gutenberg bookshelf → corpus pipeline.

Stages, each in its own module:

- ``shelves``   find a bookshelf in the reading-list index and read every page of it
- ``catalog``   the same book list from the offline ``pg_catalog.csv`` instead
- ``metadata``  per-book RDF metadata (title, authors, languages, type)
- ``download``  the book's plain text, politely, into the raw cache
- ``decode``    bytes of any Gutenberg encoding → text
- ``clean``     strip licence header and footer, credits and transcriber's notes (``python -m pipeline clean``)
- ``cleaned``   the build's cleaning stage: each book cleaned once per raw sha256 and cleaner version
- ``build``     runs the stages for ``python -m pipeline build`` and counts the outcomes

Shared parts: ``http_client`` (the one polite HTTP client), ``fetcher`` (cached, conditional
fetching), ``cache`` (raw bytes + SQLite index), ``mirror`` (rsync-mirror layout), ``site`` (the
site's URL layout), ``book`` (the record that flows through the stages), ``config`` and ``errors``.
"""

__version__ = "0.1.0"
PROJECT_NAME = "gutenberg-lstm"
PROJECT_URL = "https://github.com/gutenberg-lstm/gutenberg-lstm"
