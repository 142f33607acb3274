"""Records as tables: a row per group of runs, each number's mean with a 95 % interval, beside what
gives it meaning (its null and the raw observations' score). Numbers are named as in ``record``."""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections.abc import Iterable, Sequence
from typing import Any

from .schema import OK, TIMINGS, value_of


def beside(score: str) -> tuple[str, ...]:
    """What a table shows beside ``score``: its null's 95th percentile and the raw observations'
    score (``affine_r2`` -> ``affine_r2.null``, ``raw_x.affine_r2``); none beside a baseline, a
    null or a timing."""
    head = score.split(".")[0]
    if head in TIMINGS or head == "raw_x" or score.endswith(".null"):
        return ()
    return (f"{score}.null", f"raw_x.{score}")


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def summarise(records: Iterable[dict[str, Any]], by: Sequence[str], scores: Sequence[str] = ("affine_r2", "mcc")) -> list[dict[str, Any]]:
    """One row per distinct value of the ``by`` fields among successful records: the count, and for
    each score the mean and a 95 % interval over the records (mean +- 1.96 standard errors; the
    single value where there is one; NaN where a value is NaN or infinite), beside the mean of what
    ``beside`` names (where recorded)."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for record in records:
        if record.get("status", OK) == OK:
            groups.setdefault(tuple(value_of(record, b) for b in by), []).append(record)
    shown = [*scores, *(b for s in scores for b in beside(s) if b not in scores)]
    rows = []
    for values, members in groups.items():
        row: dict[str, Any] = dict(zip(by, values)) | {"runs": len(members)}
        for score in shown:
            numbers = [v for v in (value_of(m, score) for m in members) if _number(v)]
            if not numbers:
                continue
            mean = statistics.fmean(numbers)
            row[score] = mean
            if score in scores:  # a value that is not finite (a DCI gated off, a loss that never moved) makes both NaN
                finite = all(math.isfinite(v) for v in numbers)
                half = 0.0 if len(numbers) == 1 else 1.96 * statistics.stdev(numbers) / len(numbers) ** 0.5 if finite else math.nan
                row[f"{score}_low"], row[f"{score}_high"] = mean - half, mean + half
        rows.append(row)
    return rows


def format_table(rows: list[dict[str, Any]], by: Sequence[str], scores: Sequence[str] = ("affine_r2", "mcc")) -> str:
    """A Markdown table of ``summarise``'s rows: the ``by`` fields, the count, each score with its
    interval, and the columns beside them that some row has."""
    extra = [b for s in scores for b in beside(s) if b not in scores and any(b in row for row in rows)]
    head = [*by, "runs", *scores, *extra]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [str(row[b]) for b in by] + [str(row["runs"])]
        for score in scores:
            if score in row:
                low, high = row[f"{score}_low"], row[f"{score}_high"]
                cells.append(f"{row[score]:.3f} [{low:.3f}, {high:.3f}]" if row["runs"] > 1 else f"{row[score]:.3f}")
            else:
                cells.append("-")
        cells += [f"{row[k]:.3f}" if k in row else "-" for k in extra]
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
