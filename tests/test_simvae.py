"""Issue 7: SimVAE's ELBO against the exact marginal likelihood of a linear-Gaussian model."""

import math

import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st
from torch.distributions import MultivariateNormal, kl_divergence

from identifiability import preset
from identifiability.objectives import SimVAE


def linear_simvae(d: int, observed: int, view_variance: float, noise: float, weight: torch.Tensor, bias: torch.Tensor) -> SimVAE:
    decoder = torch.nn.Linear(d, observed).double()
    with torch.no_grad():
        decoder.weight.copy_(weight)
        decoder.bias.copy_(bias)
    model = SimVAE(d, observed, view_variance=view_variance, decoder=decoder, learn_noise=False).double()
    model.log_noise.fill_(math.log(noise))  # set in float64: a float32 initial value is off by ~1e-8
    return model


def joint_gaussian(model: SimVAE, views: int, noise: float):
    """The exact model over the stacked views: prior covariance of vec(z) (J d), the linear map
    vec(z) -> vec(x) and the observation mean."""
    d = model.dim
    s2 = model.view_variance
    per_coordinate = s2 * torch.eye(views, dtype=torch.float64) + (1 - s2)
    prior = torch.kron(per_coordinate, torch.eye(d, dtype=torch.float64))
    a = torch.kron(torch.eye(views, dtype=torch.float64), model.decoder.weight.detach())
    mean = model.decoder.bias.detach().repeat(views)
    evidence = MultivariateNormal(mean, a @ prior @ a.T + noise**2 * torch.eye(len(mean), dtype=torch.float64))
    return prior, a, mean, evidence


