import math

import numpy as np
import pytest
import torch
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment
from sklearn.kernel_ridge import KernelRidge
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV

from identifiability.metrics import affine_r2, mcc, random_orthogonal, rotation_baseline, weak_mcc
from identifiability.metrics._inputs import split_indices
from identifiability.metrics.kernel_ridge import fit_rbf_ridge
from identifiability.metrics.r2 import ALPHAS, GAMMAS


def latents(n: int, d: int, seed: int) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


dims = st.integers(1, 8)
seeds = st.integers(0, 2**31)


@given(d=dims, seed=seeds, data=st.data())
def test_permuted_scaled_copy_scores_one(d, seed, data):
    z = latents(400, d, seed)
    perm = data.draw(st.permutations(range(d)))
    scale = torch.tensor(data.draw(st.lists(st.floats(0.1, 10) | st.floats(-10, -0.1), min_size=d, max_size=d)))
    z_hat = z[:, perm] * scale.double()
    assert mcc(z_hat, z).score == pytest.approx(1, abs=1e-9)
    assert mcc(z_hat, z, method="spearman").score == pytest.approx(1, abs=1e-9)
    assert weak_mcc(z_hat, z).score == pytest.approx(1, abs=1e-9)
    assert affine_r2(z_hat, z).score == pytest.approx(1, abs=1e-9)
    assert mcc(z_hat, z).matching == tuple(int(np.argsort(perm)[j]) for j in range(d))


@given(d=dims, seed=seeds)
def test_r2_is_invariant_to_invertible_affine_maps(d, seed):
    gen = torch.Generator().manual_seed(seed)
    z = latents(300, d, seed)
    z_hat = torch.tanh(z) + 0.3 * torch.randn(300, d, generator=gen, dtype=torch.float64)
    a = torch.randn(d, d, generator=gen, dtype=torch.float64)
    assume(torch.linalg.cond(a) < 1e3)
    b = torch.randn(d, generator=gen, dtype=torch.float64) * 10
    assert affine_r2(z_hat @ a.T + b, z).score == pytest.approx(affine_r2(z_hat, z).score, abs=1e-8)


@given(d=dims, seed=seeds, data=st.data())
def test_mcc_is_invariant_to_permutation_and_signed_scaling(d, seed, data):
    gen = torch.Generator().manual_seed(seed)
    z = latents(300, d, seed)
    z_hat = z @ torch.randn(d, d, generator=gen, dtype=torch.float64) + torch.randn(300, d, generator=gen, dtype=torch.float64)
    perm = data.draw(st.permutations(range(d)))
    scale = torch.tensor(data.draw(st.lists(st.floats(0.1, 10) | st.floats(-10, -0.1), min_size=d, max_size=d)))
    assert mcc(z_hat[:, perm] * scale.double(), z).score == pytest.approx(mcc(z_hat, z).score, abs=1e-10)


@given(n=st.integers(20, 300), d_hat=dims, d=dims, seed=seeds)
def test_scores_lie_in_their_ranges(n, d_hat, d, seed):
    gen = torch.Generator().manual_seed(seed)
    z_hat, z = torch.randn(n, d_hat, generator=gen), torch.randn(n, d, generator=gen)
    m = mcc(z_hat, z)
    assert 0 <= m.score <= 1 and 0 <= m.in_sample <= 1
    r = affine_r2(z_hat, z)
    assert r.score <= 1 and 0 <= r.in_sample <= 1 + 1e-12


@given(n=st.integers(20, 400), d_hat=dims, d=dims, seed=seeds)
def test_affine_r2_agrees_with_sklearn_on_the_same_split(n, d_hat, d, seed):
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(n, d, generator=gen, dtype=torch.float64)
    z_hat = torch.tanh(z @ torch.randn(d, d_hat, generator=gen, dtype=torch.float64))
    z_hat = z_hat + 0.5 * torch.randn(n, d_hat, generator=gen, dtype=torch.float64)
    train, test = (i.numpy() for i in split_indices(n, 0.5, 0, torch.device("cpu")))
    reg = LinearRegression().fit(z_hat[train].numpy(), z[train].numpy())
    expected = r2_score(z[test].numpy(), reg.predict(z_hat[test].numpy()), multioutput="raw_values")
    np.testing.assert_allclose(affine_r2(z_hat, z).per_latent, expected, atol=1e-8)
    in_sample = LinearRegression().fit(z_hat.numpy(), z.numpy()).score(z_hat.numpy(), z.numpy())
    assert affine_r2(z_hat, z).in_sample == pytest.approx(in_sample, abs=1e-8)


