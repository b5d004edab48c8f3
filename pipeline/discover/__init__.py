"""Which books a corpus holds, and what is known about each before it is downloaded.

Owns the resolution of selectors into books (``selectors``) from bookshelf pages (``shelves``),
author pages (``authors``), the Top 100 page (``top``), the offline catalog (``catalog``, with
subjects and languages in ``subjects``), and per-book RDF metadata (``metadata``). May import
``fetch``, ``selection``, ``config``, ``book`` and ``errors``; never ``corpus``, ``clean`` or ``build``.
"""
