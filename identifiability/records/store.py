"""The results store: one JSON line per run, keyed by its spec's hash, appended atomically.

A record (``record``) is written once, when its run has finished or failed, in a single ``O_APPEND``
write under an exclusive lock, then synced (``ResultsFile``): a run killed before that leaves
nothing, and two processes appending at once cannot interleave their lines. ``done`` tells a sweep
which keys to skip; ``tables`` reads records as tables.
"""

from __future__ import annotations

import fcntl
import json
import os
import stat
from pathlib import Path
from typing import Any

from identifiability._core import SettingError

from .schema import FAILED, OK


def _line(record: dict[str, Any]) -> bytes:
    return (json.dumps(record, sort_keys=True, allow_nan=True) + "\n").encode()


class ResultsFile:
    """A results file opened for appending at once, so that a path that cannot take the record is
    refused before any work is done (a folder, a missing folder, a file marked read-only, a place
    this process may not write), and appended to when the work is done. Closed unused, a file it
    created is removed again. A context manager.

    Raises:
        SettingError: named "results", saying why the path cannot take records.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise SettingError("results", f"{str(self.path)!r} is a folder, not a file")
        if not self.path.parent.is_dir():
            raise SettingError("results", f"folder {str(self.path.parent)!r} does not exist")
        existed = self.path.exists()
        if existed and not self.path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
            raise SettingError("results", f"{str(self.path)!r} is read-only")  # even for root
        try:
            self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as error:
            raise SettingError("results", f"cannot write {str(self.path)!r}: {error.strerror}") from None
        self._created, self._written = not existed, False

    def append(self, record: dict[str, Any]) -> None:
        """Write ``record`` as one JSON line, in one O_APPEND write under an exclusive lock (so that
        processes appending at once cannot interleave), and fsync it."""
        assert self._fd is not None, "the results file is closed"
        line = _line(record)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            os.write(self._fd, line)
            os.fsync(self._fd)
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
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


class Store:
    """The records of a results file (created on the first append).

    Args:
        path: the JSON-lines file.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    def append(self, record: dict[str, Any]) -> None:
        """Add one record (it needs a ``key`` and a ``status``)."""
        if "key" not in record or record.get("status") not in (OK, FAILED):
            raise ValueError("a record needs a key and a status (ok or failed)")
        with ResultsFile(self.path) as results:
            results.append(record)

    def records(self) -> list[dict[str, Any]]:
        """Every record, in the order written ([] before the first)."""
        if not self.path.exists():
            return []
        out = []
        with open(self.path) as lines:
            for number, line in enumerate(lines, start=1):
                if line.strip():
                    try:
                        out.append(json.loads(line))
                    except json.JSONDecodeError as error:
                        raise ValueError(f"{self.path}:{number} is not a JSON record: {error}") from None
        return out

    def latest(self) -> dict[str, dict[str, Any]]:
        """The last record of each key."""
        return {r["key"]: r for r in self.records()}

    def done(self) -> set[str]:
        """Keys whose last record succeeded."""
        return {k for k, r in self.latest().items() if r["status"] == OK}

    def failed(self) -> dict[str, dict[str, Any]]:
        """The last record of each key that failed, with its error."""
        return {k: r for k, r in self.latest().items() if r["status"] == FAILED}
