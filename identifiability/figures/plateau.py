"""How far a figure's budget is from its plateau: every run of its sweep trained again at twice the
steps, and each cell's mean over its seeds compared between the two."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from identifiability.experiment import seedless
from identifiability.records import OK, value_of
from identifiability.specs import ExperimentSpec

# a cell within this of its value at twice the steps counts as at its plateau (issue 29)
TOLERANCE = 0.02


def doubled(spec: ExperimentSpec) -> ExperimentSpec:
    """The same run at twice the steps (its learning-rate schedule stretched over them)."""
    return replace(spec, training=replace(spec.training, steps=2 * spec.training.steps))


@dataclass(frozen=True)
class Cell:
    """One cell of a sweep (its runs that differ only in their seeds) and one score: the mean over
    ``runs`` seeds at the budget's steps and at twice them."""

    name: str
    score: str
    steps: int
    at_budget: float
    at_twice: float
    runs: int

    @property
    def distance(self) -> float:
        return abs(self.at_twice - self.at_budget)


def _settings(spec: ExperimentSpec) -> dict[str, Any]:
    """A spec's parts and settings, flat: what tells one cell from another."""
    assert spec.objective is not None
    flat: dict[str, Any] = {}
    for kind, part in (("process", spec.process), ("encoder", spec.encoder), ("objective", spec.objective)):
        flat[kind] = part.name
        flat.update({f"{kind}.{key}": value for key, value in part.given.items()})
    flat.update({f"training.{key}": value for key, value in spec.to_dict()["training"].items()})
    return flat


def _number(record: Mapping[str, Any] | None, score: str) -> float | None:
    if record is None or record.get("status") != OK:
        return None
    value = value_of(record, score)  # type: ignore[arg-type]  # reads only
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else None


def measure(specs: Iterable[ExperimentSpec], latest: Mapping[str, Mapping[str, Any]],
            scores: Iterable[str]) -> list[Cell] | None:
    """Each cell's ``scores`` at the budget and at twice its steps, from ``latest`` (key -> record);
    None where a run at twice the steps was never recorded (nothing measured). A seed enters a
    cell's means where both of its runs hold a finite value of the score."""
    specs = list(specs)
    twice = {s.key: doubled(s).key for s in specs}  # a key hashes the whole spec: once each
    if not specs or any(key not in latest for key in twice.values()):
        return None
    cells: dict[ExperimentSpec, list[ExperimentSpec]] = {}
    for spec in specs:
        cells.setdefault(seedless(spec), []).append(spec)
    flat = {cell: _settings(cell) for cell in cells}
    varying = [k for k in dict.fromkeys(k for f in flat.values() for k in f) if len({repr(f.get(k)) for f in flat.values()}) > 1]
    varying.sort(key=lambda k: "." in k)  # the parts' names, then their settings
    measured = []
    for cell, members in cells.items():
        given = {k: flat[cell][k] for k in varying if k in flat[cell]}  # a setting other cells give and this one lacks: not named
        name = ", ".join(f"{k.partition('.')[2]} {v}" if "." in k else str(v) for k, v in given.items())
        for score in scores:
            pairs = [(a, b) for s in members
                     if (a := _number(latest.get(s.key), score)) is not None
                     and (b := _number(latest[twice[s.key]], score)) is not None]
            if pairs:
                measured.append(Cell(name or "the one cell", score, cell.training.steps,
                                     statistics.fmean(a for a, _ in pairs), statistics.fmean(b for _, b in pairs), len(pairs)))
    return measured


def describe(cells: list[Cell], shown: int = 3) -> str:
    """A caption's sentence: per score, how many cells lie within ``TOLERANCE`` of their value at
    twice the steps, and the ``shown`` farthest of the others."""
    if not cells:
        return "Distance to the plateau: no cell holds a finite score at both budgets."
    parts = []
    for score in dict.fromkeys(c.score for c in cells):
        mine = sorted((c for c in cells if c.score == score), key=lambda c: -c.distance)
        near = sum(c.distance <= TOLERANCE for c in mine)
        far = [f"{c.name}: {c.at_budget:.3f} -> {c.at_twice:.3f}" for c in mine[:shown] if c.distance > TOLERANCE]
        more = sum(c.distance > TOLERANCE for c in mine) - len(far)
        parts.append(f"{score}: {near} of {len(mine)} cells within {TOLERANCE} (largest distance {mine[0].distance:.3f})"
                     + (f"; farthest {'; '.join(far)}" if far else "") + (f"; and {more} more" if more > 0 else ""))
    return ("Distance to the plateau, each run trained again at twice its steps and each cell's mean over its seeds "
            f"compared: {'. '.join(parts)}.")
