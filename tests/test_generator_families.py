"""Issue 4: every process family, its laws, its contract, and properties over drawn configurations."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from identifiability.processes import (
    ContentStyle,
    PRESETS,
    Batch,
    ContrastivePairs,
    LatentDynamics,
    MLPMixing,
    NonlinearICA,
    VideoSequences,
    pixel_centres,
    reflect_into_unit_box,
    sample_gamma,
    sample_standard,
)
from identifiability.processes.strategies import contrastive_pairs, processes, latent_dynamics, nonlinear_ica, video_sequences


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


# --- the contract, over every family --------------------------------------------------------


@given(processes, st.integers(1, 9))
def test_same_seed_same_batch_and_shapes_agree(g, n):
    a, b = g.sample(n, seed=3), g.sample(n, seed=3)
    assert isinstance(a, Batch) and len(a) == n
    for field in ("x", "z", "u", "r", "noise", "nuisance"):
        ta, tb = getattr(a, field), getattr(b, field)
        assert (ta is None and tb is None) or torch.equal(ta, tb), field
    assert a.x.dtype == a.z.dtype == torch.float32
    assert a.z.ndim == 3 and a.x.shape[:2] == a.z.shape[:2]
    assert torch.isfinite(a.x).all() and torch.isfinite(a.z).all()
    assert g.sample(n, seed=3, dtype=torch.float64).z.dtype == torch.float64


@given(st.one_of(nonlinear_ica(), contrastive_pairs()))
def test_every_mixing_inverts_to_1e4(g):
    # float64 so that the check is of the map, not of float32 round-off through deep mixings.
    batch = g.sample(256, seed=0, dtype=torch.float64)
    assert (g.mixing.inverse(batch.x) - batch.z).abs().max() < 1e-4
    assert batch.x.shape[-1] == g.observed_dim


@given(nonlinear_ica(max_dim=4))
def test_lifted_mixings_have_full_rank_jacobians(g):
    z = g.sample(8, seed=0, dtype=torch.float64).z[:, 0]
    jac = torch.vmap(torch.func.jacfwd(g.mixing))(z)  # (n, D, d)
    assert jac.shape[1:] == (g.observed_dim, g.latent_dim)
    assert (torch.linalg.matrix_rank(jac) == g.latent_dim).all()


@given(latent_dynamics())
def test_dynamics_return_their_modes_noise_and_nuisance(g):
    b = g.sample(16, seed=1)
    n, t, d = 16, g.seq_len, g.latent_dim
    assert b.z.shape == (n, t, d) and b.noise.shape == (n, t - 1, d)
    assert b.x.shape == (n, t, g.observed_dim)
    assert (b.nuisance is None) == (g.nuisance_dim == 0)
    assert (b.u is not None) == (g.preset == "nonstat_noise")
    expected_r = {"jump": (n, t - 1), "sparse_resample": (n, t - 1, d), "single_resample": (n, t - 1, d),
                  "action": (n, t - 1, g.action_dim)}
    assert (b.r is None) if g.preset not in expected_r else b.r.shape == expected_r[g.preset]


@given(video_sequences())
def test_frames_decode_back_to_positions(v):
    b = v.sample(32, seed=2)
    frames, positions = b.x, b.z.reshape(32, v.seq_len, v.n_objects, 2)
    grid = pixel_centres(v.size)
    mass = frames.sum((-1, -2))
    centroid = torch.stack([(frames.sum(-2) * grid).sum(-1) / mass, (frames.sum(-1) * grid).sum(-1) / mass], -1)
    # The frame truncates the blob's tails: at 1.5 widths from the last pixel centre (the LDM dots)
    # the centroid is pulled in by up to 0.05 pixel; a rendering error would be off by pixels.
    assert (centroid - positions).abs().max() < 0.1
    assert positions.abs().max() <= (v.size - 1) / 2


def test_rendering_is_differentiable_in_the_positions():
    from identifiability.processes import render_splats

    pos = torch.zeros(3, 2, 2, requires_grad=True)
    render_splats(pos, torch.eye(2), 16, 1.0).pow(2).sum().backward()
    assert pos.grad is not None and torch.isfinite(pos.grad).all()


# --- laws -----------------------------------------------------------------------------------


@pytest.mark.parametrize("law", ["laplace", "uniform", "gennorm", "gaussian"])
def test_source_laws_are_standardised_and_have_their_shape(law):
    s = sample_standard(law, (100_000,), gen(), beta=0.8).numpy()
    # Mean and variance within 5 standard errors; the law itself by a KS test at fixed seed.
    assert abs(s.mean()) < 5 / math.sqrt(len(s)) * 1.0
    assert abs(s.var() - 1) < 0.05
    a = math.exp(0.5 * (math.lgamma(1 / 0.8) - math.lgamma(3 / 0.8)))
    reference = {
        "laplace": stats.laplace(scale=1 / math.sqrt(2)),
        "uniform": stats.uniform(-math.sqrt(3), 2 * math.sqrt(3)),
        "gennorm": stats.gennorm(0.8, scale=a),
        "gaussian": stats.norm(),
    }[law]
    assert stats.kstest(s, reference.cdf).pvalue > 1e-3


@pytest.mark.parametrize("a", [0.3, 1.0, 4.5])
def test_gamma_sampler_follows_its_law(a):
    assert stats.kstest(sample_gamma((50_000,), a, gen(1)).numpy(), stats.gamma(a).cdf).pvalue > 1e-3


def test_pcl_sources_have_unit_variance_and_lag_one_correlation_a():
    s = NonlinearICA(3, "laplace", autoregression=0.7, seq_len=4, mixing_layers=0).sample(50_000, seed=0).z.double()
    assert s.var(dim=0).sub(1).abs().max() < 0.05
    corr = ((s[:, 1:] * s[:, :-1]).mean(0)).mean()
    assert corr == pytest.approx(0.7, abs=0.02)


def test_segment_modulation_returns_u_and_scales_each_segment():
    g = NonlinearICA(2, "gaussian", segments=3, mixing_layers=0, seed=4)
    b = g.sample(60_000, seed=0)
    for k in range(3):
        zk = b.z[b.u == k, 0].double()
        torch.testing.assert_close(zk.mean(0), g.segment_means[k], atol=0.05, rtol=0)
        torch.testing.assert_close(zk.std(0), g.segment_scales[k], atol=0.05, rtol=0)


def test_gauss_ar1_is_stationary_with_persistence_rho():
    g = LatentDynamics("gauss_ar1", 3, uncertainty=0.6, seq_len=6, mixing_layers=0)
    z = g.sample(40_000, seed=0).z.double()
    assert z.var(dim=0).sub(1).abs().max() < 0.05
    assert (z[:, 1:] * z[:, :-1]).mean() == pytest.approx(math.sqrt(1 - 0.36), abs=0.02)


@pytest.mark.parametrize("p", [0.05, 0.3])
def test_jump_and_resample_frequencies_equal_the_knob(p):
    jumps = LatentDynamics("jump", 4, uncertainty=p, seq_len=3).sample(40_000, seed=0).r.double()
    masks = LatentDynamics("sparse_resample", 4, uncertainty=p, seq_len=3).sample(40_000, seed=0).r.double()
    se = math.sqrt(p * (1 - p) / jumps.numel())
    assert jumps.mean() == pytest.approx(p, abs=5 * se)
    assert masks.mean() == pytest.approx(p, abs=5 * math.sqrt(p * (1 - p) / masks.numel()))


# the marginals' laws as scipy names them: N(0, 1), and uniform on [-sqrt 3, sqrt 3] (loc, scale)
MARGINAL_LAWS = {"gaussian": ("norm", ()), "uniform": ("uniform", (-3**0.5, 2 * 3**0.5))}


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 8), st.floats(0.05, 0.95), st.sampled_from(sorted(MARGINAL_LAWS)), st.integers(0, 2**16))
def test_sparse_resampling_redraws_each_dimension_with_probability_p_from_its_marginal(d, p, marginal, seed):
    """AdaSSL's natural pairs (issue 28): each latent of each transition is resampled with probability p
    exactly, independently per dimension; the resampled values are fresh draws of the marginal (the
    start's law too), independent of the value they replace; the others are kept exactly; ``r`` is the
    indicator. Every test's p-value is held to 1e-6, so 20 draws of 5 tests fail by chance with
    probability below 1e-4."""
    b = LatentDynamics("sparse_resample", d, uncertainty=p, seq_len=3, mixing_layers=0, marginal=marginal).sample(
        8000, seed=seed, dtype=torch.float64)
    law, args = MARGINAL_LAWS[marginal]
    assert stats.kstest(b.z[:, 0].reshape(-1).numpy(), law, args).pvalue > 1e-6  # the start: the marginal too
    before, after, mask = b.z[:, :-1], b.z[:, 1:], b.r
    assert mask.shape == before.shape and mask.dtype == torch.bool
    kept = ~mask
    assert torch.equal(after[kept], before[kept])  # the indicator is exact: unmarked latents do not move
    flat = mask.reshape(-1, d)
    for k in flat.sum(0).tolist():  # per dimension, a binomial count with the stated p
        assert stats.binomtest(k, len(flat), p).pvalue > 1e-6
    if d > 1:  # independent across dimensions: the count of two dimensions resampled together is binomial in p^2
        both = int((flat[:, 0] & flat[:, 1]).sum())
        assert stats.binomtest(both, len(flat), p * p).pvalue > 1e-6
    fresh, replaced = after[mask], before[mask]
    assert stats.kstest(fresh.numpy(), law, args).pvalue > 1e-6  # from the marginal
    r = stats.pearsonr(fresh.numpy(), replaced.numpy())  # independent of the value it replaces
    assert r.pvalue > 1e-6


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 8), st.floats(0.05, 1.0), st.sampled_from(sorted(MARGINAL_LAWS)), st.integers(0, 2**16))
def test_single_resampling_redraws_one_uniformly_chosen_latent_with_probability_p(d, p, marginal, seed):
    """The pairs of AdaSSL-S's gate test (issue 28): with probability p exactly one latent changes, each
    latent equally often (a chi-square test over which), redrawn from the marginal; ``r`` marks it.
    p-values held to 1e-6 as above."""
    b = LatentDynamics("single_resample", d, uncertainty=p, seq_len=3, mixing_layers=0, marginal=marginal).sample(
        8000, seed=seed, dtype=torch.float64)
    mask = b.r.reshape(-1, d)
    assert torch.equal(b.z[:, 1:][~b.r], b.z[:, :-1][~b.r]) and int(mask.sum(1).max()) <= 1
    changes = int(mask.sum())
    assert stats.binomtest(changes, len(mask), p).pvalue > 1e-6
    if d > 1:
        assert stats.chisquare(mask.sum(0).numpy()).pvalue > 1e-6  # which latent: uniform over the d
    law, args = MARGINAL_LAWS[marginal]
    assert stats.kstest(b.z[:, 1:][b.r].numpy(), law, args).pvalue > 1e-6


@settings(max_examples=20, deadline=None)
@given(st.integers(2, 7).flatmap(lambda d: st.tuples(st.just(d), st.integers(1, d - 1))), st.floats(0.05, 1.0),
       st.sampled_from([0.0, 0.3, 0.9]), st.integers(0, 2**16))
def test_content_style_views_share_the_content_and_redraw_style_on_random_subsets(dims, change, dependence, seed):
    """von Kugelgen et al.'s views (issue 28): the content is identical in both views; each style latent
    is redrawn with probability ``change`` (binomial per latent) from p(s | c) = N(a C c, 1 - a^2), so
    that the residual of a redrawn latent is N(0, 1 - a^2) and independent of the value it replaces;
    the kept ones are equal; every latent is N(0, 1). p-values held to 1e-6 as above."""
    d, content = dims
    g = ContentStyle(d, content, change=change, dependence=dependence, mixing_layers=0, seed=seed)
    b = g.sample(8000, seed=seed, dtype=torch.float64)
    c, s, s2 = b.z[:, 0, :content], b.z[:, 0, content:], b.z[:, 1, content:]
    redrawn = b.r[:, 0]
    assert torch.equal(b.z[:, 1, :content], c) and torch.equal(s2[~redrawn], s[~redrawn])
    assert g.assumptions[:2] == ("content_style", "independent_style" if dependence == 0 else "dependent_style")
    for k in redrawn.sum(0).tolist():
        assert stats.binomtest(k, len(redrawn), change).pvalue > 1e-6
    mean = dependence * c @ g.style_map.T
    scale = (1 - dependence**2) ** 0.5
    residual = ((s2 - mean) / scale)[redrawn]
    assert stats.kstest(residual.numpy(), "norm").pvalue > 1e-6
    if len(residual) > 2:
        assert stats.pearsonr(residual.numpy(), ((s - mean) / scale)[redrawn].numpy()).pvalue > 1e-6
    assert stats.kstest(b.z[:, 0].reshape(-1).numpy(), "norm").pvalue > 1e-6  # every latent N(0, 1)


def test_only_the_resampling_presets_take_another_marginal():
    """The AR presets' stationary law is their own: a box marginal there is an error, not ignored."""
    with pytest.raises(ValueError, match="single_resample only"):
        LatentDynamics("gauss_ar1", 2, marginal="uniform")
    with pytest.raises(ValueError, match="marginal"):
        LatentDynamics("sparse_resample", 2, marginal="sphere")


def test_each_dynamics_preset_says_whether_adassls_models_hold_on_it():
    """AdaSSL-V's additive Gaussian edit holds where the transition is a mean plus Gaussian noise given z,
    AdaSSL-S's gated edit where latents are resampled independently; jump satisfies neither."""
    declared = {preset: {a for a in LatentDynamics(preset, 2).assumptions if a in ("additive_uncertainty", "sparse_resampling")}
                for preset in PRESETS}
    assert declared == {"gauss_ar1": {"additive_uncertainty"}, "laplace_ar1": set(), "tanh_ar1": {"additive_uncertainty"}, "jump": set(),
                        "sparse_resample": {"sparse_resampling"}, "single_resample": {"sparse_resampling"},
                        "hetero": {"additive_uncertainty"},
                        "action": {"additive_uncertainty"}, "nonstat_noise": set()}


def test_jump_rotates_by_135_degrees():
    g = LatentDynamics("jump", 2, uncertainty=1.0, noise=0.0, seq_len=2, mixing_layers=0)
    z = g.sample(1000, seed=0, dtype=torch.float64).z
    angle = torch.atan2(z[:, 1, 1], z[:, 1, 0]) - torch.atan2(z[:, 0, 1], z[:, 0, 0])
    torch.testing.assert_close(torch.remainder(angle, 2 * math.pi), torch.full((1000,), 3 * math.pi / 4, dtype=torch.float64))


def test_zero_uncertainty_is_deterministic_and_one_is_independent():
    for preset in ("gauss_ar1", "sparse_resample"):
        z = LatentDynamics(preset, 3, uncertainty=0.0, mixing_layers=0).sample(1000, seed=0).z
        assert torch.equal(z[:, 0], z[:, 1])
        z = LatentDynamics(preset, 3, uncertainty=1.0, mixing_layers=0).sample(20_000, seed=0).z.double()
        assert (z[:, 0] * z[:, 1]).mean().abs() < 0.03


def test_heteroscedastic_noise_grows_with_the_state():
    b = LatentDynamics("hetero", 2, uncertainty=1.0, mixing_layers=0).sample(40_000, seed=0)
    driver = b.z[:, 0, 1]
    noise = b.noise[:, 0, 0].abs()
    assert noise[driver > 1].mean() > 3 * noise[driver < -1].mean()


def test_actions_enter_linearly():
    g = LatentDynamics("action", 3, uncertainty=1.0, noise=0.0, action_dim=2, mixing_layers=0)
    b = g.sample(100, seed=0, dtype=torch.float64)
    expected = 0.9 * b.z[:, 0] @ g.rotation.T + b.r[:, 0] @ g.action_map.T
    torch.testing.assert_close(b.z[:, 1], expected)


def test_box_reflection_keeps_the_uniform_marginal_and_truncation_stays_inside():
    reflected = ContrastivePairs(2, space="box", scale=0.3, mixing_layers=0).sample(50_000, seed=0).z
    assert stats.kstest(reflected[:, 1, 0].numpy(), "uniform").pvalue > 1e-3
    truncated = ContrastivePairs(2, space="box", scale=0.3, boundary="truncate", mixing_layers=0).sample(20_000, seed=0).z
    assert truncated.min() >= 0 and truncated.max() <= 1
    torch.testing.assert_close(reflect_into_unit_box(torch.tensor([-0.25, 1.25, 2.5])), torch.tensor([0.25, 0.75, 0.5]))


def test_laplace_conditional_has_its_scale():
    z = ContrastivePairs(3, space="real", marginal="gaussian", conditional="laplace", scale=0.2, mixing_layers=0)
    step = (lambda b: (b.z[:, 1] - b.z[:, 0]).flatten().double().numpy())(z.sample(30_000, seed=0))
    assert stats.kstest(step, stats.laplace(scale=0.2 / math.sqrt(2)).cdf).pvalue > 1e-3


def test_min_of_mode_keeps_the_best_conditioned_draw():
    best = MLPMixing(5, 3, min_of=50, seed=0).condition_numbers
    quarter = MLPMixing(5, 3, seed=0).threshold
    assert best.max() < quarter  # the best of 50 beats the 25th percentile


# --- assumptions ----------------------------------------------------------------------------


def test_assumption_lists_follow_the_laws_used():
    assert "non_gaussian" not in NonlinearICA(3, "gaussian").assumptions
    assert "non_gaussian" in NonlinearICA(3, "laplace").assumptions
    assert "non_gaussian" not in NonlinearICA(3, "gennorm", beta=2.0).assumptions
    assert "segment_modulated" in NonlinearICA(3, segments=4).assumptions
    assert "temporally_dependent" in NonlinearICA(3, autoregression=0.5).assumptions
    assert "injective_mixing" in NonlinearICA(3, observed_dim=6).assumptions
    assert "vmf_conditional" in ContrastivePairs(3).assumptions
    assert "multimodal_transitions" in LatentDynamics("jump").assumptions
    assert "linear_gaussian_transitions" in LatentDynamics("gauss_ar1").assumptions
    assert "nuisance_dimensions" in LatentDynamics(nuisance_dim=2).assumptions
    assert "nonlinear_transitions" in LatentDynamics("tanh_ar1").assumptions
    assert "temporally_dependent" not in LatentDynamics("tanh_ar1", uncertainty=1.0).assumptions
    assert set(PRESETS) == {"gauss_ar1", "laplace_ar1", "tanh_ar1", "jump", "sparse_resample", "single_resample", "hetero",
                            "action", "nonstat_noise"}


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: NonlinearICA(3, "cauchy"), "law"),
        (lambda: NonlinearICA(3, autoregression=1.0), "autoregression"),
        (lambda: ContrastivePairs(3, space="sphere", conditional="gaussian"), "conditional"),
        (lambda: ContrastivePairs(3, space="torus"), "space"),
        (lambda: LatentDynamics("chaos"), "preset"),
        (lambda: LatentDynamics(uncertainty=1.5), "uncertainty"),
        (lambda: VideoSequences(path="spiral"), "path"),
        (lambda: MLPMixing(4, 2, observed_dim=3), "observed_dim"),
    ],
)
def test_bad_configurations_are_rejected(make, match):
    with pytest.raises(ValueError, match=match):
        make()
