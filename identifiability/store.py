"""The results store: one JSON line per run, keyed by its spec's hash, appended atomically.

A record is written once, when its run has finished or failed, in a single ``O_APPEND`` write under
an exclusive lock, then synced (``results.ResultsFile``): a run killed before that leaves nothing,
and two processes appending at once cannot interleave their lines. ``done`` tells a sweep which
keys to skip.
"""

from __future__ import annotations

import csv
import io
import json
import os
import statistics
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .results import ResultsFile

OK, FAILED = "ok", "failed"


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


# --- reading records as a table ---------------------------------------------------------------

SCORES = {
    "affine_r2": ("metrics", "affine_r2", "score"),
    "mcc": ("metrics", "mcc", "score"),
    "dci": ("metrics", "dci_disentanglement"),
    "filtered_affine_r2": ("metrics", "filtered_affine_r2", "score"),
    "participation_ratio": ("metrics", "participation_ratio"),
    "oracle_filtered_r2": ("metrics", "oracle_r2", "filtered"),
    "oracle_per_frame_r2": ("metrics", "oracle_r2", "per_frame"),
    "train_s": ("timings", "train_s"),
    "affine_r2_null": ("metrics", "affine_r2", "null", "upper"),
    "mcc_null": ("metrics", "mcc", "null", "upper"),
    "raw_affine_r2": ("baselines", "raw_x", "affine_r2"),
    "raw_mcc": ("baselines", "raw_x", "mcc"),
    "raw_dci": ("baselines", "raw_x", "dci_disentanglement"),
}
# What gives a score its meaning, shown beside it as a mean: the nulls' 95th percentiles and the
# raw observations' scores. Header of each in the table.
BASELINES = {"affine_r2_null": "null R^2 (95%)", "mcc_null": "null MCC (95%)", "raw_affine_r2": "raw x R^2", "raw_mcc": "raw x MCC"}


def _get(record: dict[str, Any], path: Sequence[str]) -> Any:
    for key in path:
        if not isinstance(record, dict) or key not in record:
            return None
        record = record[key]
    return record


def value_of(record: dict[str, Any], name: str) -> Any:
    """A record's value by a short name: a part's name ("generator", "encoder", "objective"), a
    part's setting ("generator.latent_dim", "objective.temperature": the effective value), a seed
    ("seed", "problem_seed"), a score (``SCORES``), or a dotted path into the record."""
    if name in ("generator", "encoder", "objective"):
        return _get(record, ("spec", name, "name"))
    part, _, setting = name.partition(".")
    if setting and part in ("generator", "encoder", "objective"):
        return _get(record, ("settings", part, setting))
    if name in SCORES:
        return _get(record, SCORES[name])
    return _get(record, name.split("."))


def summarise(records: Iterable[dict[str, Any]], by: Sequence[str], scores: Sequence[str] = ("affine_r2", "mcc")) -> list[dict[str, Any]]:
    """One row per distinct value of the ``by`` fields among successful records: the count, and for
    each score the mean and a 95 % interval over the records (mean +- 1.96 standard errors; the
    single value where there is one), beside the mean of each of the ``BASELINES``."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for record in records:
        if record.get("status", OK) == OK:
            groups.setdefault(tuple(value_of(record, b) for b in by), []).append(record)
    rows = []
    for values, members in groups.items():
        row: dict[str, Any] = dict(zip(by, values)) | {"runs": len(members)}
        for score in (*scores, *BASELINES):
            numbers = [v for v in (value_of(m, score) for m in members) if isinstance(v, (int, float))]
            if not numbers:
                continue
            mean = statistics.fmean(numbers)
            row[score] = mean
            if score in scores:
                half = 1.96 * statistics.stdev(numbers) / len(numbers) ** 0.5 if len(numbers) > 1 else 0.0
                row[f"{score}_low"], row[f"{score}_high"] = mean - half, mean + half
        rows.append(row)
    return rows


def format_table(rows: list[dict[str, Any]], by: Sequence[str], scores: Sequence[str] = ("affine_r2", "mcc")) -> str:
    """A Markdown table of ``summarise``'s rows."""
    head = [*by, "runs", *scores, *BASELINES.values()]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [str(row[b]) for b in by] + [str(row["runs"])]
        for score in scores:
            if score in row:
                low, high = row[f"{score}_low"], row[f"{score}_high"]
                cells.append(f"{row[score]:.3f} [{low:.3f}, {high:.3f}]" if row["runs"] > 1 else f"{row[score]:.3f}")
            else:
                cells.append("-")
        cells += [f"{row[k]:.3f}" if k in row else "-" for k in BASELINES]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def to_csv(rows: list[dict[str, Any]]) -> str:
    """The rows as CSV text (the union of their columns, in order of first appearance)."""
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
