import math
import subprocess
import sys

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats
from scipy.special import ive

from identifiability._core import as_generator, derive_seed
from identifiability.processes import Batch, ContrastivePairs, MLPMixing, reference_count, sample_vmf, uniform_sphere
from identifiability.processes.sphere import _symmetric_beta_coordinate


def test_same_seed_same_pairs_bit_for_bit():
    data = ContrastivePairs(latent_dim=4, kappa=5.0, seed=3)
    a, b = data.sample(500, seed=11), data.sample(500, seed=11)
    assert torch.equal(a.x, b.x) and torch.equal(a.z, b.z)
    assert not torch.equal(a.z, data.sample(500, seed=12).z)


def test_mechanism_seed_is_separate_from_the_sample_stream():
    a, b = ContrastivePairs(seed=0), ContrastivePairs(seed=1)
    za = a.sample(100, seed=5).z
    assert torch.equal(za, b.sample(100, seed=5).z)  # same draws ...
    assert not torch.allclose(a.mixing(za), b.mixing(za))  # ... through a different mechanism


@given(d=st.integers(2, 12), n=st.integers(1, 64))
def test_pairs_have_time_axis_and_lie_on_the_sphere(d, n):
    batch = ContrastivePairs(latent_dim=d, kappa=3.0).sample(n, seed=0)
    assert isinstance(batch, Batch) and len(batch) == n
    assert batch.x.shape == (n, 2, d) and batch.z.shape == (n, 2, d)
    assert batch.x.dtype == torch.float32
    torch.testing.assert_close(batch.z.norm(dim=-1), torch.ones(n, 2), atol=1e-6, rtol=0)


