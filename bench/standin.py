"""The stand-in Gutenberg site (../shared/gutenberg/serve.py) on loopback, for the benchmarks."""

from __future__ import annotations

import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "gutenberg"


@contextmanager
def serve_standin(standin: Path):
    """Start serve.py on a free port; yield its base URL; stop it afterwards."""
    if not (standin / "serve.py").is_file():
        sys.exit(f"error: no stand-in site at {standin}; pass --standin DIR")
    server = subprocess.Popen([sys.executable, str(standin / "serve.py"), "--port", "0"],
                              stdout=subprocess.PIPE, text=True)
    try:
        yield server.stdout.readline().split()[-1]
    finally:
        server.terminate()
        server.wait(timeout=10)
