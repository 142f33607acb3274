"""Issue 3: Spearman and weak MCC, reverse and nonlinear R^2, DCI, bootstrap intervals, devices."""

import math
import numpy as np
import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy.stats import entropy, spearmanr

from identifiability.metrics import (
    affine_r2,
    dci,
    disentanglement_completeness,
    mcc,
    nonlinear_r2,
    raw_observation_baseline,
    weak_mcc,
)
from identifiability.metrics._inputs import split_indices

seeds = st.integers(0, 2**31)


def gaussian(n, d, seed):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


# Strictly monotone in float64 over the data too: sigmoid(3 t) - 5 rounded neighbouring values of
# |t| ~ 10 to the same number (spacing 9e-16 near -4), creating ties the original did not have.
monotone = st.sampled_from([torch.exp, torch.tanh, lambda t: t**3, lambda t: torch.sigmoid(t / 3) - 5, lambda t: -t])


@given(d=st.integers(1, 6), seed=seeds, data=st.data())
def test_spearman_mcc_is_invariant_to_strictly_monotone_maps(d, seed, data):
    z = gaussian(300, d, seed)
    z_hat = z @ gaussian(d, d, seed + 1) + 0.5 * gaussian(300, d, seed + 2)
    maps = [data.draw(monotone) for _ in range(d)]
    warped = torch.stack([f(z_hat[:, j]) for j, f in enumerate(maps)], 1)
    assert mcc(warped, z, method="spearman").score == pytest.approx(mcc(z_hat, z, method="spearman").score, abs=1e-9)


@given(n=st.integers(20, 300), d=st.integers(1, 5), seed=seeds)
def test_spearman_agrees_with_scipy_with_ties(n, d, seed):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, d))
    z_hat = np.round(z + rng.normal(size=(n, d)), 0)  # rounding makes many ties
    assume((np.ptp(z_hat, axis=0) > 0).all())
    _, test = (i.numpy() for i in split_indices(n, 0.5, 0, torch.device("cpu")))
    result = mcc(z_hat, z, method="spearman")
    for j, i in enumerate(result.matching):
        rho = spearmanr(z_hat[test, i], z[test, j]).statistic
        assert result.per_latent[j] == pytest.approx(abs(np.nan_to_num(rho)), abs=1e-10)


def test_spearman_survives_the_widely_copied_argsort_bug():
    z = gaussian(2000, 5, 0)
    assert mcc(z + 0.1 * gaussian(2000, 5, 1), z, method="spearman").score > 0.99


@given(d=st.integers(1, 6), seed=seeds)
def test_weak_mcc_scores_one_on_any_invertible_affine_map(d, seed):
    z = gaussian(400, d, seed)
    a = gaussian(d, d, seed + 1)
    assume(torch.linalg.cond(a) < 1e3)
    assert weak_mcc(z @ a + 7, z).score == pytest.approx(1, abs=1e-8)


def test_weak_mcc_sits_between_chance_and_one_for_noisy_codes():
    z = gaussian(4000, 4, 0)
    result = weak_mcc(z @ gaussian(4, 4, 1) + gaussian(4000, 4, 2), z, null=True)
    assert result.null.upper < result.score < 0.99


def test_reverse_r2_exposes_extra_dimensions():
    z = gaussian(2000, 3, 0)
    extra = torch.cat([z, gaussian(2000, 3, 1)], 1)
    result = affine_r2(extra, z)
    assert result.score == pytest.approx(1, abs=1e-9)  # forward: z is fully explained ...
    assert result.reverse == pytest.approx(0.5, abs=0.01)  # ... but half of z_hat is not z


def test_nonlinear_r2_recovers_an_elementwise_nonlinear_code():
    z = gaussian(3000, 3, 0)
    z_hat = torch.exp(z)  # invertible elementwise: affine R^2 is about 0.6 for Gaussian z
    assert nonlinear_r2(z_hat, z).score > 0.95  # kernel ridge loses a little in the sparse tails
    assert affine_r2(z_hat, z).score < 0.7


def test_bootstrap_interval_brackets_the_score_and_refits():
    z = gaussian(3000, 4, 0)
    z_hat = z @ gaussian(4, 4, 1) + gaussian(3000, 4, 2)
    for metric in (affine_r2, mcc):
        result = metric(z_hat, z, bootstrap=40)
        low, high = result.interval
        assert low <= result.score <= high and high - low < 0.1, metric.__name__
        assert metric(z_hat, z, bootstrap=40).interval == result.interval  # seeded


