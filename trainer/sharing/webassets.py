"""Where the page's files are: the page itself (in the package) and onnxruntime-web (from npm, not shipped).

onnxruntime-web is found, in order, at ``$ORT_WEB_DIR``, or in the ``dist/`` folder of an
``npm install onnxruntime-web`` made in the repository's ``.cache/npm`` (what the tests do) or in
the current folder.
"""

from __future__ import annotations

import os
from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static"
REPO = Path(__file__).resolve().parents[1]
ORT_ENTRY = "ort.wasm.min.js"
# what the page loads: the wasm-only build and its runtime (the rest of dist/ is other backends)
ORT_FILES = (ORT_ENTRY, "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
NPM_CACHE = REPO / ".cache" / "npm"


def ort_web_candidates() -> list[Path]:
    found = [Path(os.environ["ORT_WEB_DIR"])] if os.environ.get("ORT_WEB_DIR") else []
    return found + [root / "node_modules" / "onnxruntime-web" / "dist" for root in (NPM_CACHE, Path.cwd())]


def find_ort_web() -> Path | None:
    """The ``dist/`` folder of onnxruntime-web, or None where there is none."""
    for candidate in ort_web_candidates():
        if (candidate / ORT_ENTRY).is_file():
            return candidate
    return None