@given(st.integers(1, 4), st.integers(1, 3), st.floats(0.05, 1.0), st.integers(0, 10_000))
@example(views=2, d=1, s2=0.053872176224533046, seed=0)  # off by 1.07e-7 relative while the test used the s^2 asked for
def test_log_prior_is_the_hierarchical_density_with_content_integrated_out(views, d, s2, seed):
    model = SimVAE(d, 3, view_variance=s2).double()
    s2 = model.view_variance  # the model's float32 logit moves s^2 by up to ~1e-7 relative, and 1/s^2 carries that into the density
    z = torch.randn(6, views, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    # z_j = y + s eps_j with y ~ N(0, (1 - s^2) I): per coordinate covariance s^2 I + (1 - s^2) 1 1^T
    cov = s2 * torch.eye(views, dtype=torch.float64) + (1 - s2)
    expected = MultivariateNormal(torch.zeros(views, dtype=torch.float64), cov).log_prob(z.transpose(1, 2)).sum(-1)
    torch.testing.assert_close(model.log_prior(z), expected)


@given(st.integers(1, 3), st.integers(2, 5), st.integers(0, 10_000))
@settings(max_examples=20)
def test_elbo_is_the_log_evidence_at_every_draw_when_q_is_the_exact_posterior(d, extra, seed):
    """Views independent (s^2 = 1) and decoder columns orthogonal: the exact posterior is a
    diagonal Gaussian per view, and log p(x, z) - log q(z | x) = log p(x) for every z."""
    g = torch.Generator().manual_seed(seed)
    observed, noise, views = d + extra, 0.3, 2
    q, _ = torch.linalg.qr(torch.randn(observed, d, generator=g, dtype=torch.float64))
    gains = 0.5 + torch.rand(d, generator=g, dtype=torch.float64)
    model = linear_simvae(d, observed, 1.0, noise, q * gains, torch.randn(observed, generator=g, dtype=torch.float64))
    _, _, mean, evidence = joint_gaussian(model, views, noise)
    x = (mean + 2 * torch.randn(4, views * observed, generator=g, dtype=torch.float64)).reshape(4, views, observed)
    precision = 1 + gains**2 / noise**2  # W^T W / sigma^2 + I, diagonal
    post_mean = ((x - model.decoder.bias.detach()) @ (q * gains)) / noise**2 / precision
    post_log_scale = (-0.5 * precision.log()).expand_as(post_mean)
    elbo = model.elbo(x, post_mean, post_log_scale, samples=50, generator=torch.Generator().manual_seed(seed))
    expected = evidence.log_prob(x.reshape(4, -1))
    torch.testing.assert_close(elbo, expected.expand(50, 4), rtol=0, atol=1e-9)


@given(st.integers(1, 3), st.integers(2, 3), st.integers(0, 3), st.floats(0.1, 0.9), st.integers(0, 10_000))
@settings(max_examples=15, deadline=None)
def test_elbo_expectation_is_log_evidence_minus_the_posterior_kl(d, views, extra, s2, seed):
    """Any diagonal q, views sharing content: E_q[ELBO] = log p(x) - KL(q || p(z | x)), the exact
    gap, which the per-view factorised q cannot close."""
    g = torch.Generator().manual_seed(seed)
    observed, noise, n, draws = d + extra, 0.5, 3, 20_000
    model = linear_simvae(d, observed, s2, noise, torch.randn(observed, d, generator=g, dtype=torch.float64),
                          torch.randn(observed, generator=g, dtype=torch.float64))
    prior, a, mean, evidence = joint_gaussian(model, views, noise)
    x = (mean + 1.5 * torch.randn(n, views * observed, generator=g, dtype=torch.float64)).reshape(n, views, observed)
    q_mean = torch.randn(n, views, d, generator=g, dtype=torch.float64)
    q_log_scale = -1 + 0.3 * torch.randn(n, views, d, generator=g, dtype=torch.float64)
    elbo = model.elbo(x, q_mean, q_log_scale, samples=draws, generator=torch.Generator().manual_seed(seed))

    post_cov = torch.linalg.inv(torch.linalg.inv(prior) + a.T @ a / noise**2)
    post_mean = (x.reshape(n, -1) - mean) @ a @ post_cov / noise**2
    posterior = MultivariateNormal(post_mean, post_cov)
    q = MultivariateNormal(q_mean.reshape(n, -1), torch.diag_embed(torch.exp(2 * q_log_scale.reshape(n, -1))))
    expected = evidence.log_prob(x.reshape(n, -1)) - kl_divergence(q, posterior)
    standard_error = elbo.std(0) / math.sqrt(draws)
    assert ((elbo.mean(0) - expected).abs() < 5 * standard_error + 1e-9).all(), (elbo.mean(0), expected, standard_error)
    assert (elbo.mean(0) < evidence.log_prob(x.reshape(n, -1))).all()


def test_forward_is_the_negative_mean_elbo_per_view_at_the_posterior_scale_head():
    model = preset("simvae", 3, observed_dim=5)
    z, x = torch.randn(8, 2, 3), torch.randn(8, 2, 5)
    loss = model(z, observations=x)
    model._gen.manual_seed(0)
    first = model(z, observations=x)
    model._gen.manual_seed(0)
    expected = -model.elbo(x, z, model.posterior_scale(z)).mean() / 2
    torch.testing.assert_close(first, expected)
    assert loss.shape == () and torch.isfinite(loss)
    # frames (n, J, C, H, W) are flattened per view
    frames = preset("simvae", 3, observed_dim=2 * 4 * 4)
    assert torch.isfinite(frames(z, observations=torch.rand(8, 2, 2, 4, 4)))


def test_the_loss_at_drawn_noise_is_the_loss_that_draws_it():
    """What a batched step hands each seed (``draw_noise`` from the seed's stream) is what its loss alone draws."""
    model = preset("simvae", 3, observed_dim=5)
    z, x = torch.randn(8, 2, 3), torch.randn(8, 2, 5)
    model._gen.manual_seed(4)
    alone = model(z, observations=x)
    model._gen.manual_seed(4)
    noise = model.draw_noise((8, 2), "cpu", torch.float32)
    assert noise.shape == (1, 8, 2, 3)
    torch.testing.assert_close(model(z, observations=x, noise=noise), alone, rtol=0, atol=0)
    assert model(z, observations=x, noise=-noise) != alone
    with pytest.raises(ValueError, match="posterior draws must have shape"):
        model(z, observations=x, noise=noise[:, :, :1])  # one view's draw would broadcast over both: refused


def test_every_parameter_gets_a_gradient_and_the_encoding_too():
    model = preset("simvae", 3, observed_dim=5)
    # the scale head's last layer starts at 0, which blocks its first layer's gradient at step 0 only
    torch.nn.init.normal_(model.posterior_scale[-1].weight, std=0.1)
    z = torch.randn(8, 2, 3, requires_grad=True)
    model(z, observations=torch.randn(8, 2, 5)).backward()
    assert z.grad is not None and z.grad.abs().sum() > 0
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_bad_settings_and_inputs_are_clear_errors():
    with pytest.raises(ValueError, match="view_variance"):
        SimVAE(3, 5, view_variance=0.0)
    with pytest.raises(ValueError, match="observations"):
        SimVAE(3, 5)(torch.randn(8, 2, 3))
    with pytest.raises(ValueError, match="entries per view"):
        SimVAE(3, 5)(torch.randn(8, 2, 3), observations=torch.randn(8, 2, 4))
    with pytest.raises(ValueError, match="matching"):
        SimVAE(3, 5)(torch.randn(8, 2, 3), observations=torch.randn(8, 3, 5))


def test_a_learned_view_variance_gets_its_gradient_and_must_start_below_one():
    model = SimVAE(3, 5, view_variance=0.3, learn_view_variance=True)
    assert model.view_variance == pytest.approx(0.3)
    model(torch.randn(8, 2, 3), observations=torch.randn(8, 2, 5)).backward()
    assert model.view_logit.grad is not None and model.view_logit.grad != 0
    with pytest.raises(ValueError, match="inside"):
        SimVAE(3, 5, view_variance=1.0, learn_view_variance=True)
