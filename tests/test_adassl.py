"""Issue 7: AdaSSL, its oracle and the h-InfoNCE baseline, the ER bound; every method of the issue
(SimVAE too) trains on every process family."""

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from identifiability import ExperimentSpec, build, run_experiment
from identifiability import preset
from identifiability.objectives import AdaSSL, KNN, gaussian_kl, straight_through_bernoulli
from identifiability.training import train


@given(st.integers(1, 6), st.integers(0, 1000))
def test_gaussian_kl_matches_torch_distributions(d, seed):
    g = torch.Generator().manual_seed(seed)
    mu_q, ls_q, mu_p, ls_p = (torch.randn(5, d, generator=g, dtype=torch.float64) for _ in range(4))
    q = torch.distributions.Normal(mu_q, ls_q.exp())
    p = torch.distributions.Normal(mu_p, ls_p.exp())
    torch.testing.assert_close(gaussian_kl(mu_q, ls_q, mu_p, ls_p), torch.distributions.kl_divergence(q, p).sum(-1))


def test_straight_through_mask_is_binary_forward_and_passes_gradients():
    logits = torch.randn(200, 6, generator=torch.Generator().manual_seed(0), requires_grad=True)
    mask = straight_through_bernoulli(logits, torch.rand(200, 6, generator=torch.Generator().manual_seed(1)))
    assert set(mask.detach().unique().tolist()) <= {0.0, 1.0}
    with pytest.raises(ValueError, match="the logits' shape"):
        straight_through_bernoulli(logits, torch.rand(6))  # one row of draws would broadcast over all 200
    (mask * torch.arange(6.0)).sum().backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0
    # A gate opens when logit + logistic noise > 0: probability sigmoid(logit) exactly, at any
    # temperature; 0.02 is about 6 standard errors at n = 20000.
    wide = torch.full((20000,), 1.0)
    assert straight_through_bernoulli(wide, torch.rand(20000, generator=torch.Generator().manual_seed(2))).mean() == pytest.approx(torch.sigmoid(torch.tensor(1.0)).item(), abs=0.02)


def test_editors_start_as_z_plus_r():
    z, r = torch.randn(8, 4), torch.randn(8, 4)
    for variant, editor in [("v", "additive"), ("v", "mlp"), ("s", "additive")]:
        model = AdaSSL(4, preset("infonce", 4), variant, editor=editor)
        torch.testing.assert_close(model.edit(z, r), z + r)
    plain = AdaSSL(4, preset("infonce", 4), "s", rank=0)  # no correction: the gated edit is z + r whatever U and V learn
    assert plain.u.shape == plain.v.shape == (4, 0)
    torch.testing.assert_close(plain.edit(z, r), z + r)


def test_kl_weight_warms_up_linearly():
    model = AdaSSL(3, preset("infonce", 3), "v", beta=2.0, warmup=10)
    z = torch.randn(16, 2, 3, generator=torch.Generator().manual_seed(0))
    a, b = z[:, 0], z[:, 1]
    model.step.fill_(4)  # the 5th training call weighs the KL by beta * 5 / 10
    model._gen.manual_seed(3)
    loss = model(z)
    assert int(model.step) == 5
    model._gen.manual_seed(3)
    r, kl = model.infer(a, b)
    expected = model.base(torch.stack([model.edit(a, r), b], 1)) + 2.0 * 5 / 10 * kl.mean()
    torch.testing.assert_close(loss, expected)
    model.step.fill_(100)
    model._gen.manual_seed(3)
    assert float(model(z)) == pytest.approx(float(model.base(torch.stack([model.edit(a, r), b], 1)) + 2.0 * kl.mean()), rel=1e-6)


