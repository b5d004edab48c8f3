"""Writing files so that a reader, or a run killed half-way, never sees half of one."""

from __future__ import annotations

import os
from pathlib import Path


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary name beside ``path``, then rename it into place."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        temp.write_bytes(data)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
