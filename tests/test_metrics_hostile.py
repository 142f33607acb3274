"""Issue 11: the metrics on hostile representations, against population values and reference solvers.

Population values come from ``identifiability.metrics.strategies`` (closed forms). A score may miss
its population value by more than 0.1 only where its result says the data cannot support it; light
tails (every column's kurtosis at most 10) at n >= 3000 must never draw that warning, so the escape
cannot swallow every case.
"""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import r2_score

from identifiability.metrics import affine_r2, dci, mcc, nonlinear_r2
from identifiability.metrics._inputs import split_indices
from identifiability.metrics.ranks import rank_columns
from identifiability.metrics.strategies import MAPS, hostile_codes

TOLERANCE = 0.1  # the bound on the distance to a population value


@settings(max_examples=60, derandomize=True)
@given(hostile_codes())
def test_affine_r2_is_within_0_1_of_its_population_value_or_says_it_is_not(code):
    for seed in (0, 1):
        result = affine_r2(code.z_hat, code.z, seed=seed)
        assert math.isfinite(result.score)
        if result.supported:
            assert abs(result.score - code.r2.mean()) <= TOLERANCE, (code.columns, result.score, code.r2)
        if code.light_tailed:
            assert result.supported, (code.columns, result.warnings)


@settings(max_examples=60, derandomize=True)
@given(hostile_codes())
def test_pearson_mcc_is_within_0_1_of_its_population_value_or_says_it_is_not(code):
    for seed in (0, 1):
        result = mcc(code.z_hat, code.z, seed=seed)
        if result.supported:
            assert abs(result.score - code.mcc) <= TOLERANCE, (code.columns, result.score, code.mcc)
        if code.light_tailed:
            assert result.supported, (code.columns, result.warnings)


@settings(max_examples=40, derandomize=True)
@given(hostile_codes())
def test_spearman_mcc_sees_every_monotone_column_as_its_latent(code):
    # Every map is strictly monotone, so each latent with a column has Spearman correlation 1.
    expected = float((code.r2 > 0).mean())
    result = mcc(code.z_hat, code.z, method="spearman")
    assert abs(result.score - expected) <= TOLERANCE and result.supported, (code.columns, result.score)


@settings(max_examples=40, derandomize=True)
@given(hostile_codes())
def test_scores_are_stable_across_split_seeds(code):
    for metric in (affine_r2, mcc):
        a, b = metric(code.z_hat, code.z, seed=0), metric(code.z_hat, code.z, seed=7)
        if a.supported and b.supported:
            assert abs(a.score - b.score) <= TOLERANCE, (metric.__name__, code.columns, a.score, b.score)


@settings(max_examples=8, derandomize=True)
@given(hostile_codes(max_dim=3, n=(1000, 2000)))
def test_dci_with_trees_is_invariant_to_monotone_maps_of_the_code(code):
    a = dci(code.z_hat, code.z, null=False)
    b = dci(rank_columns(torch.as_tensor(code.z_hat)), code.z, null=False)
    assert a.disentanglement == pytest.approx(b.disentanglement, abs=1e-2)
    assert a.completeness == pytest.approx(b.completeness, abs=1e-2)
    assert a.informativeness == pytest.approx(b.informativeness, abs=1e-2)


# --- the cases the issue found ---------------------------------------------------------------


def gaussian(n, d, seed):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_a_heavy_tailed_code_that_one_row_decides_is_scored_as_it_is_and_said_to_be():
    # Least squares scores -8.2e14, -0.001, -1.0e17, -713 and -705 for split seeds 0..4 (population
    # 8^2 / (e^64 - 1), about 0): a few rows decide it, and every seed's result says so.
    z = gaussian(4000, 5, 0)
    for seed in range(20):
        result = affine_r2(torch.exp(8 * z), z, seed=seed)
        assert math.isfinite(result.score) and not result.supported
        assert "one held-out row carries" in " ".join(result.warnings)


def test_a_useless_heavy_column_is_named_and_the_others_keep_their_scores():
    # Half the latents exactly, half through exp(8 z): the exact ones score 1, the others are flagged.
    z = gaussian(4000, 4, 1)
    code = torch.cat([z[:, :2], torch.exp(8 * z[:, 2:])], 1)
    for seed in range(10):
        result = affine_r2(code, z, seed=seed)
        assert result.per_latent[:2] == pytest.approx((1, 1), abs=1e-9) and not result.supported


# (z_hat, z) of n rows from a process, and the population R^2 of the best affine predictor of z
HEAVY_FAMILIES = {
    "uniform + 0.3 t_3 noise": (lambda rng, n: (lambda z: (z + 0.3 * rng.standard_t(3, size=z.shape), z))(
        rng.uniform(-1, 1, (n, 3))), (1 / 3) / (1 / 3 + 0.09 * 3)),
    "exp(z)": (lambda rng, n: (lambda z: (np.exp(z), z))(rng.normal(size=(n, 3))), 1 / (math.e - 1)),
    "exp(2 z)": (lambda rng, n: (lambda z: (np.exp(2 * z), z))(rng.normal(size=(n, 3))), 4 / math.expm1(4)),
}