@given(n=st.integers(20, 400), d_hat=dims, d=dims, seed=seeds)
def test_mcc_agrees_with_a_reference_from_the_definition(n, d_hat, d, seed):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, d))
    z_hat = np.tanh(z @ rng.normal(size=(d, d_hat))) + 0.5 * rng.normal(size=(n, d_hat))
    train, test = (i.numpy() for i in split_indices(n, 0.5, 0, torch.device("cpu")))

    def abs_corr(a, b):
        return np.abs(np.corrcoef(a.T, b.T)[: a.shape[1], a.shape[1] :])

    rows, cols = linear_sum_assignment(abs_corr(z_hat[train], z[train]), maximize=True)
    expected = abs_corr(z_hat[test], z[test])[rows, cols].sum() / d  # unmatched true latents count 0
    assert mcc(z_hat, z).score == pytest.approx(expected, abs=1e-10)


@settings(max_examples=25)
@given(n=st.integers(40, 160), d=st.integers(2, 6), extra=st.integers(-1, 2), block=st.integers(1, 40), seed=seeds)
def test_the_mcc_standard_error_is_the_jackknife_over_held_out_rows_in_any_blocks(n, d, extra, block, seed):
    """The standard error is the jackknife's: MCC with each held-out row left out (the matching held
    fixed), by brute force; computed in blocks of as few as 16 rows (``BLOCK_ELEMENTS`` shrunk), with
    fewer codes than latents (the matched latents gathered) and more. At these n the error bounds do
    not suffice (above ``BOUND_SUFFICES``), so the exact values are computed."""
    from identifiability.metrics import moments as engine

    rng = np.random.default_rng(seed)
    d_hat = d + extra
    z = rng.normal(size=(n, d))
    z_hat = np.tanh(z @ rng.normal(size=(d, d_hat))) + 0.5 * rng.normal(size=(n, d_hat))
    train, test = (i.numpy() for i in split_indices(n, 0.5, 0, torch.device("cpu")))
    first = lambda a, b: np.abs(np.corrcoef(a.T, b.T)[: a.shape[1], a.shape[1]:])  # noqa: E731
    codes, latents = linear_sum_assignment(first(z_hat[train], z[train]), maximize=True)
    left_out = np.array([first(z_hat[np.delete(test, i)], z[np.delete(test, i)])[codes, latents].sum() / d
                         for i in range(len(test))])
    expected = np.sqrt((len(test) - 1) / len(test) * np.square(left_out - left_out.mean()).sum())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine, "BLOCK_ELEMENTS", block)
        got = mcc(z_hat, z)
    # the closed form and the brute force agree to rounding: at most 1.1e-14 relative over 150 draws of
    # this strategy; a wrong leverage or a misaligned column moves the error by percents
    assert got.standard_error == pytest.approx(expected, rel=1e-10)


@settings(max_examples=25)
@given(n=st.integers(3, 200), p=st.integers(1, 7), k=st.integers(1, 7), block=st.integers(1, 60), seed=seeds)
def test_moments_over_row_sets_are_the_row_sets_own_in_any_blocks(n, p, k, block, seed):
    """Means, cross-products, sums of squares, of fourth powers and largest squares of gathered,
    centred row sets, in blocks of as few as 16 rows, equal those of the rows taken directly."""
    from identifiability.metrics import moments as engine

    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, p, generator=gen, dtype=torch.float64) * 3 + 1
    y = torch.randn(n, k, generator=gen, dtype=torch.float64) - 2
    rows = torch.randperm(n, generator=gen)[: max(2, n // 2)].sort().values
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine, "BLOCK_ELEMENTS", block)
        ((m, xc, yc),) = engine.centred_row_sets(x, y, rows)
    a, b = x[rows] - x[rows].mean(0), y[rows] - y[rows].mean(0)
    # sums of at most 200 terms in another order: rounding differs by ~1e-14 relative
    for got, want in ((m.mean_x, x[rows].mean(0)), (m.mean_y, y[rows].mean(0)), (xc, a), (yc, b), (m.xy, a.T @ b),
                      (m.vx, a.square().sum(0)), (m.fourth_y, b.pow(4).sum(0)), (m.peak_x, a.square().amax(0))):
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)