def test_raw_observation_baseline_scores_x_itself():
    z = gaussian(1000, 3, 0)
    scores = raw_observation_baseline(z @ gaussian(3, 3, 1), z)
    assert scores["affine_r2"].score == pytest.approx(1, abs=1e-9) and scores["mcc"].score < 1


# --- DCI -------------------------------------------------------------------------------------


def dci_reference(r):
    """Eastwood & Williams straight from the definition, with scipy's entropy."""
    codes, factors = r.shape
    p = r / r.sum(1, keepdims=True)
    d_i = 1 - entropy(p.T, base=factors)
    rho = r.sum(1) / r.sum()
    c_j = 1 - entropy(r / r.sum(0), base=codes)
    return float(rho @ d_i), float(c_j.mean())


@given(st.integers(2, 6), st.integers(2, 6), seeds)
def test_disentanglement_completeness_matches_the_definition(codes, factors, seed):
    r = np.random.default_rng(seed).uniform(0.01, 1, size=(codes, factors))
    d, c, per_factor = disentanglement_completeness(r)
    assert (d, c) == pytest.approx(dci_reference(r), abs=1e-12)
    assert 0 <= d <= 1 and 0 <= c <= 1 and ((0 <= per_factor) & (per_factor <= 1)).all()


@given(st.integers(2, 6), st.integers(2, 6), seeds, st.data())
def test_dci_from_importance_is_invariant_to_code_permutation(codes, factors, seed, data):
    r = np.random.default_rng(seed).uniform(0, 1, size=(codes, factors))
    perm = data.draw(st.permutations(range(codes)))
    assert disentanglement_completeness(r[perm])[:2] == pytest.approx(disentanglement_completeness(r)[:2], abs=1e-12)


def test_dci_closed_forms_and_degenerate_cases():
    assert disentanglement_completeness(np.eye(4))[:2] == (1.0, 1.0)
    assert disentanglement_completeness(np.ones((4, 4)))[:2] == pytest.approx((0.0, 0.0), abs=1e-12)
    assert disentanglement_completeness(np.ones((3, 1)))[:2] == pytest.approx((1.0, 0.0), abs=1e-12)  # one factor
    assert disentanglement_completeness(np.ones((1, 3)))[:2] == pytest.approx((0.0, 1.0), abs=1e-12)  # one code
    assert disentanglement_completeness(np.zeros((3, 3)))[:2] == (0.0, 0.0)
    d, c, per_factor = disentanglement_completeness(np.array([[1.0, 0.0], [1.0, 0.0]]))
    assert not np.isnan([d, c]).any() and per_factor[1] == 0  # a factor nothing predicts


@given(seeds, st.data())
def test_dci_is_invariant_to_code_permutation_end_to_end(seed, data):
    z = gaussian(400, 3, seed)
    code = z @ gaussian(3, 4, seed + 1) + 0.3 * gaussian(400, 4, seed + 2)
    perm = data.draw(st.permutations(range(4)))
    a, b = dci(code, z, importance="ols", null=False), dci(code[:, perm], z, importance="ols", null=False)
    assert (a.disentanglement, a.completeness, a.informativeness) == pytest.approx(
        (b.disentanglement, b.completeness, b.informativeness), abs=1e-9
    )


@pytest.mark.parametrize("importance", ["ols", "lasso", "gbt"])
def test_permuted_scaled_copy_is_fully_disentangled(importance):
    z = gaussian(2000, 4, 0)
    result = dci(z[:, [2, 0, 3, 1]] * torch.tensor([2.0, -1.0, 0.5, 3.0], dtype=torch.float64), z, importance=importance)
    assert result.disentanglement > 0.95 and result.completeness > 0.95 and result.informative
    assert result.score == result.disentanglement


def test_uninformative_code_cannot_show_a_high_disentanglement():
    z = gaussian(4000, 10, 0)
    result = dci(gaussian(4000, 10, 1), z, importance="lasso")
    assert result.disentanglement > 0.2  # Lasso importances of noise look disentangled ...
    assert result.informative is False and math.isnan(result.score)  # ... so the headline refuses them
    assert not result.supported and "uninformative" in result.warnings[-1]
    assert result.null.mean > 0.2  # and the null says so