@pytest.mark.parametrize("family", HEAVY_FAMILIES)
def test_affine_r2_on_heavy_tails_is_unbiased_or_warned_on_every_draw(family):
    """No one-sided correction: over 20 fresh datasets (n = 4000) the mean score is within 0.01 of the
    population value, or every draw says the data do not support it. Measured: t_3 noise +0.001 (8 of
    20 warned), exp(z) -0.011 and exp(2 z) -0.17 (20 of 20 warned). The rule this replaced (wild
    predictions fell back to the mean) was off by +0.045, +0.040 and +0.093 over issue 25's five
    datasets, unwarned on three of them for the first."""
    draw, population = HEAVY_FAMILIES[family]
    results = [affine_r2(*draw(np.random.default_rng(1000 + s), 4000), seed=s) for s in range(20)]
    unbiased = abs(np.mean([r.score for r in results]) - population) <= 0.01
    assert unbiased or all(not r.supported for r in results), [r.score for r in results]


@pytest.mark.parametrize("name", ["z^3", "z^9", "sinh(4z)", "exp(z)"])
def test_affine_r2_of_elementwise_maps_meets_the_closed_form_or_says_it_cannot(name):
    # z^9 and sinh(4 z) of Gaussian z: a few rows carry the columns (kurtosis 1.9e5 and beyond any bound), and say so
    h, rho, _, _ = MAPS[name]
    z = gaussian(4000, 3, 2)
    result = affine_r2(torch.as_tensor(h(z.numpy())), z)
    assert result.score == pytest.approx(rho**2, abs=TOLERANCE) or not result.supported
    if name in ("z^3", "exp(z)"):
        assert result.score == pytest.approx(rho**2, abs=TOLERANCE)


def test_pearson_mcc_flags_a_correlation_that_one_row_decides():
    z = gaussian(4000, 3, 3)
    result = mcc(torch.exp(8 * z), z)
    assert not result.supported and "one held-out row carries" in " ".join(result.warnings)
    assert mcc(z @ gaussian(3, 3, 4) + gaussian(4000, 3, 5), z).supported  # light tails are fine


def test_tree_importances_of_a_heavy_tailed_code_equal_those_of_its_ranks():
    # Standardising before the trees merged distinct values: D was 0.82 here and 0.995 on the ranks.
    z = gaussian(3000, 4, 4)
    code = torch.exp(8 * (z @ (torch.eye(4, dtype=torch.float64) + 0.2 * gaussian(4, 4, 5))))
    for importance in ("gbt", "gbt-sklearn"):
        a, b = dci(code, z, importance=importance, null=False), dci(rank_columns(code), z, importance=importance, null=False)
        assert (a.disentanglement, a.completeness, a.informativeness) == pytest.approx(
            (b.disentanglement, b.completeness, b.informativeness), abs=1e-12
        )


def test_nonlinear_r2_sees_through_any_monotone_map_of_the_code():
    z = gaussian(3000, 2, 6)
    assert nonlinear_r2(torch.exp(8 * z), z).score > 0.95  # was about 0: standardising erased the column


def test_nonlinear_r2_fits_on_a_random_subset_of_ordered_data():
    z = gaussian(6000, 1, 7).sort(0).values  # sorted rows: the first 2000 train rows were the smallest z
    code = torch.tanh(z)
    assert nonlinear_r2(code, z, max_train=500).score > 0.95


# --- exact against reference solvers on hostile inputs ----------------------------------------


def reference_r2(z_hat: np.ndarray, z: np.ndarray, seed: int = 0) -> np.ndarray:
    """Held-out R^2 by numpy's SVD least squares on train-centred data.
    (sklearn's LinearRegression is no reference here: on the nearly collinear case it loses the
    1e-6 direction that carries z and scores 0.77 where lstsq scores 1.)"""
    train, test = (i.numpy() for i in split_indices(len(z), 0.5, seed, torch.device("cpu")))
    mean_x, mean_z = z_hat[train].mean(0), z[train].mean(0)
    weight = np.linalg.lstsq(z_hat[train] - mean_x, z[train] - mean_z, rcond=None)[0]
    return r2_score(z[test], (z_hat[test] - mean_x) @ weight + mean_z, multioutput="raw_values")


def reference_mcc(z_hat: np.ndarray, z: np.ndarray) -> float:
    """numpy.corrcoef and scipy's assignment: matched on train, scored held out."""
    train, test = (i.numpy() for i in split_indices(len(z), 0.5, 0, torch.device("cpu")))

    def abs_corr(a, b):
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.nan_to_num(np.abs(np.corrcoef(a.T, b.T)[: a.shape[1], a.shape[1] :]))

    rows, cols = linear_sum_assignment(abs_corr(z_hat[train], z[train]), maximize=True)
    return float(abs_corr(z_hat[test], z[test])[rows, cols].sum() / z.shape[1])


