"""Invertible MLP mixing maps g: R^d -> R^d (Hyvarinen & Morioka; Zimmermann et al. 2021)."""

from __future__ import annotations

import math
from typing import Any

import torch

from identifiability._core import SettingError, as_generator, check_fits, check_float, check_int

from .batch import Constants
from .process import Process


# reference matrices drawn at once where drawing all of them would take over 128 MB
_REFERENCE_CHUNK = 64
# the reference draws' cost, in units of d^3 (an SVD's): 10 000 draws up to d = 40 (about 3 s on one core of
# a laptop), fewer beyond, so that building a problem at d = 512 takes seconds, not the 13 minutes of 10 000 SVDs;
# up to d = 40 the recipe is the one every problem was drawn with before (the same matrices for the same seed)
_FULL_REFERENCE_DIM = 40
_REFERENCE_BUDGET = 10_000 * _FULL_REFERENCE_DIM**3
# no quantile from fewer draws: at 32 the accepted share is the quantile +- 0.08 (one standard error at q = 0.25)
_MIN_REFERENCE = 32


def reference_count(dim: int) -> int:
    """How many reference draws set the condition-number threshold at ``dim``: 10 000 up to d = 40,
    then as d^-3 (the SVDs' cost) down to 32 at d >= 272 (1250 at d = 80, 305 at 128). The threshold is the
    empirical quantile q of these draws, so the share of matrices it accepts is q +- sqrt(q (1 - q) / n)
    (one standard error: 0.25 +- 0.004 at 10 000 draws, 0.25 +- 0.08 at 32); the chosen matrices are fixed
    by the seed all the same."""
    return max(_MIN_REFERENCE, min(10_000, _REFERENCE_BUDGET // dim**3))


def _uniform_draws(count: int, dim: int, gen: torch.Generator) -> torch.Tensor:
    """(count, dim, dim) matrices of U[-1, 1] entries, exactly as drawn (float64)."""
    return torch.rand(count, dim, dim, generator=gen, dtype=torch.float64) * 2 - 1


def unit_columns(draws: torch.Tensor) -> torch.Tensor:
    """(..., dim, dim) matrices with their columns scaled to unit L2 norm."""
    return draws / draws.norm(dim=-2, keepdim=True)


def well_conditioned_matrices(
    n_matrices: int,
    dim: int,
    seed: int,
    *,
    quantile: float | None = 0.25,
    min_of: int | None = None,
    n_reference: int | None = None,
) -> tuple[torch.Tensor, float]:
    """Square random matrices (U[-1, 1] columns scaled to unit L2 norm) with small condition numbers.

    Two recipes: ``quantile``, the threshold is that quantile of the condition numbers of
    ``n_reference`` draws and each matrix is redrawn until it falls below it (Hyvarinen & Morioka's
    TCL/PCL code, the default); ``min_of = N``, each matrix is the best conditioned of N draws
    (as in Zimmermann et al.'s code). Exactly one of the two is set. ``n_reference`` defaults to
    ``reference_count(dim)``: 10 000 up to d = 40, fewer beyond, so that the cost stays that of d = 40.
    Candidates are drawn 64 at a time up to d = 40 and, beyond, as many as the quantile makes enough
    on average (the d^3 cost of 64 SVDs would dominate there).

    The condition numbers come from LAPACK, whose last bits depend on the CPU's code path (at most
    7e-13 relative between 13 paths, ``benchmarks/math_paths.py``). A comparison with the threshold
    (or, for ``min_of``, with the best rival) flips only for a draw that close to it: the draws chosen
    are the same on every machine but with a probability of the order of 1e-10 per process. A margin
    would not help (it moves the boundary, it does not remove it); what must not depend on the path
    is what is kept, so a process keeps the chosen draws, never the threshold or the products.

    Returns:
        The chosen (n_matrices, dim, dim) U[-1, 1] draws exactly as drawn (``unit_columns`` of them
        are the matrices; a process keeps these, not the matrices, as its mechanism), and the
        threshold the matrices obey.
    """
    if (quantile is None) == (min_of is None):
        raise ValueError("set exactly one of quantile and min_of")
    gen = as_generator(seed)
    if min_of is not None:
        min_of = check_int("min_of", min_of, low=1)
        candidates = _uniform_draws(n_matrices * min_of, dim, gen).reshape(n_matrices, min_of, dim, dim)
        cond = torch.linalg.cond(unit_columns(candidates))
        best = cond.argmin(dim=1)
        return candidates[torch.arange(n_matrices), best], float(cond.min(dim=1).values.max())
    quantile = check_float("quantile", quantile, low=0, high=1, low_open=True)
    n_reference = reference_count(dim) if n_reference is None else check_int("n_reference", n_reference, low=1)
    # the reference draws at once (128 MB at most: dim <= 40 at the default count), else in chunks
    chunk = n_reference if n_reference * dim**2 <= 2**24 else _REFERENCE_CHUNK
    reference = torch.cat([
        torch.linalg.cond(unit_columns(_uniform_draws(min(chunk, n_reference - start), dim, gen)))
        for start in range(0, n_reference, chunk)
    ])
    threshold = float(torch.quantile(reference, quantile))
    per_round = 64 if dim <= _FULL_REFERENCE_DIM else math.ceil(n_matrices / quantile)
    accepted: list[torch.Tensor] = []
    while len(accepted) < n_matrices:
        candidates = _uniform_draws(per_round, dim, gen)
        accepted.extend(candidates[torch.linalg.cond(unit_columns(candidates)) <= threshold])
    return torch.stack(accepted[:n_matrices]), threshold


def orthonormal_lift(draw: torch.Tensor) -> torch.Tensor:
    """(D, d) float64 matrix with orthonormal columns from a (D, d) Gaussian ``draw`` (QR, signs
    fixed by R's diagonal): an isometric, hence injective, embedding of R^d into R^D."""
    q, r = torch.linalg.qr(draw)
    return q * torch.sign(torch.diagonal(r))


class MLPMixing(Constants):
    """g(z) = P W_L a(... a(W_1 z)): square, well-conditioned weights W, leaky-ReLU ``a`` between
    layers (none after the last), and an optional orthonormal lift P to D = ``observed_dim`` > d.

    ``n_layers = 0`` is the identity (or the lift alone); ``n_layers = 1`` is linear mixing. The
    mechanism is what ``seed`` draws, kept exactly as drawn: ``weight_draws`` (U[-1, 1] matrices,
    chosen by ``well_conditioned_matrices``) and ``lift_draw`` (a Gaussian); the weights, their
    inverses and the lift are computed from them once, in float64, and kept out of the public
    attributes (their last bits depend on the math library's code path, so ``fingerprint`` must not
    see them). Calls run in the input's dtype and device. ``inverse`` is exact on the range of g (for
    D > d: on the d-dimensional data manifold).
    """

    def __init__(
        self,
        dim: int,
        n_layers: int = 3,
        *,
        observed_dim: int | None = None,
        slope: float = 0.2,
        seed: int = 0,
        quantile: float | None = 0.25,
        min_of: int | None = None,
    ) -> None:
        dim = check_int("dim", dim, low=1)
        n_layers = check_int("n_layers", n_layers, low=0)
        slope = check_float("slope", slope, low=0, high=1, low_open=True)
        if observed_dim is not None:
            observed_dim = check_int("observed_dim", observed_dim, low=dim)
        check_fits(self.memory(dim, n_layers, observed_dim))
        self.dim, self.n_layers, self.slope = dim, n_layers, slope
        self.observed_dim = dim if observed_dim is None else observed_dim
        if n_layers:
            self.weight_draws, self._threshold = well_conditioned_matrices(
                n_layers, dim, seed, quantile=None if min_of else quantile, min_of=min_of
            )
        else:
            self.weight_draws, self._threshold = torch.empty(0, dim, dim, dtype=torch.float64), 1.0
        self.lift_draw = (torch.randn(self.observed_dim, dim, generator=as_generator(seed + 1), dtype=torch.float64)
                          if self.observed_dim > dim else None)
        self._weights = unit_columns(self.weight_draws)
        # one matrix at a time: torch's batched LU is wrong at d >~ 150 once torch.set_num_threads(k > 1) has
        # been called (pytorch/pytorch#141358, MKL's threaded getrf), and a process keeps at most a few layers
        self._inverses = torch.stack([torch.linalg.inv(w) for w in self._weights]) if n_layers else self._weights.clone()
        self._lift = None if self.lift_draw is None else orthonormal_lift(self.lift_draw)

    @staticmethod
    def memory(dim: int, n_layers: int, observed_dim: int | None = None) -> dict[str, int]:
        """Bytes its construction takes, by the setting that drives them: the reference draws
        (dim), the weights and inverses (n_layers), the lift (observed_dim)."""
        count = reference_count(dim)
        reference = count if count * dim**2 <= 2**24 else _REFERENCE_CHUNK
        return {
            f"dim={dim}": 8 * reference * dim**2,
            f"n_layers={n_layers}": 16 * n_layers * dim**2,
            f"observed_dim={observed_dim}": 8 * (observed_dim or 0) * dim,
        }

    @property
    def weights(self) -> torch.Tensor:
        """(n_layers, d, d) float64 weight matrices W: the draws' columns scaled to unit norm."""
        return self._weights

    @property
    def inverses(self) -> torch.Tensor:
        """(n_layers, d, d) float64 inverses of the weights."""
        return self._inverses

    @property
    def lift(self) -> torch.Tensor | None:
        """(D, d) float64 orthonormal lift P, or None where D = d."""
        return self._lift

    @property
    def threshold(self) -> float:
        """The condition number every weight matrix obeys (the reference quantile, or with
        ``min_of`` the largest of the chosen ones)."""
        return self._threshold

    @property
    def assumptions(self) -> tuple[str, ...]:
        """The assumption names this map satisfies: "injective_mixing" (lifted) or
        "invertible_mixing", and "linear_mixing" where it has at most one layer."""
        kind = "injective_mixing" if self.lift is not None else "invertible_mixing"
        return (kind, "linear_mixing") if self.n_layers <= 1 else (kind,)

    @property
    def condition_numbers(self) -> torch.Tensor:
        """(n_layers,) condition numbers of the square weight matrices."""
        return torch.linalg.cond(self.weights)

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        """(..., d) latents -> (..., D) observations."""
        for i, w in enumerate(self.constant("weights", z)):
            z = z @ w.T
            if i < self.n_layers - 1:
                z = torch.nn.functional.leaky_relu(z, self.slope)
        return z if self.lift is None else z @ self.constant("lift", z).T

    def inverse(self, x: torch.Tensor) -> torch.Tensor:
        """(..., D) observations -> (..., d) latents; ``inverse(g(z)) == z``."""
        if self.lift is not None:
            x = x @ self.constant("lift", x)
        inverses = self.constant("inverses", x)
        for i in reversed(range(self.n_layers)):
            if i < self.n_layers - 1:
                x = torch.where(x > 0, x, x / self.slope)
            x = x @ inverses[i].T
        return x

    def __repr__(self) -> str:
        lift = f", observed_dim={self.observed_dim}" if self.lift is not None else ""
        return f"MLPMixing(dim={self.dim}, n_layers={self.n_layers}{lift}, slope={self.slope})"


# x = g(z) is of order 1: noise a thousand times larger is all noise (and near float32's range, inf)
MAX_OBSERVATION_NOISE = 1e3


class MixedProcess(Process):
    """A process observed through an ``MLPMixing`` held in ``self.mixing``, with additive Gaussian
    observation noise of standard deviation ``self.observation_noise`` (sigma_x)."""

    mixing: MLPMixing
    observation_noise: float = 0.0

    def observe(self, latent: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """x = g(latent) + sigma_x eps, eps ~ N(0, I) drawn from ``gen`` after the latents (in float64,
        cast to x's dtype; sigma_x = 0 draws nothing, so noiseless streams are unchanged)."""
        x = self.mixing(latent)
        if not self.observation_noise:
            return x
        eps = torch.randn(x.shape, generator=gen, device=gen.device, dtype=torch.float64)
        return x + (self.observation_noise * eps).to(x.dtype)

    def latent_observation_noise(self, latent: torch.Tensor) -> torch.Tensor:
        """The observation noise as seen in the coordinates of the mixed latents, (m, m) for rows
        ``latent`` (n, m): the mean over the rows of sigma_x^2 (J^T J)^{-1}, J = dg/dz there (D, m),
        the covariance of g^{-1}(g(z) + sigma_x eps) - z to first order in sigma_x."""
        if not self.observation_noise:  # no Jacobians needed
            return torch.zeros(latent.shape[1], latent.shape[1], dtype=torch.float64)

        def g(v: torch.Tensor) -> torch.Tensor:
            return self.mixing(v[None])[0]

        jac = torch.func.vmap(torch.func.jacrev(g))(latent.double())  # (n, D, m)
        return self.observation_noise**2 * torch.linalg.inv(jac.mT @ jac).mean(0)

    def _noise_assumptions(self) -> tuple[str, ...]:
        return ("noisy_observations",) if self.observation_noise else ()

    def _noise_repr(self) -> str:
        return f", observation_noise={self.observation_noise:g}" if self.observation_noise else ""

    @staticmethod
    def make_mixing(dim: int, n_layers: int, *, dim_name: str = "latent_dim", **kwargs: Any) -> MLPMixing:
        """``MLPMixing(dim, n_layers, **kwargs)`` whose errors name the process's settings
        (``dim_name``, mixing_layers) rather than the mixing's own."""
        try:
            return MLPMixing(dim, n_layers, **kwargs)
        except SettingError as error:
            name = {"dim": dim_name, "n_layers": "mixing_layers"}.get(error.name, error.name)
            raise SettingError(name, error.reason) from None

    @property
    def observed_dim(self) -> int:
        """D, the dimension of x."""
        return self.mixing.observed_dim

    @property
    def observed_shape(self) -> tuple[int, ...]:
        """The shape of one observation x_t: (D,)."""
        return (self.observed_dim,)
