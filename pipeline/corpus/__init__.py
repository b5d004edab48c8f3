"""From cleaned books to a published, versioned corpus folder.

Owns language detection (``language``), what each cleaned book is found to be (``analysis``), the
keep-or-drop filters (``filters``), duplicate editions (``dedup``), book-level splits that never
move (``splits``), publishing a version atomically (``publish``), checking one (``verify``), the
versions of a corpus folder (``versions``) and the lock that keeps two builds apart (``lock``).
May import ``clean``, ``config``, ``selection``, ``book``, ``errors`` and ``files``; never
``discover`` or ``build``, and it needs nothing from ``fetch``: a corpus is made from files on disk.
"""
