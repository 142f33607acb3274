"""Hypothesis strategies over hostile representations whose population scores are known (needs hypothesis).

A drawn ``HostileCode`` holds true latents z (n, d), Gaussian or uniform, and a code z_hat whose
columns are, per latent, an exact affine copy (at huge offsets and scales), an elementwise map h(z_j)
with a closed-form correlation corr(z_j, h(z_j)), or nothing; plus columns that carry nothing (noise,
a heavy-tailed exp(8 w), a constant) or repeat others (an exact or a nearly collinear combination).
Each latent is linked to one column at most, by a known correlation rho_j, so the population R^2 of
the best affine predictor is rho_j^2 per latent and the population Pearson MCC is the mean |rho_j|.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

_ROOT3 = math.sqrt(3)


def _uniform_moment(k: int) -> float:
    """E u^k of u ~ U(-sqrt 3, sqrt 3), unit variance."""
    return 0.0 if k % 2 else 3 ** (k / 2) / (k + 1)


def _uniform_exp(a: float) -> float:
    """E exp(a u), u ~ U(-sqrt 3, sqrt 3)."""
    return math.sinh(_ROOT3 * a) / (_ROOT3 * a)


def _uniform_exp_corr(a: float) -> float:
    t = _ROOT3 * a
    covariance = (t * math.cosh(t) - math.sinh(t)) / (_ROOT3 * a**2)  # d/da E exp(a u)
    return covariance / math.sqrt(_uniform_exp(2 * a) - _uniform_exp(a) ** 2)


def _double_factorial(k: int) -> int:
    return math.prod(range(k, 0, -2))


def _gauss_power_corr(k: int) -> float:
    """corr(z, z^k), z ~ N(0, 1), k odd: E z^{k+1} / sqrt(E z^{2k})."""
    return _double_factorial(k) / math.sqrt(_double_factorial(2 * k - 1))


def _uniform_power_corr(k: int) -> float:
    return _uniform_moment(k + 1) / math.sqrt(_uniform_moment(2 * k))


# name -> (h, corr(z, h(z)) for z ~ N(0, 1), for z ~ U(-sqrt 3, sqrt 3): closed forms; then the
# kurtosis of h(z) under each law, by quadrature, for telling heavy from light tails)
MAPS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], float, float, tuple[float, float]]] = {
    "z^3": (lambda t: t**3, _gauss_power_corr(3), _uniform_power_corr(3), (46.2, 3.77)),
    "z^5": (lambda t: t**5, _gauss_power_corr(5), _uniform_power_corr(5), (733.0, 5.76)),
    "z^9": (lambda t: t**9, _gauss_power_corr(9), _uniform_power_corr(9), (1.9e5, 9.76)),
    "exp(z)": (np.exp, 1 / math.sqrt(math.e - 1), _uniform_exp_corr(1.0), (114.0, 3.18)),
    "exp(3z)": (lambda t: np.exp(3 * t), 3 / math.sqrt(math.exp(9) - 1), _uniform_exp_corr(3.0), (4.3e15, 9.36)),
    "exp(8z)": (lambda t: np.exp(8 * t), 8 / math.sqrt(math.expm1(64)), _uniform_exp_corr(8.0), (math.inf, 26.5)),
    "sinh(z)": (np.sinh, math.exp(0.5) / math.sqrt(math.expm1(2) / 2), math.nan, (36.2, math.nan)),
    "sinh(4z)": (lambda t: np.sinh(4 * t), 4 * math.exp(8) / math.sqrt(math.expm1(32) / 2), math.nan, (math.inf, math.nan)),
}
_UNIFORM_MAPS = [name for name, (_, _, u, _) in MAPS.items() if not math.isnan(u)]


@dataclass(frozen=True)
class HostileCode:
    """A code z_hat (n, d_hat) of latents z (n, d) with its population scores.

    Attributes:
        r2: (d,) population R^2 of the best affine predictor of each latent from z_hat.
        mcc: population Pearson MCC (maximum-weight matching of the population |correlations|,
            averaged over the d latents).
        columns: what each column of z_hat is, in words.
        law: "gaussian" or "uniform", the latents' law.
        kurtosis: the largest population kurtosis of a column (3 for a Gaussian, 1.8 for a uniform).
    """

    z: np.ndarray
    z_hat: np.ndarray
    r2: np.ndarray
    mcc: float
    columns: tuple[str, ...]
    law: str
    kurtosis: float

    @property
    def light_tailed(self) -> bool:
        """Every column's kurtosis is at most 10 (copies, noise, constants, the maps of uniform
        latents but exp(8 z)): a few thousand rows resolve its tails."""
        return self.kurtosis <= 10


@st.composite
def hostile_codes(draw, max_dim: int = 4, n: tuple[int, int] = (3000, 8000)) -> HostileCode:
    """Codes mixing exact copies (offset up to 1e12, scale 1e-12 to 1e12), elementwise maps with
    closed-form correlations (incl. heavy tails: z^9, exp(8 z), sinh(4 z)), useless noise,
    heavy-tailed and constant columns, and exact or nearly collinear repeats, in shuffled order."""
    d = draw(st.integers(1, max_dim))
    rows = draw(st.integers(*n))
    law = draw(st.sampled_from(["gaussian", "uniform"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    z = rng.standard_normal((rows, d)) if law == "gaussian" else rng.uniform(-_ROOT3, _ROOT3, (rows, d))
    # Features are independent, each linked to at most one latent: latent j's feature, if any, is
    # its best predictor and its partner in the population matching; repeats only dilute them.
    columns, names, rho = [], [], np.zeros(d)
    kurtosis = [3.0 if law == "gaussian" else 1.8]
    for j in range(d):
        kind = draw(st.sampled_from(["copy", "map", "none"]))
        if kind == "copy":
            scale = draw(st.sampled_from([1e-12, 1.0, -3.0, 1e12]))
            offset = draw(st.sampled_from([0.0, 1e12])) if abs(scale) == 1 else 0.0
            rho[j] = 1.0
            columns.append(offset + scale * z[:, j])
            names.append(f"{offset:g} + {scale:g} z{j}")
        elif kind == "map":
            name = draw(st.sampled_from(list(MAPS) if law == "gaussian" else _UNIFORM_MAPS))
            h, gauss, uniform, tails = MAPS[name]
            rho[j] = gauss if law == "gaussian" else uniform
            kurtosis.append(tails[law == "uniform"])
            columns.append(h(z[:, j]))
            names.append(name.replace("z", f"z{j}"))
    for extra in draw(st.lists(st.sampled_from(["noise", "heavy", "constant"]), max_size=2)):
        noise = rng.standard_normal(rows)
        columns.append({"noise": noise, "heavy": np.exp(8 * noise), "constant": np.full(rows, 7.0)}[extra])
        names.append(extra)
        kurtosis.append(math.inf if extra == "heavy" else 3.0)
    if not columns:
        columns.append(rng.standard_normal(rows))
        names.append("noise")
    features = len(columns)
    for repeat in draw(st.lists(st.sampled_from(["exact", "near"]), max_size=2)):
        i, k = draw(st.integers(0, features - 1)), draw(st.integers(0, features - 1))
        if repeat == "exact":  # exactly collinear with two columns
            columns.append(columns[i] + 2.0 * columns[k])
            names.append(f"({names[i]}) + 2 ({names[k]})")
        else:  # nearly collinear: a copy plus a trace of fresh noise
            columns.append(columns[i] + 1e-7 * max(float(np.std(columns[i])), 1e-300) * rng.standard_normal(rows))
            names.append(f"({names[i]}) + 1e-7 noise")
    order = draw(st.permutations(range(len(columns))))
    z_hat = np.stack([columns[i] for i in order], 1)
    names = tuple(names[i] for i in order)
    r2, mcc = rho**2, float(np.abs(rho).mean())
    return HostileCode(z, z_hat, r2, mcc, names, law, max(kurtosis))