@pytest.mark.parametrize("mix", [0.0, 0.5, 2.0])
def test_fast_tree_importances_agree_with_the_sklearn_reference(mix):
    z = gaussian(1500, 4, 0)
    code = z @ (torch.eye(4, dtype=torch.float64) + mix * gaussian(4, 4, 1)) + 0.1 * gaussian(1500, 4, 2)
    fast, slow = dci(code, z, importance="gbt", null=False), dci(code, z, importance="gbt-sklearn", null=False)
    assert fast.disentanglement == pytest.approx(slow.disentanglement, abs=0.05)
    assert fast.completeness == pytest.approx(slow.completeness, abs=0.05)
    assert fast.informativeness == pytest.approx(slow.informativeness, abs=0.05)


def test_dci_rejects_unknown_importance_models():
    with pytest.raises(ValueError, match="importance"):
        dci(gaussian(100, 2, 0), gaussian(100, 2, 1), importance="forest")


# --- inputs, nulls, devices -------------------------------------------------------------------


@pytest.mark.parametrize("metric", [weak_mcc, lambda a, b, **k: mcc(a, b, method="spearman", **k)])
def test_independent_representations_score_within_the_null(metric):
    z, z_hat = torch.rand(2000, 5, generator=torch.Generator().manual_seed(0)), torch.rand(2000, 5)
    result = metric(z_hat, z, null=True)
    assert result.score < result.null.upper + (result.null.upper - result.null.mean)


def test_float32_inputs_match_float64():
    z = gaussian(1000, 3, 0)
    z_hat = z @ gaussian(3, 3, 1) + 0.2 * gaussian(1000, 3, 2)
    for metric in (affine_r2, mcc, weak_mcc):
        assert metric(z_hat.float(), z.float()).score == pytest.approx(metric(z_hat, z).score, abs=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_tensors_give_the_cpu_numbers():
    z = gaussian(5000, 6, 0)
    z_hat = z @ gaussian(6, 6, 1) + 0.2 * gaussian(5000, 6, 2)
    for metric in (affine_r2, mcc, weak_mcc):
        assert metric(z_hat.cuda(), z.cuda()).score == pytest.approx(metric(z_hat, z).score, abs=1e-9)


def test_trees_on_one_binned_dataset_are_the_lgbmregressors_trees():
    import lightgbm

    from identifiability.metrics.dci import _LIGHTGBM, _boosted

    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(800, 5)), rng.normal(size=(800, 3))
    y[:, 0] += np.tanh(x[:, 1])
    importance, (predicted,) = _boosted(x, y, [x[:50]])
    for j in range(3):
        model = lightgbm.LGBMRegressor(**_LIGHTGBM).fit(x, y[:, j])
        gain = model.feature_importances_.astype(np.float64)
        np.testing.assert_allclose(importance[:, j], gain / gain.sum(), atol=1e-12)
        np.testing.assert_allclose(predicted[:, j], model.predict(x[:50]), atol=1e-12)


@pytest.mark.parametrize("importance", ["gbt", "lasso"])
def test_the_pooled_dci_null_agrees_with_independent_draws(importance):
    # the reference: 96 independent (code, factors) draws; the pooled null over 4 seeds. Their 95th
    # percentiles agree within 4 combined standard errors (bootstrap of the reference, spread over seeds);
    # a pooled null that reused one factor for every draw, or dropped the ranks, misses by far more
    from identifiability.metrics._inputs import Sample
    from identifiability.metrics.dci import _dci, pooled_null

    n, d = 600, 3
    gen = torch.Generator().manual_seed(1)
    train, test = split_indices(n, 0.5, 0, torch.device("cpu"))
    keys = ("disentanglement", "completeness", "informativeness")
    draws = {k: [] for k in keys}
    for _ in range(96):
        numbers = _dci(Sample.of(torch.randn(n, d, generator=gen, dtype=torch.float64),
                                 torch.randn(n, d, generator=gen, dtype=torch.float64), train, test), importance).numbers()
        for k in keys:
            draws[k].append(numbers[k])
    rng = np.random.default_rng(0)
    for k in keys:
        values = np.array(draws[k])
        reference = np.quantile(values, 0.95)
        boot = np.std([np.quantile(rng.choice(values, len(values)), 0.95) for _ in range(300)])
        pooled = np.array([pooled_null(n, d, d, 0.5, importance, seed=s)[k].upper for s in range(4)])
        se = np.hypot(boot, pooled.std(ddof=1) / 2)
        assert abs(pooled.mean() - reference) < 4 * se, (k, pooled.mean(), reference, se)


