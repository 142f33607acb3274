"""R^2 scores: how much of each true latent a map of the representation explains."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.kernel_ridge import KernelRidge
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler

from ._inputs import ArrayLike
from .moments import affine_r2_between, pooled, split_moments, swapped
from .result import MetricResult, R2Result
from .scoring import Scores, score_metric


def _affine_r2(zh: torch.Tensor, zt: torch.Tensor, train: torch.Tensor, test: torch.Tensor) -> Scores:
    fit, held_out = split_moments(zh, zt, train, test, gram_x=True, gram_y=True)
    everything = pooled(fit, held_out)
    return Scores(
        per_latent=affine_r2_between(fit, held_out),
        in_sample=float(affine_r2_between(everything, everything).mean()),
        extras={"reverse": float(affine_r2_between(swapped(fit), swapped(held_out)).mean())},
    )


def affine_r2(
    z_hat: ArrayLike, z: ArrayLike, *, test_size: float = 0.5, seed: int = 0, null: bool = False, bootstrap: int = 0
) -> R2Result:
    """Coefficient of determination of the least-squares fit z ~ W z_hat + b.

    W and b are fitted on a seeded random train split and scored on the held-out rest, per true
    latent; the headline is the mean over latents. Held out, a representation independent of z
    scores about -d_hat / n_train (not 0), in-sample about +d_hat / n. ``reverse`` scores z_hat ~ z.

    Args:
        z_hat: (n, d_hat) learned representation, numpy or torch, any device and float dtype.
        z: (n, d) true latents.
        test_size: the held-out fraction.
        seed: fixes the split (and the bootstrap draws).
        null: attach the Monte-Carlo chance level for these shapes.
        bootstrap: resamples for a 95% percentile interval (0: none).
    """
    return score_metric(
        "affine_r2", _affine_r2, z_hat, z, test_size=test_size, seed=seed, null=null, bootstrap=bootstrap,
        result_type=R2Result,
    )


def _nonlinear_r2(
    zh: torch.Tensor, zt: torch.Tensor, train: torch.Tensor, test: torch.Tensor, max_train: int
) -> Scores:
    x, y = zh.cpu().numpy(), zt.cpu().numpy()
    fit_rows = train.cpu().numpy()[:max_train]
    scaler = StandardScaler().fit(x[fit_rows])
    grid = {"alpha": [1e-3, 1e-2, 1e-1, 1.0], "gamma": np.array([0.1, 0.3, 1.0, 3.0]) / x.shape[1]}
    search = GridSearchCV(KernelRidge(kernel="rbf"), grid, cv=3).fit(scaler.transform(x[fit_rows]), y[fit_rows])
    model = search.best_estimator_
    held_out = test.cpu().numpy()
    per_latent = r2_score(y[held_out], model.predict(scaler.transform(x[held_out])), multioutput="raw_values")
    in_sample = r2_score(y[fit_rows], model.predict(scaler.transform(x[fit_rows])))
    return Scores(per_latent=torch.as_tensor(per_latent), in_sample=float(in_sample), extras={"params": search.best_params_})


def nonlinear_r2(
    z_hat: ArrayLike,
    z: ArrayLike,
    *,
    max_train: int = 2000,
    test_size: float = 0.5,
    seed: int = 0,
    null: bool = False,
    bootstrap: int = 0,
) -> MetricResult:
    """R^2 of an RBF kernel-ridge regression z ~ h(z_hat): identifiability up to a nonlinear map
    of blocks. (alpha, gamma) come from a 4 x 4 grid by 3-fold CV on the train split, of which at
    most ``max_train`` rows are used (kernel ridge costs O(n^3)); scored per latent held out.
    ``in_sample`` is the fit's score on those train rows. Arguments as in ``affine_r2``.
    """
    if max_train < 10:
        raise ValueError(f"max_train must be at least 10, got {max_train}")
    return score_metric(
        "nonlinear_r2", _nonlinear_r2, z_hat, z, test_size=test_size, seed=seed, null=null, bootstrap=bootstrap,
        max_train=max_train,
        null_draws=16,
    )
