"""Results as JSON lines, appended atomically."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from foundation import SettingError


def _line(record: dict[str, Any]) -> bytes:
    return (json.dumps(record, sort_keys=True, allow_nan=True) + "\n").encode()


def append_record(path: str | os.PathLike, record: dict[str, Any]) -> Path:
    """Append ``record`` as one JSON line to ``path`` (created if missing; its folder must exist).

    The line goes out in a single ``O_APPEND`` write followed by fsync, so concurrent runs writing
    to one file never interleave or leave half a line.
    """
    with ResultsFile(path) as results:
        results.append(record)
    return Path(path)


class ResultsFile:
    """A results file opened for appending at once, so that a path that cannot take the record is
    refused before any work is done (a folder, a missing folder, a file marked read-only, a place
    this process may not write), and appended to when the work is done. Closed unused, a file it
    created is removed again. A context manager.

    Raises:
        SettingError: named "output", saying why the path cannot take records.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise SettingError("output", f"{str(self.path)!r} is a folder, not a file")
        if not self.path.parent.is_dir():
            raise SettingError("output", f"folder {str(self.path.parent)!r} does not exist")
        existed = self.path.exists()
        if existed and not self.path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
            raise SettingError("output", f"{str(self.path)!r} is read-only")  # even for root
        try:
            self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as error:
            raise SettingError("output", f"cannot write {str(self.path)!r}: {error.strerror}") from None
        self._created, self._written = not existed, False

    def append(self, record: dict[str, Any]) -> None:
        """Write ``record`` as one JSON line, in one O_APPEND write, and fsync it."""
        assert self._fd is not None, "the results file is closed"
        os.write(self._fd, _line(record))
        os.fsync(self._fd)
        self._written = True

    def close(self) -> None:
        """Close; a file this opened newly and never wrote to is removed."""
        if self._fd is None:
            return
        os.close(self._fd)
        self._fd = None
        if self._created and not self._written:
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> ResultsFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_records(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Every record of a results file, in the order written."""
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]