@given(n=st.integers(0, 50_000), width=st.integers(1, 2_000))
def test_row_blocks_cover_the_rows_once_in_blocks_bounded_in_rows_and_elements(n, width):
    from identifiability.metrics.moments import BLOCK_ELEMENTS, ROW_BLOCK, row_blocks

    blocks = list(row_blocks(n, width))
    assert [i for b in blocks for i in range(b.start, b.stop)] == list(range(n))
    sizes = [b.stop - b.start for b in blocks]
    assert all(0 < size <= ROW_BLOCK and (size * width <= BLOCK_ELEMENTS or size == 16) for size in sizes)
    assert len(set(sizes[:-1])) <= 1  # equal blocks, the last one the remainder


@pytest.mark.parametrize("n,d", [(1000, 5), (4096, 10), (2000, 2)])
def test_independent_representation_scores_within_its_null(n, d):
    gen = torch.Generator().manual_seed(n + d)
    z, z_hat = torch.rand(n, d, generator=gen), torch.rand(n, d, generator=gen)  # non-Gaussian marginals
    for metric in (mcc, affine_r2):
        result = metric(z_hat, z, null=True)
        spread = result.null.upper - result.null.mean
        assert result.score < result.null.upper + spread, metric.__name__


@pytest.mark.parametrize("n,d", [(1000, 5), (4000, 10)])
def test_held_out_mcc_null_matches_its_closed_form(n, d):
    # Under independence the matching (fitted on train) is independent of the held-out
    # correlations, each ~ N(0, 1 / n_test): the null mean is sqrt(2 / (pi * n_test)) for any d.
    null = mcc(torch.randn(n, d), torch.randn(n, d), null=True).null
    assert null.mean == pytest.approx(math.sqrt(2 / (math.pi * (n // 2))), rel=0.1)


def test_in_sample_r2_null_matches_its_closed_form():
    # In-sample R^2 of p independent regressors (plus intercept) is Beta(p/2, (n-p-1)/2): mean p/(n-1).
    n, p = 200, 6
    scores = [affine_r2(torch.randn(n, p, generator=torch.Generator().manual_seed(s)), torch.randn(n, 1)).in_sample for s in range(300)]
    assert np.mean(scores) == pytest.approx(p / (n - 1), rel=0.1)


def test_rotation_baseline_in_two_dimensions_matches_closed_form():
    # A rotation by a uniform angle t scores max(|cos t|, |sin t|): mean 2 sqrt(2) / pi = 0.900.
    z = torch.randn(20_000, 2, generator=torch.Generator().manual_seed(0))
    assert rotation_baseline(z, draws=300) == pytest.approx(2 * math.sqrt(2) / math.pi, abs=0.01)


def test_random_orthogonal_is_orthogonal():
    q = random_orthogonal(7, torch.Generator().manual_seed(0))
    torch.testing.assert_close(q @ q.T, torch.eye(7, dtype=torch.float64))


def test_rectangular_matching_counts_missing_latents_as_zero():
    z = latents(1000, 4, 0)
    assert mcc(z[:, :2], z).score == pytest.approx(0.5, abs=1e-9)  # two of four latents recovered
    assert mcc(z[:, :2], z).matching[2:] == (-1, -1)
    extra = torch.cat([z, latents(1000, 3, 1)], 1)  # extra learned dimensions are ignored
    assert mcc(extra, z).score == pytest.approx(1, abs=1e-9)


def test_collapsed_dimension_scores_zero_instead_of_nan():
    z = latents(500, 3, 0)
    z_hat = z.clone()
    z_hat[:, 1] = 3.0
    result = mcc(z_hat, z)
    assert result.score == pytest.approx(2 / 3, abs=1e-9) and not math.isnan(result.score)
    assert affine_r2(z_hat, z).score < 0.7


def test_numpy_torch_and_float32_agree_and_inputs_are_not_mutated():
    z = latents(500, 3, 0)
    z_hat = z @ torch.randn(3, 3, dtype=torch.float64) + 0.1 * latents(500, 3, 1)
    before = z_hat.clone()
    reference = mcc(z_hat, z).score
    assert mcc(z_hat.numpy(), z.numpy()).score == pytest.approx(reference, abs=1e-12)
    assert mcc(z_hat.float(), z.float()).score == pytest.approx(reference, abs=1e-5)
    assert affine_r2(z_hat.numpy(), z).score == pytest.approx(affine_r2(z_hat, z).score, abs=1e-12)
    assert torch.equal(z_hat, before)


def test_result_is_frozen_and_floats_to_its_score():
    result = affine_r2(latents(100, 2, 0), latents(100, 2, 0))
    assert float(result) == result.score
    with pytest.raises(AttributeError):
        result.score = 0.0
    assert result.to_dict()["name"] == "affine_r2"


@pytest.mark.parametrize(
    "z_hat,z,match",
    [
        (torch.randn(10, 2), torch.randn(11, 2), "samples"),
        (torch.randn(10), torch.randn(10, 2), "2-D"),
        (torch.full((10, 2), float("nan")), torch.randn(10, 2), "NaN"),
        (torch.randn(3, 2), torch.randn(3, 2), "too few"),
        (torch.randn(0, 2), torch.randn(0, 2), "z_hat has no samples"),
        (torch.randn(10, 2), torch.ones(10, 2), "constant"),
        ([[1.0, 2.0]], torch.randn(1, 2), "numpy array or a torch tensor"),
    ],
)
def test_bad_input_is_rejected_with_a_clear_message(z_hat, z, match):
    for metric in (mcc, affine_r2):
        with pytest.raises((ValueError, TypeError), match=match):
            metric(z_hat, z)


@given(rows=st.integers(5, 40), extra=st.integers(0, 20), seed=st.integers(0, 2**31))
def test_an_affine_fit_with_as_many_columns_as_rows_interpolates(rows, extra, seed):
    # p >= n: the centred rows span at most n - 1 directions, so the moments' normal equations cannot
    # answer; the fit comes from the rows and, with that many free directions, passes through every one
    from identifiability.metrics.least_squares import fit_affine
    from identifiability.metrics.moments import moments

    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(rows, rows + extra, generator=gen, dtype=torch.float64)
    y = torch.randn(rows, 3, generator=gen, dtype=torch.float64)
    fit = fit_affine(x, y, slice(None), moments(x, y, gram_x=True))
    assert not fit.from_moments
    torch.testing.assert_close(fit.predict(x), y, atol=1e-8, rtol=0)


@given(rows=st.integers(2, 60), extra=st.integers(0, 30), seed=st.integers(0, 2**31), repeated=st.booleans())
@example(rows=3, extra=6, seed=1279674845, repeated=True)  # the SVD kept the rounding residual: weights of 1e13
@example(rows=2, extra=1, seed=1, repeated=False)  # numpy's default cutoff kept it
def test_an_affine_fit_with_as_many_columns_as_rows_is_the_minimum_norm_least_squares_fit(rows, extra, seed, repeated):
    # Independent rows go through the rows' own normal equations, a row repeated with another target (no
    # exact fit) through the SVD; both give the minimum-norm least-squares weights: numpy's lstsq cutting
    # singular values at 1e-10 of the largest. (At its default cutoff, eps max(r, p), numpy kept the
    # centring's rounding residual at 2 rows and 3 columns, 2.2e-15 against 1.2e-15, and solved for it;
    # so did this SVD before it dropped the constant direction.) 1e-8 is the normal equations' bound at
    # their conditioning threshold, cond^2 eps with cond <= 1e4; measured over 3000 draws: <= 1e-11.
    from identifiability.metrics.least_squares import fit_affine
    from identifiability.metrics.moments import moments

    assume(rows > 2 or not repeated)  # two equal rows: every column constant, nothing to fit
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(rows, rows + extra, generator=gen, dtype=torch.float64) * torch.rand(rows + extra, generator=gen, dtype=torch.float64).add(0.1)
    if repeated:
        x[-1] = x[0]
    y = torch.randn(rows, 3, generator=gen, dtype=torch.float64)
    fit = fit_affine(x, y, slice(None), moments(x, y, gram_x=True))
    xc, yc = (x - x.mean(0)).numpy(), (y - y.mean(0)).numpy()
    scale = np.sqrt(np.square(xc).sum(0))
    reference = np.linalg.lstsq(xc / scale, yc, rcond=1e-10)[0] / scale[:, None]
    assert np.abs(fit.weight.numpy() - reference).max() <= 1e-8 * np.abs(reference).max()


@given(p=st.integers(1, 40), log_condition=st.floats(0, 12), seed=seeds)
def test_the_normal_equations_are_taken_exactly_where_the_eigenvalues_allow_and_agree_with_them(p, log_condition, seed):
    """``_conditioned_solve`` answers where the unit-diagonal Gram matrix's eigenvalue ratio exceeds
    ``WELL_CONDITIONED`` (a Cholesky bound proves most cases, the eigendecomposition the rest), with the
    eigendecomposition's solution to cond * eps, and declines where it does not; condition numbers
    drawn from 1 to 1e12 span the threshold at 1e8."""
    from identifiability.metrics.least_squares import WELL_CONDITIONED, _conditioned_solve

    gen = torch.Generator().manual_seed(seed)
    q = torch.linalg.qr(torch.randn(p, p, generator=gen, dtype=torch.float64))[0]
    gram = q @ torch.diag(torch.logspace(0, -log_condition, p, dtype=torch.float64)) @ q.T
    scale = gram.diagonal().sqrt()
    gram = gram / torch.outer(scale, scale)
    rhs = torch.randn(p, 3, generator=gen, dtype=torch.float64)
    evals, evecs = torch.linalg.eigh(gram)
    got = _conditioned_solve(gram, rhs)
    if not bool(evals[0] > WELL_CONDITIONED * evals[-1]):
        assert got is None
    else:
        want = evecs @ ((evecs.T @ rhs) / evals[:, None])
        assert got is not None  # two backward-stable solves differ by O(cond eps): at most 6.8 cond eps over 300 draws
        assert (got - want).abs().max() <= 1e3 * (evals[-1] / evals[0]) * 2.2e-16 * want.abs().max()


@settings(max_examples=20)
@given(m=st.integers(12, 300), p=st.integers(1, 5), k=st.integers(1, 3), seed=seeds, constant=st.booleans())
def test_the_kernel_ridge_chooses_and_predicts_as_scikit_learns_grid_search(m, p, k, seed, constant):
    """fit_rbf_ridge is GridSearchCV(KernelRidge(kernel="rbf"), grid, cv=3) without its per-fit overhead:
    the same grid point (ties included) and the same predictions, also for an output that is constant."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(m, p))
    y = np.tanh(x @ rng.normal(size=(p, k))) + 0.3 * rng.normal(size=(m, k))
    if constant:
        y[:, 0] = 1.5
    gammas = np.array(GAMMAS) / p  # nonlinear_r2's own grid
    search = GridSearchCV(KernelRidge(kernel="rbf"), {"alpha": list(ALPHAS), "gamma": gammas}, cv=3).fit(x, y)
    ours = fit_rbf_ridge(x, y, ALPHAS, gammas)
    assert (ours.alpha, ours.gamma) == (search.best_params_["alpha"], search.best_params_["gamma"])
    held = rng.normal(size=(50, p))
    # both solve the same Cholesky system: the difference measured is 0.0 (benchmarks/metrics_speed.py); 1e-9
    # leaves room for another LAPACK's blocking, far below any score's precision
    np.testing.assert_allclose(ours.predict(held), search.predict(held).reshape(50, k), rtol=1e-9, atol=1e-9)
