"""R^2 scores: how much of each true latent a map of the representation explains."""

from __future__ import annotations

import math

import numpy as np
import torch

from identifiability._core import check_int

from ._inputs import ArrayLike, Sample
from .kernel_ridge import fit_rbf_ridge
from .least_squares import fit_affine, held_out_r2, in_sample_r2
from .moments import centred_row_sets, pooled, swapped
from .result import MetricResult, R2Result
from .scoring import Scores, score_metric


def _affine_r2(data: Sample) -> Scores:
    zh, zt, train = data.z_hat, data.z, data.train
    # train: both Gram matrices (forward and reverse fits); test: the x Gram (in-sample, jackknife)
    row_sets = centred_row_sets(zh, zt, train, data.test, gram_x=True, gram_y=(True, False))
    fit, _, _ = next(row_sets)
    forward = fit_affine(zh, zt, train, fit)
    backward = fit_affine(zt, zh, train, swapped(fit))
    held_out, xc, yc = next(row_sets)
    per_latent, jackknife, reverse = held_out_r2(forward, backward, xc, yc, held_out, diagnose=data.diagnose)
    return Scores(
        per_latent=per_latent,
        in_sample=float(in_sample_r2(zh, zt, pooled(fit, held_out)).mean()) if data.diagnose else math.nan,
        extras={"reverse": float(reverse.mean())},
        jackknife=jackknife,
    )


def affine_r2(
    z_hat: ArrayLike, z: ArrayLike, *, test_size: float = 0.5, seed: int = 0, null: bool = False, bootstrap: int = 0
) -> R2Result:
    """Coefficient of determination of the least-squares fit z ~ W z_hat + b.

    W and b are fitted on a seeded random train split and scored on the held-out rest, per true
    latent; the headline is the mean over latents. Held out, a representation independent of z
    scores about -d_hat / n_train (not 0), in-sample about +d_hat / n. ``reverse`` scores z_hat ~ z.

    What the score estimates: the population R^2 of the best affine predictor of each latent from
    z_hat (for an elementwise map z_hat = h(z), corr(z, h(z))^2). Held-out predictions are scored as
    they are: on a heavy-tailed code one extreme held-out row times a coefficient fitted on the train
    split can decide the score (exp(8 z) scores between -1e17 and 0 over split seeds), and then
    ``warnings`` say so (one row carries a large share of a compared column's variance); no rule
    replaces such predictions, as any would only ever raise the score. W comes from the normal
    equations when they are well conditioned and from an SVD of the rows when not (nearly collinear
    columns), so it agrees with a QR/SVD least-squares solver. ``standard_error`` is the jackknife
    error over held-out rows, and ``warnings`` also name every latent whose error is above 0.05: then
    the data cannot pin its score down to within 0.1.

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


# the kernel ridge's grid: ridges, and inverse squared length scales per code column (divided by d_hat)
ALPHAS = (1e-3, 1e-2, 1e-1, 1.0)
GAMMAS = (0.1, 0.3, 1.0, 3.0)


def _nonlinear_r2(data: Sample, max_train: int) -> Scores:
    # scikit-learn is imported where it is used: the command line starts 0.5 s sooner without it
    from sklearn.metrics import r2_score
    from sklearn.preprocessing import QuantileTransformer

    x, y = data.z_hat.cpu().numpy(), data.z.cpu().numpy()
    train = data.train.cpu().numpy()
    # a seeded random subset of the train rows (the first rows of ordered data would be a biased one)
    fit_rows = np.sort(np.random.default_rng(len(train)).permutation(train)[:max_train])
    # normal scores of each code column, fitted on those rows: the kernel sees heavy-tailed columns
    # at full resolution, and the score is invariant to monotone maps of the code's columns
    scores = QuantileTransformer(n_quantiles=min(1000, len(fit_rows)), output_distribution="normal").fit(x[fit_rows])
    normal = scores.transform(x[fit_rows])
    model = fit_rbf_ridge(normal, y[fit_rows], alphas=ALPHAS, gammas=np.array(GAMMAS) / x.shape[1])
    held_out = data.test.cpu().numpy()
    per_latent = r2_score(y[held_out], model.predict(scores.transform(x[held_out])), multioutput="raw_values")
    in_sample = r2_score(y[fit_rows], model.predict(normal))
    return Scores(per_latent=torch.as_tensor(per_latent), in_sample=float(in_sample),
                  extras={"params": {"alpha": model.alpha, "gamma": model.gamma}})


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
    of blocks. The kernel sees each code column through its normal scores (a quantile transform
    fitted on the train rows), so the score is invariant to monotone maps of the code's columns and
    heavy-tailed columns keep their resolution (exp(8 z) scores about 1, as z itself does).
    (alpha, gamma) come from a 4 x 4 grid by 3-fold CV on a fixed random subset of at most
    ``max_train`` train rows (kernel ridge costs O(n^3)); scored per latent held out. ``in_sample``
    is the fit's score on those train rows. Arguments as in ``affine_r2``.
    """
    max_train = check_int("max_train", max_train, low=10)
    return score_metric(
        "nonlinear_r2", _nonlinear_r2, z_hat, z, test_size=test_size, seed=seed, null=null, bootstrap=bootstrap,
        max_train=max_train,
        null_draws=16,
    )