@given(d=st.integers(1, 10), layers=st.integers(0, 5), seed=st.integers(0, 2**31))
def test_mixing_is_invertible_and_well_conditioned(d, layers, seed):
    g = MLPMixing(d, layers, seed=seed)
    z = torch.randn(256, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    torch.testing.assert_close(g.inverse(g(z)), z, atol=1e-10, rtol=0)
    assert (g.condition_numbers <= g.threshold + 1e-9).all()


def test_float32_pairs_invert_to_1e4():
    data = ContrastivePairs(latent_dim=8)
    batch = data.sample(10_000, seed=0)
    assert (data.mixing.inverse(batch.x) - batch.z).abs().max() < 1e-4


def test_mixing_threshold_is_the_quarter_quantile_of_reference_draws():
    # Redrawing below the 25th percentile: on average the kept matrices are better conditioned
    # than raw draws, and the threshold itself is far from the tail.
    g = MLPMixing(6, 5, seed=0)
    cols = torch.rand(10_000, 6, 6, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * 2 - 1
    raw = torch.linalg.cond(cols / cols.norm(dim=-2, keepdim=True))
    assert 0.15 < (raw <= g.threshold).double().mean() < 0.35


def test_reference_count_keeps_10k_draws_to_d_40_then_falls_as_d_cubed():
    assert [reference_count(d) for d in (1, 5, 40, 41, 80, 128, 271, 272, 512)] == [
        10_000, 10_000, 10_000, 10_000 * 40**3 // 41**3, 1250, 305, 32, 32, 32]


def test_mixing_threshold_past_d_40_accepts_its_quantile_within_the_stated_error():
    # d = 64: 2441 reference draws. The share of 2000 fresh draws below the threshold is 0.25 up to the
    # reference's and the fresh draws' sampling errors, sqrt(q (1 - q) (1 / 2441 + 1 / 2000)) = 0.013: 4 of them.
    g = MLPMixing(64, 2, seed=3)
    assert (g.condition_numbers <= g.threshold).all()
    torch.testing.assert_close(g.inverse(g(torch.eye(64, dtype=torch.float64))), torch.eye(64, dtype=torch.float64),
                               atol=1e-9, rtol=0)
    cols = torch.rand(2000, 64, 64, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * 2 - 1
    raw = torch.linalg.cond(cols / cols.norm(dim=-2, keepdim=True))
    assert abs((raw <= g.threshold).double().mean().item() - 0.25) < 4 * 0.013


def test_leaky_relu_sits_between_layers_only():
    g = MLPMixing(3, 1, seed=0)  # one layer: linear, no nonlinearity after the last layer
    z = torch.randn(50, 3, dtype=torch.float64)
    torch.testing.assert_close(g(-z), -g(z))


@pytest.mark.parametrize("d,kappa", [(2, 0.5), (3, 1.0), (5, 10.0), (10, 50.0), (32, 300.0)])
def test_vmf_mean_resultant_length_matches_closed_form(d, kappa):
    gen = torch.Generator().manual_seed(0)
    mu = uniform_sphere(20_000, d, gen)
    cos = (sample_vmf(mu, kappa, gen) * mu).sum(-1)
    expected = ive(d / 2, kappa) / ive(d / 2 - 1, kappa)  # A_d(kappa) = I_{d/2} / I_{d/2-1}
    # The standard error of the mean cosine is at most 1 / sqrt(n); allow 5 of them.
    assert abs(cos.mean().item() - expected) < 5 / math.sqrt(20_000)


@pytest.mark.parametrize("d", [2, 3, 4, 10, 100, 1000])
def test_polar_proposal_is_the_law_of_a_sphere_coordinate(d):
    """Ulrich's polar draw of Wood's proposal: t = 2B - 1 with B ~ Beta((d-1)/2, (d-1)/2), the law of
    one coordinate of a uniform point on S^{d-1} (E t^2 = 1/d); KS at 10^5 draws sees a wrong law."""
    t = _symmetric_beta_coordinate((100_000,), d, torch.Generator().manual_seed(d)).numpy()
    a = (d - 1) / 2
    assert stats.kstest((1 + t) / 2, stats.beta(a, a).cdf).pvalue > 1e-3
    # d t^2 has mean 1 and variance 2 (d - 1) / (d + 2) < 2: five standard errors
    assert abs((t**2).mean() * d - 1) < 5 * math.sqrt(2 / 100_000)


@pytest.mark.parametrize("d,kappa", [(3, 1.0), (5, 10.0), (20, 100.0)])
def test_vmf_cosines_match_scipys_sampler(d, kappa):
    """Two-sample KS of w = mu^T z against scipy's independent vMF sampler (Wood's, with its own
    proposal): the same law."""
    mu = torch.zeros(50_000, d, dtype=torch.float64)
    mu[:, 0] = 1
    ours = sample_vmf(mu, kappa, torch.Generator().manual_seed(3))[:, 0].numpy()
    theirs = stats.vonmises_fisher(mu[0].numpy(), kappa).rvs(50_000, random_state=3)[:, 0]
    assert stats.ks_2samp(ours, theirs).pvalue > 1e-3


def test_vmf_on_the_circle_matches_von_mises_law():
    gen = torch.Generator().manual_seed(1)
    mu = torch.tensor([[1.0, 0.0]], dtype=torch.float64).expand(20_000, 2)
    z = sample_vmf(mu, 2.0, gen)
    angles = torch.atan2(z[:, 1], z[:, 0]).numpy()
    assert stats.kstest(angles, stats.vonmises(2.0).cdf).pvalue > 1e-3


def test_vmf_tangent_part_is_isotropic():
    gen = torch.Generator().manual_seed(2)
    mu = torch.zeros(20_000, 4, dtype=torch.float64)
    mu[:, 0] = 1
    tangent = sample_vmf(mu, 5.0, gen)[:, 1:]
    cov = torch.cov(tangent.T)
    torch.testing.assert_close(cov, cov.diagonal().mean() * torch.eye(3, dtype=torch.float64), atol=0.01, rtol=0)


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="latent_dim"):
        ContrastivePairs(latent_dim=1)
    with pytest.raises(ValueError, match="kappa"):
        ContrastivePairs(kappa=0)
    with pytest.raises(ValueError, match="slope"):
        MLPMixing(3, 2, slope=0.0)
    with pytest.raises(ValueError, match="seed"):
        as_generator(1.5)


def test_derived_seeds_differ_per_key_and_repeat_per_call():
    assert derive_seed(0, "train") == derive_seed(0, "train")
    assert len({derive_seed(0, "train"), derive_seed(0, "eval"), derive_seed(1, "train")}) == 3


def test_mixing_inverts_at_d_200_after_torch_set_num_threads():
    # pytorch/pytorch#141358: once set_num_threads(k > 1) is called, torch's batched LU (linalg.inv of a
    # stack) is wrong at d >~ 150 (factors off by 300 at d = 300); in a fresh process, as the call is global
    script = (
        "import torch\n"
        "torch.set_num_threads(2)\n"
        "from identifiability.processes import MLPMixing\n"
        "g = MLPMixing(200, 3, seed=0)\n"
        "z = torch.randn(64, 200, generator=torch.Generator().manual_seed(0), dtype=torch.float64)\n"
        "print((g.inverse(g(z)) - z).abs().max().item())\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert float(done.stdout.split()[-1]) < 1e-9
