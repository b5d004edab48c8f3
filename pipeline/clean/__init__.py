"""From a downloaded file to the author's text: decoding, and removing what Project Gutenberg added.

Owns ``decode`` (bytes of any Gutenberg encoding to text), the cleaner's interface (``cleaner``:
``clean``, ``clean_text``) and its records (``result``), the rules by who wrote what they remove
(``rules/``: the licence header and footer, producers' credits, transcriber's notes, closing
lists), the label-free check for kept lines that look like boilerplate (``leaks``), and the build's
clean cache (``cache``). May import ``book``, ``errors`` and
``files``; independent of ``fetch``, so cleaning a file on disk needs no HTTP code.
"""

from .cleaner import CLEANER_VERSION, clean, clean_text
from .result import CleanOptions, CleanResult, Cut

__all__ = ["CLEANER_VERSION", "CleanOptions", "CleanResult", "Cut", "clean", "clean_text"]
