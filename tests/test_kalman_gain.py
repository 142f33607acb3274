"""Issue 27: the Kalman-gain stop-gradient form (``kalman-stopgrad``): no gradient through the target,
the plain stop-gradient form at R -> 0, and Q's fixed point at the codes' residual less R."""

import math

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from identifiability import preset
from identifiability.objectives import LDM, KalmanGain, KalmanPredictive, LogDet, StopGradient


def perturbed(model, seed):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=gen, dtype=p.dtype))
    return model


@settings(max_examples=20, deadline=None)
@given(dim=st.integers(1, 6), noise=st.floats(0.05, 3.0), ema=st.sampled_from([0.0, 0.9]), seed=st.integers(0, 10_000))
def test_no_gradient_flows_through_the_target_branch(dim, noise, ema, seed):
    objective = perturbed(preset("kalman-stopgrad", dim, code_noise=noise, ema=ema).double(), seed)
    z = torch.randn(32, 2, dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).requires_grad_()
    inputs = {"target": z.detach()} if ema else {}
    (grad,) = torch.autograd.grad(objective(z, **inputs), z)
    assert torch.equal(grad[:, 1], torch.zeros_like(grad[:, 1]))  # the second view is only a target
    assert grad[:, 0].abs().sum() > 0


@settings(max_examples=20, deadline=None)
@given(dim=st.integers(1, 6), seed=st.integers(0, 10_000))
def test_at_zero_code_noise_the_kalman_gain_form_is_the_plain_stop_gradient_form(dim, seed):
    """R -> 0: the gain is I, the target z' itself and the posterior without spread, so the loss and
    every gradient are those of LDM(KalmanPredictive, StopGradient) with the same A, b, Q (the BYOL
    form of the Kalman latent model); at A = I too (the first example draws no perturbation of A)."""
    gain = perturbed(KalmanGain(dim, observation_noise=0.0).double(), seed)
    plain = KalmanPredictive(dim).double()
    plain.load_state_dict(gain.state_dict())
    z = torch.randn(64, 2, dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).requires_grad_()
    losses = [LDM(model, StopGradient(LogDet()))(z) for model in (gain, plain)]
    torch.testing.assert_close(losses[0], losses[1], atol=1e-6, rtol=0)
    for a, b in zip(*(torch.autograd.grad(loss, [z, *model.parameters()]) for loss, model in zip(losses, (gain, plain)))):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-6)


@settings(max_examples=20, deadline=None)
@given(residual=st.floats(0.3, 4.0), noise=st.floats(0.05, 0.5))
def test_q_is_stationary_at_the_codes_residual_variance_less_r(residual, noise):
    """d = 1, A = 0, b = 0: with codes whose residual z' - A z has variance s, the alignment against the
    filter's posterior is stationary in Q at Q = s - R (the pair likelihood's S = Q + R = s), and the
    plug-in without the posterior's spread is not (it pulls Q below that: each step's smaller Q makes
    the next target's residual smaller, and Q runs to 0)."""
    s, r = residual, noise**2  # s >= 0.3 > 0.25 >= R: Q = s - R is positive on every draw
    model = KalmanGain(1, observation_noise=noise).double()
    with torch.no_grad():
        model.weight.zero_()
        model.raw_chol.fill_(math.log(math.expm1(math.sqrt(s - r) - math.sqrt(model.eps))) - math.log(math.e - 1))  # Q = s - R
    torch.testing.assert_close(model.noise, torch.full((1, 1), s - r, dtype=torch.float64), atol=1e-12, rtol=1e-12)
    z_next = torch.linspace(-1, 1, 2001, dtype=torch.float64)[:, None]
    z_next = z_next / z_next.square().mean().sqrt() * s**0.5  # variance exactly s about the prediction 0
    z = torch.zeros_like(z_next)
    (grad,) = torch.autograd.grad(model.target_log_prob(z, z_next).mean(), model.raw_chol)
    assert abs(float(grad)) < 1e-9
    target = (model.predict(z) + model.gain() * z_next).detach()
    (naive,) = torch.autograd.grad(model.log_prob(z, target).mean(), model.raw_chol)
    # its residual variance is K^2 s = (s - R)^2 / s < s - R: it would shrink Q, at the rate
    # -R / (2 s (s - R)) per unit of Q (>= 8e-5 over these draws, times dQ / d raw >= 0.3)
    assert float(naive) < -1e-5
