"""Getting bytes from Gutenberg politely, and keeping them.

Owns the one HTTP client (``client``: a named agent, per-host delays, robots.txt, retries with
backoff, bounded bodies), the ``watchdog`` that ends stalled reads, the site's URL layout and the
policy of which URLs may be asked for (``site``), the raw download cache (``cache``), cached
conditional fetching (``fetcher``), and a book's plain text from the site or a mirror (``download``,
``mirror``). May import ``config``, ``book``, ``errors``, ``files`` and the package root's version;
nothing that discovers, cleans or publishes.
"""
