"""RBF kernel ridge regression with (alpha, gamma) chosen on a grid by k-fold cross-validation.

It computes what scikit-learn's ``GridSearchCV(KernelRidge(kernel="rbf"), {"alpha": ..., "gamma": ...},
cv=k)`` computes (the same unshuffled folds, R^2 averaged over outputs and then folds, the first best
grid point on ties, a Cholesky solve of the dual), from one squared-distance matrix of the rows: each
gamma's kernel is one elementwise exp of it, each fold's one slice. GridSearchCV rebuilds the kernel
and validates its inputs for each of its k |alphas| |gammas| fits, which made a kernel R^2 at 500
rows cost about a second, nearly all of it overhead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import linalg


def _dual(kernel: np.ndarray, y: np.ndarray, alpha: float) -> np.ndarray:
    """(m, k) dual coefficients of kernel ridge: (K + alpha I)^{-1} y, by Cholesky (K is PSD, alpha > 0)."""
    ridge = kernel.copy()
    ridge.flat[:: len(ridge) + 1] += alpha
    return linalg.cho_solve(linalg.cho_factor(ridge, overwrite_a=True, check_finite=False), y, check_finite=False)


def _r2(y: np.ndarray, predicted: np.ndarray) -> float:
    """R^2 of (m, k) predictions averaged over the k outputs, as ``sklearn.metrics.r2_score`` gives it
    (an output of constant y scores 1 where predicted exactly, else 0)."""
    residual = np.square(y - predicted).sum(0)
    total = np.square(y - y.mean(0)).sum(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = np.where(total > 0, 1 - residual / total, np.where(residual > 0, 0.0, 1.0))
    return float(scores.mean())


@dataclass(frozen=True)
class RBFRidge:
    """A fitted RBF kernel ridge: predictions exp(-gamma |x - row|^2) @ dual.

    Attributes:
        rows: (m, p) the training inputs.
        dual: (m, k) the dual coefficients.
        alpha: the ridge.
        gamma: the kernel's inverse squared length scale.
    """

    rows: np.ndarray
    dual: np.ndarray
    alpha: float
    gamma: float

    def predict(self, x: np.ndarray) -> np.ndarray:
        """(n, p) -> (n, k)."""
        # scikit-learn is imported where it is used: the command line starts 0.5 s sooner without it
        from sklearn.metrics.pairwise import euclidean_distances

        return np.exp(-self.gamma * euclidean_distances(x, self.rows, squared=True)) @ self.dual


def fit_rbf_ridge(x: np.ndarray, y: np.ndarray, alphas: Sequence[float], gammas: Sequence[float], folds: int = 3) -> RBFRidge:
    """Kernel ridge of y (m, k) on x (m, p) at the (alpha, gamma) of the grid with the best mean
    held-out R^2 over ``folds`` contiguous folds (ties: the first in alpha-major order), refitted on
    all rows."""
    from sklearn.metrics.pairwise import euclidean_distances
    from sklearn.model_selection import KFold

    distances = euclidean_distances(x, squared=True)
    splits = list(KFold(folds).split(x))
    grid = [(a, g) for a in alphas for g in gammas]  # scikit-learn's ParameterGrid order: keys sorted, the last fastest
    scores = np.zeros(len(grid))
    for g, gamma in enumerate(gammas):
        kernel = np.exp(-gamma * distances)
        for fit, held in splits:
            inner, cross = kernel[np.ix_(fit, fit)], kernel[np.ix_(held, fit)]
            for a, alpha in enumerate(alphas):
                scores[a * len(gammas) + g] += _r2(y[held], cross @ _dual(inner, y[fit], alpha)) / folds
    alpha, gamma = grid[int(np.nanargmax(scores))]
    return RBFRidge(x, _dual(np.exp(-gamma * distances), y, alpha), alpha, gamma)
