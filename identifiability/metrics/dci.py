"""DCI (Eastwood & Williams 2018): disentanglement, completeness and informativeness of a code."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import lru_cache
from typing import Literal

import numpy as np
import torch

from identifiability._core import check_choice

from ._inputs import ArrayLike, Sample, split_indices
from .result import DCIResult, Null
from .scoring import Scores, score_metric

Importance = Literal["lasso", "ols", "gbt", "gbt-sklearn"]
LASSO_ALPHA = 0.01

# disentanglement_lib's per-factor predictor: sklearn's default gradient boosting (100 trees of
# depth 3, learning rate 0.1, squared error). "gbt" grows the same trees with LightGBM's histogram
# algorithm, which is what makes it fast; "gbt-sklearn" is the slow reference itself.
_LIGHTGBM = dict(
    n_estimators=100, learning_rate=0.1, max_depth=3, num_leaves=8, min_child_samples=1, min_child_weight=0.0,
    min_split_gain=0.0, reg_lambda=0.0, subsample=1.0, colsample_bytree=1.0, importance_type="gain",
    n_jobs=1, deterministic=True, force_row_wise=True, verbose=-1,
)


# the same trees through LightGBM's native API, so that one binned Dataset of the code serves every factor
_BOOSTER = dict(
    objective="regression", learning_rate=0.1, max_depth=3, num_leaves=8, min_data_in_leaf=1, min_sum_hessian_in_leaf=0.0,
    min_gain_to_split=0.0, lambda_l2=0.0, bagging_fraction=1.0, feature_fraction=1.0, num_threads=1, deterministic=True,
    force_row_wise=True, verbose=-1, max_bin=255,
)


def _fit(importance: Importance, x_train: np.ndarray, y_train: np.ndarray, x_eval: list[np.ndarray]):
    """Importance matrix (codes, factors) and predictions of every factor on each of ``x_eval``."""
    # scikit-learn is imported where it is used: the command line starts 0.5 s sooner without it
    from sklearn.ensemble import GradientBoostingRegressor
    from sklearn.linear_model import Lasso, LinearRegression

    if importance in ("lasso", "ols"):
        model = Lasso(alpha=LASSO_ALPHA) if importance == "lasso" else LinearRegression()
        model.fit(x_train, y_train)
        return np.abs(model.coef_).T.reshape(x_train.shape[1], -1), [model.predict(x).reshape(len(x), -1) for x in x_eval]
    if importance == "gbt":
        return _boosted(x_train, y_train, x_eval)
    columns, predictions = [], [[] for _ in x_eval]
    for j in range(y_train.shape[1]):
        model = GradientBoostingRegressor(random_state=0).fit(x_train, y_train[:, j])
        columns.append(model.feature_importances_)
        for out, x in zip(predictions, x_eval):
            out.append(model.predict(x))
    return np.stack(columns, axis=1), [np.stack(p, axis=1) for p in predictions]


def _boosted(x_train: np.ndarray, y_train: np.ndarray, x_eval: list[np.ndarray]):
    """``_fit`` for LightGBM trees: the code binned once into a Dataset, its label swapped per factor
    (binning depends on the code alone; the trees are those of ``LGBMRegressor(**_LIGHTGBM)``). The
    factors are split over ``torch.get_num_threads()`` Python threads (LightGBM releases the GIL), each
    with its own Dataset and single-threaded trees, so the result does not depend on the thread count
    (bit for bit); across math-library paths it moves with the rounding of the numpy products around
    it (1.6e-15 on tests/golden.py's seeded code, over 13 paths); a worker that runs one torch thread
    fits them in turn."""
    import lightgbm  # where it is used, as scikit-learn above: it imports scikit-learn

    factors = y_train.shape[1]
    chunks = [c for c in np.array_split(np.arange(factors), min(factors, max(1, torch.get_num_threads()))) if len(c)]

    def fit(chunk: np.ndarray) -> list[tuple[np.ndarray, list[np.ndarray]]]:
        data = lightgbm.Dataset(x_train, label=y_train[:, chunk[0]], params=_BOOSTER,
                                free_raw_data=False).construct()
        out = []
        for j in chunk:
            data.set_label(y_train[:, j])
            booster = lightgbm.train(_BOOSTER, data, num_boost_round=_LIGHTGBM["n_estimators"])
            gain = booster.feature_importance(importance_type="gain").astype(np.float64)
            out.append((gain / gain.sum() if gain.sum() > 0 else gain, [booster.predict(x) for x in x_eval]))
        return out

    if len(chunks) == 1:
        fitted = fit(chunks[0])
    else:
        with ThreadPoolExecutor(len(chunks)) as pool:
            fitted = [f for part in pool.map(fit, chunks) for f in part]
    columns = np.stack([f[0] for f in fitted], axis=1)
    return columns, [np.stack([f[1][k] for f in fitted], axis=1) for k in range(len(x_eval))]


def _one_minus_entropy(p: np.ndarray, base: int) -> np.ndarray:
    """1 - H_base of each column of a column-stochastic matrix; 1 when base is 1."""
    if base == 1:
        return np.ones(p.shape[1])
    logs = np.log(p, where=p > 0, out=np.zeros_like(p))
    return 1 + (p * logs).sum(0) / np.log(base)


def disentanglement_completeness(r: np.ndarray) -> tuple[float, float, np.ndarray]:
    """D, C and the per-factor completeness of a non-negative (codes, factors) importance matrix.

    D = sum_i rho_i (1 - H_K(P_i.)), rho_i = code i's share of all importance; C = mean_j (1 - H_D(P~_.j)).
    Degenerate cases are defined, never NaN: one factor gives D_i = 1, one code C_j = 1, a code
    with no importance has weight 0, a factor no code predicts has C_j = 0, and an all-zero
    matrix (the code predicts nothing) has D = C = 0.
    """
    codes, factors = r.shape
    total = r.sum()
    if total <= 0:
        return 0.0, 0.0, np.zeros(factors)
    row, col = r.sum(1), r.sum(0)
    per_code = _one_minus_entropy(np.divide(r.T, row, out=np.zeros_like(r.T), where=row > 0), factors)
    per_factor = np.where(col > 0, _one_minus_entropy(np.divide(r, col, out=np.zeros_like(r), where=col > 0), codes), 0)
    return float((row / total) @ per_code), float(per_factor.mean()), per_factor


def train_ranks(x: np.ndarray, train: np.ndarray) -> np.ndarray:
    """Each column of x (n, k) replaced by the dense rank, among the column's distinct train
    values, of the largest train value at or below it (0 below them all): a monotone map fitted on
    the train rows that keeps every split a tree can make there and depends on order alone, so
    trees fitted after it are exactly invariant to strictly monotone maps of the code, and no
    scaling or float32 step can merge distinct values of a heavy-tailed column."""
    out = np.empty(x.shape, dtype=np.float64)
    for j in range(x.shape[1]):  # a loop over code columns, not samples
        out[:, j] = np.searchsorted(np.unique(x[train, j]), x[:, j], side="right")
    return out


def _predictors_view(data: Sample, importance: Importance) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The code as the predictors see it, the factors standardised with train statistics, and the
    train and test rows. Trees see the code through its train ranks; linear importances see it
    standardised with train statistics, so importances compare across codes."""
    x, y = data.z_hat.cpu().numpy(), data.z.cpu().numpy()
    tr, te = data.train.cpu().numpy(), data.test.cpu().numpy()
    if importance in ("gbt", "gbt-sklearn"):
        x = train_ranks(x, tr)
    else:
        sx = x[tr].std(0)
        x = (x - x[tr].mean(0)) / np.where(sx > 0, sx, 1)
    return x, (y - y[tr].mean(0)) / y[tr].std(0), tr, te


def _fitted(data: Sample, importance: Importance) -> tuple[np.ndarray, np.ndarray, float]:
    """The importance matrix (codes, factors), each factor's held-out R^2 and the train R^2 of all."""
    from sklearn.metrics import r2_score

    x, y, tr, te = _predictors_view(data, importance)
    r, (pred_test, pred_train) = _fit(importance, x[tr], y[tr], [x[te], x[tr]])
    return r, r2_score(y[te], pred_test, multioutput="raw_values"), float(r2_score(y[tr], pred_train))


def _dci(data: Sample, importance: Importance) -> Scores:
    r, held_out, in_sample = _fitted(data, importance)
    d, c, per_factor = disentanglement_completeness(r)
    return Scores(
        per_latent=torch.as_tensor(per_factor),
        in_sample=in_sample,
        score=d,
        extras={
            "disentanglement": d,
            "completeness": c,
            "informativeness": float(held_out.mean()),
            "importance": tuple(map(tuple, r.tolist())),
        },
    )


def redrawn_r2(predicted: np.ndarray, mean: np.ndarray, scale: np.ndarray, columns: np.ndarray,
               rng: np.random.Generator) -> np.ndarray:
    """Held-out R^2 of fixed test predictions against fresh factors independent of them, drawn exactly.

    Under the null a factor's test values y are n i.i.d. N(0, 1), independent of what its predictor
    saw, and are scored as t = (y - mean) / scale (standardised with the train statistics). The R^2
    of predictions p, 1 - sum (t - p)^2 / sum (t - mean t)^2, depends on y only through sum y,
    sum y^2 and sum y p; in an orthonormal basis that holds 1 / sqrt(n) and the centred p,
    y = a e_1 + b e_2 + r with a, b ~ N(0, 1) and |r|^2 ~ chi^2_{n-2}, all independent: three draws
    per score instead of n, and the same law.

    Args:
        predicted: (n, k) test predictions of k fitted factors.
        mean, scale: (k,) each factor's train mean and standard deviation.
        columns: (draws, d) which factors each draw scores.

    Returns:
        (draws, d) R^2.
    """
    n = predicted.shape[0]
    # each fit's sums, then indexed: (draws, d)
    p_sum, p_squares = predicted.sum(0)[columns], np.square(predicted).sum(0)[columns]
    p_spread = np.linalg.norm(predicted - predicted.mean(0), axis=0)[columns]  # |p - mean p|
    m, s = mean[columns], scale[columns]
    a, b = rng.standard_normal((2, *columns.shape))
    rest = rng.gamma(max(n - 2, 0) / 2, 2.0, size=columns.shape)  # chi^2_{n-2}
    y_sum = a * np.sqrt(n)
    y_squares = a**2 + b**2 + rest
    y_p = p_sum / n * y_sum + b * p_spread
    t_sum = (y_sum - n * m) / s
    t_squares = (y_squares - 2 * m * y_sum + n * m**2) / s**2
    t_p = (y_p - m * p_sum) / s
    return 1 - (t_squares - 2 * t_p + p_squares) / (t_squares - t_sum**2 / n)


# The null's pool: per factor of a draw, POOL independent factors fitted on each independent code, as
# many codes as fit in the rows of one at CODE_ROWS (at most MAX_CODES), so a null at small n costs no
# more than one at 10^4 rows; draws resample d fits of one code. See ``pooled_null``.
POOL, NULL_DRAWS, CODE_ROWS, MAX_CODES = 4, 200, 10_000, 4


@lru_cache(maxsize=64)
def pooled_null(n: int, d_hat: int, d: int, test_size: float, importance: Importance, pool: int = POOL,
                draws: int = NULL_DRAWS, seed: int = 0) -> dict[str, Null]:
    """Chance levels of D, C and I for an independent code, n rows, d_hat codes, d factors.

    A draw of the null is d factor fits on an independent code. The fits of different factors on one
    code are independent given the code, and the trees see the code through its ranks only, so a
    code with ``pool`` x d independent factors fitted once gives a pool of (importance column, test
    predictions) pairs, and each of ``draws`` null draws takes d of one code's pool without
    replacement: the fits of ``pool`` Monte-Carlo draws per code (4 d instead of the 16 d of 16
    independent draws), resampled. There is one code at n >= 10^4 rows, up to 4 below, as many as
    fit in 10^4 rows. A draw's held-out R^2 are not those of the pooled factors' own test values but
    of fresh ones (``redrawn_r2``): the test half's share of the chance in I is drawn anew for every
    draw, not frozen into the pool.

    Measured against 200 independent draws (``benchmarks/dci_null.py``, 16 seeds): the 95th
    percentiles agree within 2 combined standard errors at n = 2000, d = 5 (4 codes) and n = 10^4,
    d = 10 (one code). Their Monte-Carlo spread against that of 16 independent draws (the old default)
    is 0.6x for D, C and I at n = 2000; at 10^4, 1.0x for I but 2.3-2.7x for D and C, whose chance
    level depends on the code itself more than on the factors, and one code is all that fits in the
    time of the fit there. The result's ``draws`` counts the independent draws' worth of fits behind
    it, codes x ``pool``.
    """
    gen = torch.Generator().manual_seed(seed)
    train, test = split_indices(n, test_size, seed, torch.device("cpu"))
    codes = min(MAX_CODES, max(1, CODE_ROWS // n))
    fits = pool * d
    importances, predictions, means, scales = [], [], [], []
    for _ in range(codes):
        code = torch.randn(n, d_hat, generator=gen, dtype=torch.float64)
        factors = torch.randn(n, fits, generator=gen, dtype=torch.float64)
        x, y, tr, te = _predictors_view(Sample.of(code, factors, train, test), importance)
        r, (predicted,) = _fit(importance, x[tr], y[tr], [x[te]])
        raw = factors.numpy()[tr]  # the statistics the factors were standardised with
        importances.append(r)
        predictions.append(predicted)
        means.append(raw.mean(0))
        scales.append(raw.std(0))
    rng = np.random.default_rng(seed)
    # a draw: one code, d of its fits; columns index the codes' fits side by side
    columns = np.stack([rng.integers(codes) * fits + rng.choice(fits, size=d, replace=False) for _ in range(draws)])
    r = np.concatenate(importances, axis=1)
    informativeness = redrawn_r2(np.concatenate(predictions, axis=1), np.concatenate(means), np.concatenate(scales),
                                 columns, rng).mean(1)
    dis, com = np.array([disentanglement_completeness(r[:, chosen])[:2] for chosen in columns]).T
    numbers = {"score": dis, "disentanglement": dis, "completeness": com, "informativeness": informativeness}
    return {k: Null(float(np.mean(v)), float(np.quantile(v, 0.95)), codes * pool) for k, v in numbers.items()}


def dci(
    z_hat: ArrayLike,
    z: ArrayLike,
    *,
    importance: Importance = "gbt",
    test_size: float = 0.5,
    seed: int = 0,
    null: bool = True,
    bootstrap: int = 0,
) -> DCIResult:
    """Disentanglement, completeness and informativeness of the code z_hat for the factors z.

    One predictor per factor is fitted on the train split (continuous factors: regressors); its
    importances form R (codes x factors), and informativeness is its mean held-out R^2.
    ``per_latent`` is each factor's completeness, ``in_sample`` the predictors' train R^2.

    Args:
        z_hat: (n, d_hat) code, numpy or torch.
        z: (n, d) true factors.
        importance: "gbt" (LightGBM trees with disentanglement_lib's settings, the default),
            "gbt-sklearn" (sklearn's GradientBoostingRegressor, the slow reference), "lasso"
            (|coefficients|, alpha 0.01 on standardised data) or "ols".
        null: attach chance levels of D, C and I and gate ``score`` on informativeness (on by
            default: D means nothing without them, see ``DCIResult``).
        test_size, seed, bootstrap: as in ``affine_r2``.
    """
    check_choice("importance", importance, ("lasso", "ols", "gbt", "gbt-sklearn"))
    result = score_metric(
        "dci", _dci, z_hat, z, test_size=test_size, seed=seed, null=null, bootstrap=bootstrap,
        result_type=DCIResult, importance=importance,
        null_of=lambda n, d_hat, d, test_size: pooled_null(n, d_hat, d, test_size, importance),
    )
    if result.informativeness_null is None:
        return result
    null = result.informativeness_null.upper
    if result.informativeness > null:
        return replace(result, informative=True, score=result.disentanglement)
    reason = (f"dci's disentanglement is not reported: the code is uninformative (informativeness "
              f"{result.informativeness:.3f} <= its null's 95th percentile {null:.3f}), and its importances are noise")
    return replace(result, informative=False, score=math.nan, warnings=(*result.warnings, reason))