@pytest.mark.parametrize("variant", ["v", "s"])
def test_the_loss_at_drawn_noise_is_the_loss_that_draws_it(variant):
    """What a batched step hands each seed (``draw_noise`` from the seed's stream) is what its loss alone
    draws: the same numbers, so the same loss; other noise gives another loss."""
    model = AdaSSL(3, preset("infonce", 3), variant)
    z = torch.randn(16, 3, 3, generator=torch.Generator().manual_seed(0))
    model._gen.manual_seed(5)
    alone = model(z)
    model._gen.manual_seed(5)
    noise = model.draw_noise((16, 3), "cpu", torch.float32)
    assert noise.shape == (16 * 2, 3) and ((noise > 0) & (noise < 1)).all() == (variant == "s")
    model.step.zero_()
    torch.testing.assert_close(model(z, noise=noise), alone, rtol=0, atol=0)
    other = noise.flip(0)
    model.step.zero_()
    assert model(z, noise=other) != alone
    with pytest.raises(ValueError, match="the pairs' shape"):
        model(z, noise=noise[0])  # one pair's noise would broadcast over all: refused


def test_h_infonce_with_a_constant_concentration_is_infonce():
    z = torch.nn.functional.normalize(torch.randn(32, 2, 4, generator=torch.Generator().manual_seed(0)), dim=-1)
    torch.testing.assert_close(preset("h-infonce", 4)(z), preset("infonce", 4)(z), atol=1e-5, rtol=0)


def test_er_is_entropy_plus_reconstruction():
    objective = preset("er", 3)
    z = torch.randn(64, 2, 3, generator=torch.Generator().manual_seed(1))
    expected = -(KNN()(z[:, 1]) + objective.latent_model.log_prob(z[:, 0], z[:, 1]).mean())
    torch.testing.assert_close(objective(z), expected)


@pytest.mark.parametrize("objective", ["adassl-v", "adassl-s", "adassl-v-byol", "adassl-s-byol", "h-infonce", "er", "simvae"])
@pytest.mark.parametrize("process", ["box", "ica", "jump", "video"])
def test_each_objective_trains_on_every_family(objective, process):
    config = ExperimentSpec.from_settings(process=process, objective=objective, latent_dim=4, steps=3, batch_size=32, eval_samples=200, device="cpu")
    result = run_experiment(config)
    assert math.isfinite(float(result.training.losses[-1])) and math.isfinite(result.code["affine_r2"].score)
    assert not torch.equal(result.training.losses[0], result.training.losses[-1]), "the loss never moved"


@pytest.mark.parametrize("process", ["jump", "sparse_resample", "action"])
def test_oracle_trains_on_every_process_with_latent_actions(process):
    config = ExperimentSpec.from_settings(process=process, objective="adassl-oracle", latent_dim=4, steps=3, batch_size=32, eval_samples=200, device="cpu")
    assert math.isfinite(float(run_experiment(config).training.losses[-1]))


def test_the_oracle_identifies_where_adassls_additive_model_holds():
    """Issue 28: on ``action`` (z' = rho Q z + B r + noise: additive_uncertainty) the oracle, handed r,
    reaches the affine class on a nonlinear mixing, and it is the edit that does it: the same base without
    r does not. Measured (seed 7, d = 2, 2 layers): oracle 0.999, base 0.499, raw x 0.854 at 1000 steps; along
    that training (a probe every 100 steps) the oracle is 0.998 at 400 and 0.999 from 500, the base 0.50 from 100
    on, so the test trains 500, where both are at their 1000-step values. The thresholds sit 0.1 and 0.2 from
    those; the oracle must also beat raw x by 0.05. (On ``jump``, which satisfies
    neither of AdaSSL's models, the oracle stays at 0.09-0.46: see ``processes.dynamics``.)"""
    def scored(objective):
        spec = ExperimentSpec.from_settings(process="action", latent_dim=2, mixing_layers=2, uncertainty=1.0,
                                            objective=objective, steps=500, seed=7, eval_samples=4000, device="cpu")
        return run_experiment(spec)

    oracle, base = scored("adassl-oracle"), scored("plane-kde-ldm")
    assert "additive_uncertainty" in build(oracle.spec).data.assumptions
    raw = oracle.raw_x["code"]["affine_r2"].score
    assert oracle.code["affine_r2"].score >= max(0.9, raw + 0.05)  # the class, and beyond what x already shows
    assert base.code["affine_r2"].score < 0.7


