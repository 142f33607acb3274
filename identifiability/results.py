"""Results as JSON lines, appended atomically."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def append_record(path: str | os.PathLike, record: dict[str, Any]) -> Path:
    """Append ``record`` as one JSON line to ``path`` (created if missing; its folder must exist).

    The line goes out in a single ``O_APPEND`` write followed by fsync, so concurrent runs writing
    to one file never interleave or leave half a line.
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"results folder {str(path.parent)!r} does not exist")
    line = (json.dumps(record, sort_keys=True, allow_nan=True) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


def read_records(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Every record of a results file, in the order written."""
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]
