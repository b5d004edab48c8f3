"""Where the page's files are: the page itself (in the package) and onnxruntime-web (from npm, not shipped).

onnxruntime-web is found at ``$ORT_WEB_DIR`` when that is set (and nowhere else then), else in the
``dist/`` folder of an ``npm install onnxruntime-web`` made in the repository's ``.cache/npm`` (what
the tests do) or in the current folder.
"""

from __future__ import annotations

import os
from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static"
REPO = Path(__file__).resolve().parents[2]
ORT_ENTRY = "ort.wasm.min.js"
# what the page loads: the wasm-only build and its runtime (the rest of dist/ is other backends)
ORT_FILES = (ORT_ENTRY, "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
NPM_CACHE = REPO / ".cache" / "npm"


def ort_web_candidates() -> list[Path]:
    if os.environ.get("ORT_WEB_DIR"):  # the folder the user named, and no other: a wrong one is said, not hidden
        return [Path(os.environ["ORT_WEB_DIR"])]
    return [root / "node_modules" / "onnxruntime-web" / "dist" for root in (NPM_CACHE, Path.cwd())]


ORT_WEB_FIX = ("run `npm install onnxruntime-web` in .cache/npm at the top of the repository, or set ORT_WEB_DIR to "
               "the dist/ folder of an onnxruntime-web install")
"""Where ``serve`` and ``export --page`` look for onnxruntime-web, said the same way everywhere (as README does)."""


def find_ort_web() -> Path | None:
    """The ``dist/`` folder of onnxruntime-web, or None where there is none."""
    for candidate in ort_web_candidates():
        if (candidate / ORT_ENTRY).is_file():
            return candidate
    return None