def matched_gates(gates: torch.Tensor, changed: torch.Tensor) -> tuple[float, float]:
    """Precision and recall of gates (m, d) against the indicator of the latents that changed (m, d),
    each gate matched to one latent by the assignment that maximises their co-occurrence (a gate acts
    in code space, whose axes are the latents' only up to a permutation)."""
    together = gates.double().T @ changed.double()  # (gate, latent) counts of both at once
    gate, latent = linear_sum_assignment(together.numpy(), maximize=True)
    hits = float(together[gate, latent].sum())
    return hits / max(float(gates.sum()), 1.0), hits / float(changed.sum())


def test_matched_gates_is_exact_on_a_permuted_indicator_and_at_chance_on_a_fixed_gate():
    changed = torch.nn.functional.one_hot(torch.randint(3, (3000,), generator=torch.Generator().manual_seed(0)), 3).bool()
    assert matched_gates(changed[:, [2, 0, 1]], changed) == (1.0, 1.0)
    always = torch.zeros_like(changed)
    always[:, 1] = True  # one gate always open: right only where its latent changed, a third of the pairs
    precision, recall = matched_gates(always, changed)
    assert precision == recall == pytest.approx(1 / 3, abs=0.03)  # the share of 3000 uniform draws: sd 0.009, 0.03 is 3.5 sd


# AdaSSL-S's gate is its claim to say which latents a pair changed. Measured on single_resample (exactly one
# latent of d = 3 redrawn per pair, MLP encoder, 2-layer mixing, 1500 steps; gates matched to latents as
# above): at the default l0 0.05 the gate opens on 2.1 and 3.0 of the 3 code dimensions per pair, whichever
# latent changed (seeds 0, 1: precision 0.34 and 0.33, the share of changed latents among open gates by
# chance; recall 0.71 and 1.00); at l0 0.2 (3000 steps) and 0.5 (seeds 0, 1, and on a linear mixing) one
# gate is open for every pair (precision = recall 0.32-0.35, chance 1/3); at l0 2.0 none opens. Without the
# edit's rank-2 correction (rank 0: z + m * r) it is the same: 3.0 gates per pair at l0 0.05 and one fixed gate
# at 0.2 (precision 0.33 and 0.32), so the correction is not what keeps the gates from the change. Along
# the default's training (held-out gates every 250 steps, seeds 0-2) precision is 0.333-0.342 at every look
# from step 500 to 1500, flat, so the test trains 500 steps.
GATE_LEVEL = 0.8  # what a gate that tracks the change would reach; chance is 1/3


@pytest.mark.xfail(strict=True, raises=AssertionError, reason="AdaSSL-S's gates open whichever latent changed: precision 0.33-0.34 at "
                   "the default l0, as by chance (see the comment above)")
def test_adassl_s_gate_opens_on_the_latent_a_pair_changed():
    spec = ExperimentSpec.from_settings(process="single_resample", uncertainty=1.0, latent_dim=3, mixing_layers=2,
                                        objective="adassl-s", steps=500, seed=0, device="cpu", whiten=False)
    parts = build(spec)
    train(parts.encoder, parts.objective, parts.data, spec.training, seed=0)
    held_out = parts.data.sample(4000, 12345)
    with torch.no_grad():
        codes = parts.encoder(held_out.x.flatten(0, 1)).unflatten(0, (4000, 2))
        gates = parts.objective.gates(codes[:, 0], codes[:, 1])
    precision, recall = matched_gates(gates, held_out.r[:, 0])
    assert precision >= GATE_LEVEL and recall >= GATE_LEVEL, f"precision {precision:.3f}, recall {recall:.3f}"


def test_gates_are_the_sparse_variants_only():
    with pytest.raises(ValueError, match="sparse variant"):
        AdaSSL(3, preset("infonce", 3), "v").gates(torch.zeros(2, 3), torch.zeros(2, 3))


def test_oracle_without_actions_is_a_clear_error():
    with pytest.raises(ValueError, match="latent action"):
        preset("adassl-oracle", 3, action_dim=1)(torch.randn(8, 2, 3))
    with pytest.raises(ValueError, match="latent action"):
        build(ExperimentSpec.from_settings(process="gauss_ar1", objective="adassl-oracle"))