def _hostile(kind: str, z: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    mixed = np.tanh(z @ rng.normal(size=(z.shape[1], z.shape[1]))) + 0.3 * rng.normal(size=z.shape)
    if kind == "offset":
        return 1e12 + mixed
    if kind == "tiny":
        return 1e-12 * mixed
    if kind == "huge":
        return 1e12 * mixed
    if kind == "collinear":
        return np.concatenate([mixed, mixed[:, :1] - 3 * mixed[:, -1:]], 1)
    if kind == "nearly collinear":  # z_1 lives in a difference of two columns 1e-6 apart
        base = rng.normal(size=(len(z), 1))
        return np.concatenate([mixed, base, base + 1e-6 * z[:, :1]], 1)
    if kind == "constant":
        return np.concatenate([mixed, np.full((len(z), 1), 5.0)], 1)
    if kind == "wide":  # d_hat much larger than d
        return np.concatenate([mixed, rng.normal(size=(len(z), 40))], 1)
    raise ValueError(kind)


KINDS = ["offset", "tiny", "huge", "collinear", "nearly collinear", "constant", "wide"]
# At an offset of 1e12 float64 holds the code to 1.2e-4 of its spread of about 1, so two correct
# solvers, rounding differently, differ by up to about 1e-4; elsewhere they agree to 1e-6.
ATOL = {"offset": 1e-3}


@settings(max_examples=30)
@given(st.sampled_from(KINDS), st.integers(1, 4), st.integers(0, 2**16))
@pytest.mark.parametrize("score, reference", [
    (lambda z_hat, z: affine_r2(z_hat, z).per_latent, reference_r2),  # least squares by SVD
    (lambda z_hat, z: mcc(z_hat, z).score, reference_mcc),  # corrcoef and scipy's assignment
], ids=["affine_r2", "mcc"])
def test_scores_agree_with_their_references_on_hostile_inputs(score, reference, kind, d, seed):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(300, d))
    z_hat = _hostile(kind, z, rng)
    np.testing.assert_allclose(score(z_hat, z), reference(z_hat, z), atol=ATOL.get(kind, 1e-6))


def test_nearly_collinear_columns_give_the_least_squares_answer():
    # z lives only in the difference of two columns 1e-6 apart: the normal equations lose it.
    rng = np.random.default_rng(0)
    z, base = rng.normal(size=(2000, 1)), rng.normal(size=(2000, 1))
    code = np.concatenate([base, base + 1e-6 * z], 1)
    assert affine_r2(code, z).score == pytest.approx(1, abs=1e-6)


@pytest.mark.parametrize("d", [1, 3])
def test_barely_more_samples_than_dimensions(d):
    rng = np.random.default_rng(d)
    z = rng.normal(size=(d + 6, d))
    z_hat = z @ rng.normal(size=(d, d)) + 0.5 * rng.normal(size=(d + 6, d))
    np.testing.assert_allclose(affine_r2(z_hat, z).per_latent, reference_r2(z_hat, z), atol=1e-8)
    assert mcc(z_hat, z).score == pytest.approx(reference_mcc(z_hat, z), abs=1e-9)


def test_integer_float16_views_and_tensors_that_require_grad_are_read_as_their_values():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(500, 3))
    z_hat = z @ rng.normal(size=(3, 3)) + 0.3 * rng.normal(size=(500, 3))
    reference = {"r2": affine_r2(z_hat, z).score, "mcc": mcc(z_hat, z).score}
    integers = np.round(100 * z_hat).astype(np.int64)
    half = torch.as_tensor(z_hat).half()
    wide = torch.as_tensor(np.concatenate([z_hat, z_hat], 1))[:, ::2]  # a non-contiguous view
    grad = torch.as_tensor(z_hat).requires_grad_()
    cases = {
        "int64": (integers, integers.astype(np.float64)),
        "torch int32": (torch.as_tensor(integers, dtype=torch.int32), integers.astype(np.float64)),
        "float16": (half, half.double().numpy()),
        "view": (wide, z_hat),
        "requires grad": (grad, z_hat),
    }
    for name, (given_input, values) in cases.items():
        assert affine_r2(given_input, z).score == pytest.approx(affine_r2(values, z).score, abs=1e-12), name
        assert mcc(given_input, z).score == pytest.approx(mcc(values, z).score, abs=1e-12), name
    assert affine_r2(wide, z).score == pytest.approx(reference["r2"], abs=1e-12)


def test_columns_beyond_the_float64_square_range_are_rescaled_exactly():
    z = gaussian(1000, 2, 8)
    code = z @ gaussian(2, 2, 9)
    for scale in (1e200, 1e-200):
        assert affine_r2(code * scale, z).score == pytest.approx(affine_r2(code, z).score, abs=1e-12)
        assert mcc(code * scale, z).score == pytest.approx(mcc(code, z).score, abs=1e-12)