class _Coordinates:
    """A stand-in for numpy's Generator that 'draws' the coordinates of given test values y (n, draws, d)
    in the basis redrawn_r2 uses: a, b along 1 / sqrt(n) and the centred predictions, |r|^2 the rest."""

    def __init__(self, y, p):
        n = y.shape[0]
        a = y.sum(0) / np.sqrt(n)
        centred = p - p.mean(0)
        norm = np.linalg.norm(centred, axis=0)
        b = np.where(norm > 0, (y * centred).sum(0) / np.where(norm > 0, norm, 1), 0.0)
        self.normals, self.rest = np.stack([a, b]), np.square(y).sum(0) - a**2 - b**2

    def standard_normal(self, shape):
        return self.normals

    def gamma(self, shape, scale, size):
        return self.rest


@given(n=st.integers(3, 80), k=st.integers(1, 5), draws=st.integers(1, 4), seed=seeds, constant=st.booleans())
def test_redrawn_r2_is_the_r2_of_the_test_values_it_draws(n, k, draws, seed, constant):
    # an identity, not a law: fed the coordinates of given test values y, the three-number form gives
    # sklearn's R^2 of (y - mean) / scale against the predictions exactly, constant predictions included
    from sklearn.metrics import r2_score

    from identifiability.metrics.dci import redrawn_r2

    rng = np.random.default_rng(seed)
    predicted = rng.normal(size=(n, k)) * rng.uniform(0.01, 3, size=k)
    if constant:
        predicted[:, 0] = 0.3
    mean, scale = rng.normal(size=k) * 0.2, rng.uniform(0.5, 2, size=k)
    d = min(k, 3)
    columns = np.stack([rng.choice(k, size=d, replace=False) for _ in range(draws)])
    y = rng.normal(size=(n, draws, d))
    got = redrawn_r2(predicted, mean, scale, columns, _Coordinates(y, predicted[:, columns]))
    for i, chosen in enumerate(columns):
        want = r2_score((y[:, i] - mean[chosen]) / scale[chosen], predicted[:, chosen], multioutput="raw_values")
        np.testing.assert_allclose(got[i], want, rtol=1e-9, atol=1e-9)


def test_redrawn_r2_has_the_law_of_fresh_test_values():
    # the identity above with real draws: a, b standard normal and |r|^2 chi^2_{n-2} are the coordinates
    # of n i.i.d. N(0, 1) values; two-sample KS against R^2 of brute-force test values, 4000 each
    # (p below 1e-3 by chance once in 1000 seeds; |r|^2 with n - 1 or n - 3 degrees of freedom fails it)
    from scipy.stats import ks_2samp
    from sklearn.metrics import r2_score

    from identifiability.metrics.dci import redrawn_r2

    rng = np.random.default_rng(3)
    n = 6  # few test values, where one degree of freedom more or less shows
    predicted = rng.normal(size=(n, 1)) * 0.4
    mean, scale = np.array([0.1]), np.array([0.9])
    fast = redrawn_r2(predicted, mean, scale, np.zeros((4000, 1), dtype=int), np.random.default_rng(5))[:, 0]
    y = rng.normal(size=(4000, n))
    slow = np.array([r2_score((row - mean[0]) / scale[0], predicted[:, 0]) for row in y])
    assert ks_2samp(fast, slow).pvalue > 1e-3


def test_tree_importances_do_not_depend_on_the_thread_count():
    from identifiability.metrics.dci import _boosted

    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(600, 4)), rng.normal(size=(600, 5))
    threads = torch.get_num_threads()
    try:
        results = []
        for n in (1, 2, 3):
            torch.set_num_threads(n)
            results.append(_boosted(x, y, [x[:20]]))
    finally:
        torch.set_num_threads(threads)
    for importance, (predicted,) in results[1:]:
        np.testing.assert_array_equal(importance, results[0][0])
        np.testing.assert_array_equal(predicted, results[0][1][0])
