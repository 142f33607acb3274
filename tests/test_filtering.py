"""Filtering: the oracle bound against a brute-force Kalman filter, observation noise in the vector
processes, and the Kalman-filter objective against its pair-method limit."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import solve_discrete_are

from identifiability.processes import LatentDynamics, NonlinearICA
from identifiability.objectives import KalmanFilterLDM
from identifiability.objectives.latent_models import KalmanPredictive
from identifiability.experiment import run_experiment
from identifiability.records import value_of
from identifiability.processes.oracle import _systematic_resample, filtered_covariances, oracle_r2, particle_filter_r2
from identifiability.report import format_report
from identifiability.specs import ExperimentSpec
from linear_gaussian import sequence_covariance


def _spd(rng, d, scale):
    m = rng.normal(size=(d, d))
    return scale * (m @ m.T / d + 0.1 * np.eye(d))


def _numpy_kalman(y, a, q, r):
    """Filtered means of y (n, T, d) by the textbook recursion, one sequence at a time."""
    n, steps, d = y.shape
    out = np.empty_like(y)
    for i in range(n):
        m, p = np.zeros(d), np.eye(d)
        for t in range(steps):
            if t:
                m, p = a @ m, a @ p @ a.T + q
            k = p @ np.linalg.inv(p + r)
            m, p = m + k @ (y[i, t] - m), p - k @ p
            out[i, t] = m
    return out


def _simulate(rng, n, steps, a, q, r):
    d = a.shape[0]
    s = np.empty((n, steps, d))
    s[:, 0] = rng.normal(size=(n, d))
    for t in range(1, steps):
        s[:, t] = s[:, t - 1] @ a.T + rng.multivariate_normal(np.zeros(d), q, n)
    return s, s + rng.multivariate_normal(np.zeros(d), r, (n, steps))


@settings(max_examples=5, deadline=None)
@given(st.integers(0, 2**16), st.integers(2, 3), st.floats(0.2, 0.9))
def test_the_oracle_covariance_is_the_error_of_a_brute_force_kalman_filter(seed, d, sigma):
    rng = np.random.default_rng(seed)
    n, steps = 4000, 6
    a, q, r = math.sqrt(1 - sigma**2) * np.eye(d), sigma**2 * np.eye(d), _spd(rng, d, 0.5)
    z, y = _simulate(rng, n, steps, a, q, r)
    error = _numpy_kalman(y, a, q, r)[:, -1] - z[:, -1]
    predicted = filtered_covariances(*(torch.as_tensor(m) for m in (a, q, r)), steps)[-1].numpy()
    # the empirical error covariance of n draws: each entry within 5 standard errors
    tolerance = 5 * np.sqrt((predicted.diagonal()[:, None] * predicted.diagonal()[None] + predicted**2) / n)
    np.testing.assert_array_less(np.abs(error.T @ error / n - predicted), tolerance)


def test_the_filter_converges_to_the_steady_state_of_the_riccati_equation():
    rng = np.random.default_rng(3)
    a, q, r = 0.8 * np.eye(3) + 0.05 * rng.normal(size=(3, 3)), _spd(rng, 3, 0.3), _spd(rng, 3, 0.7)
    predicted = solve_discrete_are(a.T, np.eye(3), q, r)  # the stationary one-step-ahead covariance
    filtered = predicted - predicted @ np.linalg.inv(predicted + r) @ predicted
    got = filtered_covariances(*(torch.as_tensor(m) for m in (a, q, r)), 200)[-1].numpy()
    np.testing.assert_allclose(got, filtered, atol=1e-10)


def test_the_oracle_is_perfect_without_noise_and_filtering_helps_only_with_memory():
    a, q = math.sqrt(1 - 0.25) * torch.eye(2), 0.25 * torch.eye(2)
    assert oracle_r2(a, q, torch.zeros(2, 2), 8) == (1.0, 1.0)
    frame, filtered = oracle_r2(a, q, 0.5 * torch.eye(2), 8)
    assert frame == pytest.approx(1 - 0.5 / 1.5) and filtered > frame + 0.05  # one frame: prior 1, noise 0.5
    # i.i.d. latents (A = 0, Q = I): past frames carry nothing about the present
    assert oracle_r2(torch.zeros(2, 2), torch.eye(2), 0.5 * torch.eye(2), 8) == pytest.approx((frame, frame))


@pytest.mark.parametrize("make", [
    lambda noise: LatentDynamics("gauss_ar1", 3, seq_len=4, observation_noise=noise),
    lambda noise: NonlinearICA(3, autoregression=0.5, seq_len=3, observation_noise=noise),
])
def test_observation_noise_has_its_stated_variance_and_reproduces_under_a_seed(make):
    clean, noisy = make(0.0).sample(20_000, 5, dtype=torch.float64), make(0.3).sample(20_000, 5, dtype=torch.float64)
    torch.testing.assert_close(noisy.z, clean.z)  # the noise is drawn after the latents
    eps = (noisy.x - clean.x) / 0.3
    # >= 180 000 draws: the mean's standard error is 0.0024, the variance's 0.0033 (4 and 6 of them)
    assert eps.mean().abs() < 0.01 and (eps.var() - 1).abs() < 0.02
    torch.testing.assert_close(make(0.3).sample(100, 5).x, make(0.3).sample(100, 5).x, rtol=0, atol=0)
    assert "noisy_observations" in make(0.3).assumptions and "noisy_observations" not in make(0.0).assumptions
    assert "observation_noise=0.3" in repr(make(0.3)) and "observation_noise" not in repr(make(0.0))
    for bad in (-1.0, 1e300):  # 1e300 would overflow float32 observations into inf
        with pytest.raises(ValueError, match="observation_noise"):
            make(bad)


def test_the_latent_observation_noise_of_a_linear_mixing_is_its_inverse_gram():
    data = LatentDynamics("gauss_ar1", 3, mixing_layers=1, observation_noise=0.2)
    w = data.mixing.weights[0].double()
    expected = 0.04 * torch.linalg.inv(w.T @ w)
    torch.testing.assert_close(data.latent_observation_noise(torch.randn(50, 3)), expected)


def test_without_observation_noise_the_filter_loss_is_the_pair_method_plus_the_codes_likelihood():
    # R -> 0 and T = 2: the filtered state after y_0 is y_0 (P -> 0), the prediction A y_0 + b with
    # S = Q: the encoder's term is -[log N(y_1; A y_0 + b, Q) + contrastive entropy under that kernel
    # + log N(y; 0, I)], the filter's is the sequence likelihood -[log N(y_0; 0, I) + log N(y_1; A y_0 + b, Q)] / 2
    torch.manual_seed(0)
    d = 3
    objective = KalmanFilterLDM(d).double()
    with torch.no_grad():
        objective.log_obs_std.fill_(-30.0)  # R = 1e-6 I (the floor)
        for p in objective.latent_model.parameters():
            p.add_(0.2 * torch.randn_like(p))
    z = torch.randn(64, 2, d, dtype=torch.float64)
    model: KalmanPredictive = objective.latent_model
    log_k = model.log_prob_matrix(z[:, 0], z[:, 1])  # [i, j] log p(y1_j | y0_i)
    pair = -(log_k.diagonal().mean() - (log_k.logsumexp(1) - math.log(64)).mean()
             + model.marginal_log_prob(z.reshape(-1, d)).mean())
    likelihood = -(model.marginal_log_prob(z[:, 0]) + log_k.diagonal()).mean() / 2
    # the floor R = 1e-6 I (and P_0 ~ R) moves the loss by ~1e-5; a wrong term or direction moves it by O(1)
    torch.testing.assert_close(objective(z), pair + likelihood, rtol=1e-4, atol=1e-4)


def test_the_encoder_learns_from_the_predictive_law_and_the_filter_from_the_likelihood():
    # each term trains its own part: the codes' gradient is the contrastive LDM's with the filter held
    # fixed, the filter's gradient is the exact likelihood's with the codes held fixed
    torch.manual_seed(1)
    objective = KalmanFilterLDM(2).double()
    z = torch.randn(32, 5, 2, dtype=torch.float64, requires_grad=True)
    objective(z).backward()
    code_grad, filter_grads = z.grad.clone(), [p.grad.clone() for p in objective.parameters()]
    objective.zero_grad()
    z.grad = None
    _, nll = objective.filter(z)
    nll.mean().backward()  # the likelihood alone, through both
    for got, expected in zip(filter_grads, (p.grad for p in objective.parameters())):
        torch.testing.assert_close(got, expected)
    assert not torch.allclose(code_grad, z.grad)  # the codes' gradient is not the likelihood's
    # and it is exactly the rest's: the loss less the likelihood, differentiated along a direction by central
    # differences (float64, step 1e-5: error ~1e-9), where the likelihood's own pull on the codes is O(1)
    with torch.no_grad():
        def rest(codes: torch.Tensor) -> float:
            return float(objective(codes) - objective.filter(codes)[1].mean())

        v = torch.randn(z.shape, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
        numeric = (rest(z + 1e-5 * v) - rest(z - 1e-5 * v)) / 2e-5
    assert float((code_grad * v).sum()) == pytest.approx(numeric, abs=1e-6)
    assert abs(float((z.grad * v).sum())) > 1e-2


def test_calibration_recovers_the_noise_of_a_linear_gaussian_state_model():
    # maximum likelihood on 4000 sequences of 16 steps: the estimates' standard errors are about
    # 0.01-0.02 relative, so Q and R within 15 % and A within 0.02 cannot be met by a filter that
    # kept its start (Q = I, R = 0.018 I) or swapped the two noises (their ratio here is 1:2)
    rng = np.random.default_rng(0)
    a, q, r = np.diag([0.95, 0.9]), np.diag([0.0975, 0.19]), np.diag([0.2, 0.4])
    _, y = _simulate(rng, 4000, 16, a, q, r)
    objective = KalmanFilterLDM(2).double()
    objective.calibrate(torch.as_tensor(y))
    model = objective.latent_model
    np.testing.assert_allclose(model.transition.detach().numpy(), a, atol=0.02)
    np.testing.assert_allclose(model.noise.detach().diagonal().numpy(), q.diagonal(), rtol=0.15)
    np.testing.assert_allclose(objective.observation_noise.detach().diagonal().numpy(), r.diagonal(), rtol=0.15)


def test_the_calibrated_filter_state_is_the_textbook_kalman_filter_and_reaches_the_oracle():
    rng = np.random.default_rng(1)
    a, q, r = 0.95 * np.eye(2), 0.0975 * np.eye(2), 0.3 * np.eye(2)
    s, y = _simulate(rng, 2000, 12, a, q, r)
    objective = KalmanFilterLDM(2).double()
    objective.calibrate(torch.as_tensor(y))
    bias = objective.latent_model.bias.detach()
    assert bias.abs().max() < 0.05  # the codes have mean 0, b is fitted near it; set to 0, the textbook filter applies
    objective.latent_model.bias.data.zero_()
    filtered = objective.predictions(torch.as_tensor(y))[2].detach().numpy()
    fitted = (objective.latent_model.transition, objective.latent_model.noise, objective.observation_noise)
    np.testing.assert_allclose(filtered, _numpy_kalman(y, *(m.detach().numpy() for m in fitted)), atol=1e-9)
    # the filter's error is the oracle's (0.30 -> about 0.10 here: 2000 x 2 draws give a 3 % standard
    # error), far below the observation's own 0.30
    error = np.mean((filtered[:, -1] - s[:, -1]) ** 2)
    expected = filtered_covariances(*(torch.as_tensor(m) for m in (a, q, r)), 12)[-1].diagonal().mean().item()
    assert abs(error - expected) < 0.1 * expected < 0.3 / 2


def test_calibration_of_a_float32_filter_survives_codes_its_first_steps_overflow_on():
    # codes of scale 1e-3 (AR(1), rho 0.5, 10 % noise): L-BFGS in float32 reached noise scales that
    # overflow to a NaN likelihood and its line search extrapolated until it raised; in float64 it
    # fits, lowers the likelihood from where it started and hands back float32 parameters
    g = torch.Generator().manual_seed(1)
    z = torch.zeros(512, 8, 2)
    z[:, 0] = torch.randn(512, 2, generator=g)
    for t in range(1, 8):
        z[:, t] = 0.5 * z[:, t - 1] + 0.75**0.5 * torch.randn(512, 2, generator=g)
    y = 1e-3 * (z + 0.1 * torch.randn(512, 8, 2, generator=g))
    objective = KalmanFilterLDM(2)
    start = float(objective.filter(y)[1].mean())
    loss = objective.calibrate(y)
    assert np.isfinite(loss) and loss < start
    assert all(p.dtype == torch.float32 and torch.isfinite(p).all() for p in objective.parameters())


def test_the_filter_refuses_single_steps():
    with pytest.raises(ValueError, match="T >= 2"):
        KalmanFilterLDM(2)(torch.randn(8, 1, 2))


def test_with_exact_entropy_the_filter_loss_is_the_observed_sequences_negative_log_likelihood():
    # a linear encoder y = W x has log-volume log|det W| per frame; x = W^{-1} y with y from the state
    # model is Gaussian, so -log p(x_0..x_T) is a closed form: the loss is it per step
    torch.manual_seed(2)
    d, steps, n = 2, 3, 5
    objective = KalmanFilterLDM(d, entropy="exact").double()
    assert objective.requires == {"log_volume"}
    w = torch.tensor([[1.5, 0.3], [-0.2, 0.7]], dtype=torch.float64)
    x = torch.randn(n, steps, d, dtype=torch.float64)
    y = x @ w.T
    log_volume = torch.full((n, steps), torch.linalg.slogdet(w)[1].item(), dtype=torch.float64)
    model = objective.latent_model
    a, q, r = (m.detach() for m in (model.transition, model.noise, objective.observation_noise))
    cov_y = sequence_covariance(a, q, r, steps)
    w_inv = torch.block_diag(*[torch.linalg.inv(w)] * steps)
    law = torch.distributions.MultivariateNormal(torch.zeros(steps * d, dtype=torch.float64), w_inv @ cov_y @ w_inv.T)
    expected = -law.log_prob(x.reshape(n, -1)).mean() / steps
    torch.testing.assert_close(objective(y, log_volume=log_volume), expected)
    with pytest.raises(ValueError, match="log-volumes"):
        objective(y)
    with pytest.raises(ValueError, match="entropy must be one of"):
        KalmanFilterLDM(d, entropy="knn")


def test_the_particle_filter_agrees_with_the_closed_form_on_a_linear_gaussian_model():
    # with g linear the posterior is Gaussian and the closed form is exact; the particle filter's R^2 is a
    # mean over 1000 x 2 squared errors of variance ~0.2 each: a Monte-Carlo standard error near 0.007
    data = LatentDynamics("gauss_ar1", 2, uncertainty=0.3, seq_len=12, mixing_layers=1, observation_noise=0.5, seed=4)
    batch = data.sample(1000, 5, dtype=torch.float64)
    a, q = data.linear_gaussian
    per_frame, filtered, ess, errors = particle_filter_r2(batch.x, batch.z, a, q, data.mixing, 0.5, particles=1000, seed=1)
    assert all(0 < e < 0.02 for e in errors)  # over 1000 sequences: the estimate's sampling error
    exact = oracle_r2(a, q, data.latent_observation_noise(batch.z[:2000, 0]), 12)
    assert abs(per_frame - exact[0]) < 0.025 and abs(filtered - exact[1]) < 0.025
    assert exact[1] - exact[0] > 0.05 and 0.05 < ess <= 1  # filtering helps here, and the particles are not degenerate


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**16), st.integers(2, 64))
def test_systematic_resampling_keeps_each_particle_its_share_up_to_one(seed, particles):
    gen = torch.Generator().manual_seed(seed)
    weights = torch.softmax(3 * torch.randn(5, particles, generator=gen, dtype=torch.float64), -1)
    state = torch.arange(particles, dtype=torch.float64).expand(5, -1)[..., None]
    drawn = _systematic_resample(state, weights, gen)[..., 0].long()
    counts = torch.zeros(5, particles, dtype=torch.float64).scatter_add_(1, drawn, torch.ones_like(drawn, dtype=torch.float64))
    assert ((counts - particles * weights).abs() < 1 + 1e-9).all()


@pytest.mark.parametrize("objective", ["kalman-filter", "plane-kde-ldm"])
@pytest.mark.parametrize("layers,method", [(1, "exact Kalman filter"), (2, "particle filter (1000 particles)")])
def test_every_run_on_a_linear_gaussian_process_reports_its_oracle_and_how_it_was_computed(objective, layers, method):
    """The oracle is the process's baseline, whatever the objective; the filter's state is a readout of
    the filter alone."""
    spec = ExperimentSpec.from_settings(process="gauss_ar1", objective=objective, latent_dim=2, seq_len=4,
                                        mixing_layers=layers, observation_noise=0.1, steps=2, batch_size=16,
                                        eval_samples=200, device="cpu")
    result = run_experiment(spec)
    oracle = result.baselines["oracle"]
    assert oracle.method == method and 0 < oracle.per_frame <= oracle.filtered + 0.02 < 1.02
    assert (oracle.effective_sample_size is None) == (layers == 1)
    record = result.to_record()
    assert record["baselines"]["oracle"]["method"] == method and value_of(record, "oracle.filtered") == oracle.filtered
    assert ("state" in result.metrics) == (objective == "kalman-filter") and "code" in result.metrics
    assert ("effective sample size" in format_report(result)) == (layers > 1)


@pytest.mark.slow
def test_under_observation_noise_the_mlp_filter_trained_on_codes_the_noise_instead_of_z():
    """A finding (issue 27), kept as what it is: at transition noise 0.8 and observation noise 0.1 the MLP
    filter's objective keeps falling past 400 steps while its code turns into a function of the observation
    noise. Measured (seed 0): loss 2.98 -> 0.16 from 400 to 1600 steps; affine R^2 of z 0.40 -> 0.00; the
    code of the clean frame explains 0.31 -> 0.00 of the code of the same frame under noise (0.97 at
    transition noise 0.2). A predictable z is one Gaussian-Markov code among many; codes of i.i.d. noise
    (A = 0) are another, and the objective prefers them as training goes on. The kalman figure's caption
    names it."""
    from identifiability.experiment import build, initialize
    from identifiability.metrics import affine_r2
    from identifiability.training import train

    def trained(steps):
        spec = ExperimentSpec.from_settings(process="gauss_ar1", encoder="mlp", objective="kalman-filter", seq_len=8,
                                            batch_size=256, steps=steps, observation_noise=0.1, uncertainty=0.8,
                                            latent_dim=2, mixing_layers=2, observed_dim=8, device="cpu", seed=0)
        parts = build(spec)
        initialize(parts, spec)
        log = train(parts.encoder, parts.objective, parts.data, spec.training, seed=spec.seed, device=torch.device("cpu"))
        noisy = parts.data.sample(8000, 123)
        parts.data.observation_noise = 0.0  # the same draws without the noise: the same z, the clean frames
        clean = parts.data.sample(8000, 123)
        assert torch.equal(noisy.z, clean.z)
        with torch.no_grad():
            code, clean_code = parts.encoder(noisy.x[:, 0]), parts.encoder(clean.x[:, 0])
        return log.final_loss, float(affine_r2(code, noisy.z[:, 0])), float(affine_r2(clean_code, code))

    short, long = trained(400), trained(1600)
    assert long[0] < short[0] - 1.0  # the loss keeps falling ...
    assert short[1] > 0.25 and long[1] < 0.1  # ... while the code loses z ...
    assert short[2] > 0.2 and long[2] < 0.1  # ... and stops being a function of the clean frame
