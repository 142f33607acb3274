"""The equivalence-class profile: a representation's score for every class of maps "up to" which
identifiability theorems recover the latents, and the finest classes it reaches.

Classes, finer to coarser: permutation -> monotone -> smooth; permutation -> affine;
orthogonal -> affine -> smooth; monotone -> block. Every score is on one scale, an R^2 (the share of
variance the class's best map explains, held out), so that one tolerance means the same for all.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from identifiability._core import SettingError, check_float, check_int, check_seed

from ._inputs import ArrayLike, Sample, as_matrix, prepare
from .mcc import _mcc
from .moments import split_moments
from .r2 import _affine_r2, _nonlinear_r2
from .scoring import Scores, monte_carlo_null, support

CLASSES = ("permutation", "orthogonal", "monotone", "affine", "smooth", "block")
# the classes scored by linear fits and correlations (milliseconds; the kernel classes take seconds)
LINEAR_CLASSES = ("permutation", "orthogonal", "monotone", "affine")
# each class -> the classes directly coarser than it. An elementwise map is blockwise for any blocks;
# a smooth map of all of z is not (it mixes the blocks), nor is a blockwise map smooth in both directions
# (it may drop what lies outside the blocks' part of the code): smooth and block are not ordered.
_COARSER = {
    "permutation": ("monotone", "affine"),
    "orthogonal": ("affine",),
    "monotone": ("smooth", "block"),
    "affine": ("smooth",),
    "smooth": (),
    "block": (),
}
# the metric whose warnings speak for each linear class's score
_METRIC_OF = {"permutation": "mcc_pearson", "monotone": "mcc_spearman", "orthogonal": "affine_r2", "affine": "affine_r2"}
# fewest rows in each split: the kernel ridge's 3-fold search needs a few per fold
MIN_ROWS = 20
# Monte-Carlo draws of the kernel scores' null (each fits two kernel ridges), as nonlinear_r2's
NONLINEAR_NULL_DRAWS = 16
_SAFE_EXPONENT = 400


def coarser(cls: str) -> frozenset[str]:
    """The classes strictly coarser than ``cls`` (its transitive successors)."""
    above = set(_COARSER[cls])
    for c in _COARSER[cls]:
        above |= coarser(c)
    return frozenset(above)


def finest_of(reached: Sequence[str]) -> tuple[str, ...]:
    """The classes of ``reached`` that no other class of ``reached`` is strictly finer than."""
    return tuple(c for c in CLASSES if c in reached and not any(c in coarser(o) for o in reached))


def reached_of(scores: dict[str, float], tolerance: float) -> tuple[str, ...]:
    """The classes reached: a score of at least 1 - ``tolerance``, and every coarser class that was
    scored reached too (a code in a class is in every coarser one, so a class whose coarser class
    falls short by noise is not reached either: the lattice holds by construction)."""
    passing = {c for c, s in scores.items() if s >= 1 - tolerance}
    return tuple(c for c in CLASSES if c in passing and all(o in passing for o in coarser(c) if o in scores))


@dataclass(frozen=True)
class Profile:
    """The score of z_hat for every class (1: exactly in it; held out) and what it reaches.

    Attributes:
        scores: class -> score, for every class in ``CLASSES`` ("block" only with blocks).
        tolerance: a class is reached when its score is at least 1 - tolerance (and every coarser
            class scored is reached).
        reached: the reached classes, in ``CLASSES`` order.
        finest: the reached classes no other reached class is strictly finer than (empty: none).
        nulls: with ``null=True``, class (and part) -> the 95th percentile of the same score for a
            representation independent of z; else None.
        blocks: the blocks of z's columns, or None.
        code_blocks: the columns of z_hat assigned to each block (given, or each column to the block
            of z that explains it best), or None.
        block_scores: per block, the lesser of the kernel R^2 of the block of z from its part of
            z_hat and of that part from the block, or None.
        parts: the two directions behind the two-sided scores (``affine_forward``: z from z_hat,
            ``affine_reverse``: z_hat from z, likewise ``smooth_forward``, ``smooth_reverse``).
        warnings: why the data do not support a linear score (the metrics' own warnings).
        class_warnings: class -> the warnings of the metric behind its score (the Pearson MCC for
            permutation, the Spearman MCC for monotone, the affine R^2 for orthogonal and affine).
        settings: how the scores were computed.
    """

    scores: dict[str, float]
    tolerance: float
    reached: tuple[str, ...]
    finest: tuple[str, ...]
    nulls: dict[str, float] | None = None
    blocks: tuple[tuple[int, ...], ...] | None = None
    code_blocks: tuple[tuple[int, ...], ...] | None = None
    block_scores: tuple[float, ...] | None = None
    parts: dict[str, float] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    class_warnings: dict[str, tuple[str, ...]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready fields."""
        return asdict(self)

    def table(self) -> str:
        """A text table: class, score, null (95th percentile), reached (* marks the finest)."""
        lines = [f"{'class':<12}{'score':>8}{'null':>8}  reached (tolerance {self.tolerance:g})"]
        for cls, score in self.scores.items():
            null = "" if self.nulls is None else f"{self.nulls[cls]:.3f}"
            mark = ("yes" + " *" * (cls in self.finest)) if cls in self.reached else "no"
            lines.append(f"{cls:<12}{score:>8.3f}{null:>8}  {mark}")
        for block, part, value in zip(self.blocks or (), self.code_blocks or (), self.block_scores or ()):
            lines.append(f"  block {list(block)} from code columns {list(part)}: {value:.3f}")
        return "\n".join(lines)

    __str__ = table

    def line(self) -> str:
        """One line: each class's score, and the finest classes reached."""
        scores = " | ".join(f"{c} {s:.3f}" for c, s in self.scores.items())
        return f"{scores} (finest reached at tolerance {self.tolerance:g}: {', '.join(self.finest) or 'none'})"


def _orthogonal_r2(data: Sample) -> float:
    """Held-out R^2 of centred z (n, d) from the best similarity map z ~ s x R (R (d_hat, d) with
    orthonormal rows or columns, one scale s) of centred z_hat, x (n, d_hat), fitted on the train
    split (Procrustes by an SVD of x^T z), over all coordinates together (1 - total SSE / total SST).
    Neither side is whitened: the class is z_hat = c Q z + b, so latents of unequal scales keep them
    (a per-column standardisation of such z is not in it, a rotation is)."""
    (fit,) = split_moments(data.z_hat, data.z, data.train)
    u, s, vh = torch.linalg.svd(fit.xy, full_matrices=False)
    scale = s.sum() / fit.vx.sum().clamp_min(torch.finfo(s.dtype).tiny)
    w = data.z[data.test] - fit.mean_y
    predicted = scale * (data.z_hat[data.test] - fit.mean_x) @ (u @ vh)
    return float(1 - (w - predicted).square().sum() / (w - w.mean(0)).square().sum())


def _linear(data: Sample) -> Scores:
    """Permutation, monotone, orthogonal and affine scores; extras also hold the metrics' Scores.
    Permutation and monotone are the mean squared matched (Pearson, Spearman) correlation: the R^2
    of each latent from its matched code column (by a line, by a monotone map of ranks)."""
    pearson, spearman, affine = _mcc(data, "pearson"), _mcc(data, "spearman"), _affine_r2(data)
    forward, reverse = affine.headline, affine.extras["reverse"]
    numbers = {
        "permutation": float(pearson.per_latent.square().mean()),
        "orthogonal": _orthogonal_r2(data),
        "monotone": float(spearman.per_latent.square().mean()),
        "affine": min(forward, reverse),
        "affine_forward": forward,
        "affine_reverse": reverse,
    }
    metrics = {"mcc_pearson": pearson, "mcc_spearman": spearman, "affine_r2": affine}
    return Scores(per_latent=pearson.per_latent, in_sample=math.nan, extras=numbers | {"metrics": metrics})


def _standardized(a: torch.Tensor, train: torch.Tensor) -> torch.Tensor:
    """a (n, k) centred and scaled by its train rows' means and standard deviations (1 where 0)."""
    rows = a[train]
    sd = rows.std(0)
    return (a - rows.mean(0)) / torch.where(sd > 0, sd, 1)


def _kernel(x: torch.Tensor, y: torch.Tensor, data: Sample, max_train: int) -> torch.Tensor:
    """(k,) held-out kernel-ridge R^2 of each column of y (n, k) from x (n, p), on ``data``'s split."""
    return _nonlinear_r2(Sample.of(x, y, data.train, data.test), max_train).per_latent


def _nonlinear(
    data: Sample,
    max_train: int,
    blocks: tuple[tuple[int, ...], ...] | None,
    reverse: bool = True,
    code_blocks: tuple[tuple[int, ...], ...] | None = None,
) -> Scores:
    """Kernel-ridge R^2 of z from z_hat (``nonlinear_r2``'s fit) and (with ``reverse``) of z_hat
    from z, which the smooth class needs; with ``blocks``, per block B of z and its part A of z_hat
    (``code_blocks``, else each code column goes to the block whose latents explain it best), the
    lesser of the R^2 of z_B from z_hat_A and of z_hat_A from z_B: z_hat_A = h(z_B) with h invertible
    (von Kugelgen et al. 2021, Definition 4.1: the part holds all of the block and only it). The
    targets are standardized on the train rows first: the kernel ridge has no intercept, so an offset
    of a target would otherwise change its score."""
    x, y = _standardized(data.z_hat, data.train), _standardized(data.z, data.train)
    forward = float(_kernel(x, y, data, max_train).mean())
    numbers: dict[str, object] = {"smooth_forward": forward}
    if reverse:
        back = float(_kernel(y, x, data, max_train).mean())
        numbers |= {"smooth": min(forward, back), "smooth_reverse": back}
    if blocks is not None:
        explained = torch.stack([_kernel(y[:, list(b)], x, data, max_train) for b in blocks])  # (blocks, d_hat)
        if code_blocks is None:
            owner = explained.argmax(0)
            code_blocks = tuple(tuple((owner == i).nonzero().flatten().tolist()) for i in range(len(blocks)))
        per_block = []
        for i, (b, a) in enumerate(zip(blocks, code_blocks)):
            if not a:  # no code column for this block: nothing of it is recovered
                per_block.append(0.0)
                continue
            ahead = float(_kernel(x[:, list(a)], y[:, list(b)], data, max_train).mean())
            per_block.append(min(ahead, float(explained[i, list(a)].mean())))
        numbers |= {f"block {i}": v for i, v in enumerate(per_block)} | {"block": min(per_block), "code_blocks": code_blocks}
    return Scores(per_latent=torch.tensor([forward]), in_sample=math.nan, extras=numbers)


def _check_blocks(blocks: Sequence[Sequence[int]] | None, d: int) -> tuple[tuple[int, ...], ...] | None:
    if blocks is None:
        return None
    try:
        checked = tuple(tuple(check_int("blocks", i, low=0, high=d - 1) for i in b) for b in blocks)
    except TypeError:
        raise SettingError("blocks", f"must be a sequence of index lists, got {blocks!r}") from None
    flat = sorted(i for b in checked for i in b)
    if any(not b for b in checked) or flat != list(range(d)):
        raise SettingError("blocks", f"must partition z's {d} columns into non-empty blocks, got {blocks!r}")
    return checked


def _check_code_blocks(
    code_blocks: Sequence[Sequence[int]] | None, blocks: tuple[tuple[int, ...], ...] | None, d_hat: int, kept: list[int]
) -> tuple[tuple[int, ...], ...] | None:
    """``code_blocks`` as disjoint index tuples of z_hat's ``d_hat`` columns, one per block, renumbered
    among the ``kept`` (non-constant) columns; None stays None (the assignment is then found)."""
    if code_blocks is None:
        return None
    if blocks is None:
        raise SettingError("code_blocks", "assign code columns to blocks of z: give the blocks too")
    try:
        checked = tuple(tuple(check_int("code_blocks", i, low=0, high=d_hat - 1) for i in a) for a in code_blocks)
    except TypeError:
        raise SettingError("code_blocks", f"must be a sequence of index lists, got {code_blocks!r}") from None
    flat = [i for a in checked for i in a]
    if len(checked) != len(blocks) or len(set(flat)) != len(flat):
        raise SettingError("code_blocks", f"must be {len(blocks)} disjoint lists of z_hat's columns, one per block, got {code_blocks!r}")
    position = {j: i for i, j in enumerate(kept)}
    return tuple(tuple(position[i] for i in a if i in position) for a in checked)


def _check_classes(classes: Sequence[str], blocks: tuple[tuple[int, ...], ...] | None) -> frozenset[str]:
    wanted = frozenset([classes] if isinstance(classes, str) else classes)
    if not wanted or wanted - set(CLASSES):
        raise SettingError("classes", f"must be some of {', '.join(CLASSES)}; got {classes!r}")
    if blocks is None:  # every class by default; the block class only where blocks are declared
        if "block" in wanted and tuple(classes) != CLASSES:
            raise SettingError("blocks", "the block class needs the blocks of z's columns")
        wanted -= {"block"}
    return wanted


def _common_scale(z_hat: ArrayLike) -> torch.Tensor:
    """z_hat as a float64 matrix, scaled by one power of two if its largest magnitude is beyond
    2^+-400 (the input check would rescale such columns each by its own power, which changes the
    orthogonal score; every score is invariant to one common scale)."""
    zh = as_matrix(z_hat, "z_hat")
    peak = zh.abs().amax()
    if bool(torch.isfinite(peak)) and bool(peak > 0):
        exponent = int(torch.frexp(peak).exponent)
        if abs(exponent) > _SAFE_EXPONENT:
            zh = torch.ldexp(zh, torch.tensor(-exponent, device=zh.device))
    return zh


def _without_constant_columns(data: Sample) -> tuple[Sample, torch.Tensor, list[int]]:
    """The sample without z_hat's constant columns (every class allows them), the kept columns'
    indices and the dropped ones'; a z_hat constant in every column is refused."""
    low, high = data.z_hat_range
    varying = (low < high).nonzero().flatten()
    if not varying.numel():
        raise ValueError("z_hat is constant in every column: it carries nothing about z, and its scores are undefined")
    dropped = [j for j in range(data.z_hat.shape[1]) if j not in set(varying.tolist())]
    if dropped:
        data = Sample(data.z_hat[:, varying], data.z, data.train, data.test, (low[varying], high[varying]), data.z_range)
    return data, varying, dropped


def _nulls(data: Sample, wanted: set[str], test_size: float, kernel_settings: dict[str, Any]) -> dict[str, float]:
    """Each wanted score's null 95th percentile, for independent codes of the sample's shapes."""
    shape = (data.z_hat.shape[0], data.z_hat.shape[1], data.z.shape[1], test_size)
    upper = monte_carlo_null(_linear, *shape)
    if wanted & {"smooth", "block"}:
        upper |= monte_carlo_null(_nonlinear, *shape, draws=NONLINEAR_NULL_DRAWS, **kernel_settings)
    return {k: v.upper for k, v in upper.items() if k != "score" and (k not in CLASSES or k in wanted)}


def profile(
    z_hat: ArrayLike,
    z: ArrayLike,
    *,
    blocks: Sequence[Sequence[int]] | None = None,
    tolerance: float = 0.05,
    null: bool = False,
    seed: int = 0,
    test_size: float = 0.5,
    max_train: int = 1000,
    classes: Sequence[str] = CLASSES,
    code_blocks: Sequence[Sequence[int]] | None = None,
) -> Profile:
    """Score z_hat (n, d_hat) against z (n, d) for every class of maps at once, held out.

    Scores, all on the R^2 scale (1 = exactly in the class), each fitted on a seeded train split and
    measured on the rest: permutation (and scaling): the mean squared matched Pearson correlation;
    monotone: the same with Spearman's; orthogonal (z_hat = c Q z + b, Q orthogonal or
    semi-orthogonal): R^2 of z, centred and not whitened, by the best similarity map from z_hat
    (``_orthogonal_r2``); affine: min of the affine R^2 of z from z_hat and of z_hat from z; smooth:
    the same with the kernel-ridge R^2 of ``nonlinear_r2`` (fitted on a random subset of at most
    ``max_train`` train rows; 1000 keeps a call near a second at n = 10^4); block (with ``blocks``,
    index lists partitioning z's columns): von Kugelgen et al.'s block-identifiability, z_hat_A = h(z_B)
    for each block B and its part A of z_hat (``code_blocks``: index lists of z_hat's columns, one per
    block; by default each column goes to the block whose latents explain it best), scored as the
    least over blocks of the lesser of the kernel R^2 of z_B from z_hat_A and of z_hat_A from z_B. A
    class is reached at a score of at least 1 - ``tolerance`` where every coarser class scored is
    reached too. Constant columns of z_hat are dropped first (every class allows them); a wholly
    constant z_hat is refused.

    With ``null=True``, ``nulls`` holds each score's 95th percentile over Monte-Carlo draws of
    independent standard normal z_hat and z of the same shapes, split and blocks (the package's
    null, seeded and cached per shape): a score below it is indistinguishable from chance. The
    linear scores take 16 to 100 draws by size, the kernel ones 16.

    ``classes`` limits the scores (and nulls) computed to those classes, e.g. the one a claim is
    about: the kernel scores cost seconds and their null a minute, the linear ones milliseconds.

    Inputs: numpy or torch, any device and float dtype; NaN, inf, a constant column of z and too
    few rows are refused with a ValueError.
    """
    tolerance = check_float("tolerance", tolerance, low=0, high=1, high_open=True)
    max_train = check_int("max_train", max_train, low=10)
    seed = check_seed("seed", seed)
    test_size = check_float("test_size", test_size, low=0, high=1, low_open=True, high_open=True)
    if not isinstance(null, bool):
        raise SettingError("null", f"must be True or False, got {null!r}")
    data = prepare(_common_scale(z_hat), z, test_size, seed)
    if min(len(data.train), len(data.test)) < MIN_ROWS:
        raise ValueError(f"profile needs {MIN_ROWS} rows in each split, got {len(data.train)} and {len(data.test)}")
    blocks = _check_blocks(blocks, data.z.shape[1])
    columns = data.z_hat.shape[1]
    data, varying, dropped = _without_constant_columns(data)
    code_blocks = _check_code_blocks(code_blocks, blocks, columns, varying.tolist())

    wanted = _check_classes(classes, blocks)
    linear = _linear(data)  # milliseconds; its metrics' warnings are reported whatever is asked
    numbers = linear.numbers()
    kernel_settings = {"max_train": max_train, "blocks": blocks, "reverse": "smooth" in wanted, "code_blocks": code_blocks}
    if wanted & {"smooth", "block"}:
        kernel = _nonlinear(data, **kernel_settings)
        numbers |= kernel.numbers()
        code_blocks = kernel.extras.get("code_blocks")
    scores = {c: numbers[c] for c in CLASSES if c in wanted}
    reached = reached_of(scores, tolerance)
    nulls = _nulls(data, wanted, test_size, kernel_settings) if null else None
    metric_warnings = {name: support(name, s)[1] for name, s in linear.extras["metrics"].items()}
    return Profile(
        scores=scores,
        tolerance=tolerance,
        reached=reached,
        finest=finest_of(reached),
        nulls=nulls,
        blocks=blocks,
        code_blocks=None if "block" not in wanted else tuple(tuple(varying[list(a)].tolist()) for a in code_blocks),
        block_scores=None if "block" not in wanted else tuple(numbers[f"block {i}"] for i in range(len(blocks))),
        parts={k: numbers[k] for k in ("affine_forward", "affine_reverse", "smooth_forward", "smooth_reverse") if k in numbers},
        warnings=tuple(w for ws in metric_warnings.values() for w in ws),
        class_warnings={c: metric_warnings[_METRIC_OF[c]] for c in scores if c in _METRIC_OF},
        settings={"test_size": test_size, "seed": seed, "max_train": max_train, "dropped_constant_columns": dropped,
                  "classes": [c for c in CLASSES if c in wanted]},
    )
