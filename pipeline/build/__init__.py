"""One run of ``python -m pipeline build``, and ``report`` on what it published.

Owns the run (``run``: discover, fetch, clean, filter, split and publish, under the corpus lock),
the steps a book flows through with their keep-or-drop outcomes (``steps``), the worker processes
that run the CPU steps (``workers``, ``_preload``), what a run did (``result``), what it prints when
it ends (``summary``) and ``report``. May import every package below it (``corpus``,
``discover``, ``clean``, ``fetch``) and the top-level modules; only ``options`` and ``cli`` import it.
"""

from .run import Build

__all__ = ["Build"]
