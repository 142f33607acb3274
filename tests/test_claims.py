"""Identifiability claims of the literature as tests, each beside the negative control that must fail it.

Why a claim test cannot pass by chance: a verdict holds only where every seed of the budget (each a
new problem and a new training) reaches the threshold, and the threshold lies above the 95th
percentile of the same score for a representation independent of z (the verdict checks it; scores
and nulls of every claim are in the note of issue 12; every threshold is at least 0.25 above its
null). Each control runs the same claim where one assumption is violated (or with a recipe that
drops what the theorem needs), and must not hold. The fast budget (the default) trains one seed on
one generator per claim; ``--claims-budget=full`` and the slow tests draw three generators, five
seeds each, at the full training budget.
"""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from identifiability.claims import ClaimFailed, assert_fails, assert_holds
from identifiability.claims import library as lib
from identifiability.claims.recipes import Trained
from identifiability.metrics import affine_r2, dci, mcc
from identifiability.specs import Part

# --- the library, on the fast budget by default, on the full budget as slow tests --------------------

# claim test -> (claim, generators that satisfy its assumptions)
HOLDS = {
    "fastica-recovers-non-gaussian-sources": (lib.LINEAR_ICA, lib.LINEAR_ICA_PROBLEMS),
    "infonce-inverts-the-mixing-on-the-sphere": (lib.CONTRASTIVE, lib.CONTRASTIVE_PROBLEMS),
    "kalman-ldm-identifies-up-to-affine-maps": (lib.KALMAN, lib.KALMAN_PROBLEMS),
    "kalman-flow-ldm-identifies-up-to-affine-maps": (lib.KALMAN_FLOW, lib.KALMAN_FLOW_PROBLEMS),
    "kalman-filter-ldm-identifies-up-to-affine-maps": (lib.KALMAN_FILTER, lib.KALMAN_FILTER_PROBLEMS),
    "the-kalman-filter-state-beats-any-one-frame-code": (lib.KALMAN_FILTER_DENOISES, lib.KALMAN_FILTER_NOISY),
    "the-flow-kalman-filter-state-beats-any-one-frame-code": (lib.KALMAN_FILTER_FLOW_DENOISES, lib.KALMAN_FILTER_NOISY),
    "tcl-recovers-segment-modulated-sources": (lib.TCL, lib.TCL_PROBLEMS),
    "pcl-recovers-temporally-dependent-sources": (lib.PCL, lib.PCL_PROBLEMS),
}
# negative control -> (claim, generators, the assumptions those generators lack: none where the recipe drops one)
FAILS = {
    "fastica-on-gaussian-sources": (lib.LINEAR_ICA, lib.LINEAR_ICA_CONTROLS, ("non_gaussian",)),
    "infonce-off-the-sphere": (lib.CONTRASTIVE, lib.CONTRASTIVE_CONTROLS, ("sphere_latents", "vmf_conditional")),
    "kalman-ldm-on-iid-latents": (lib.KALMAN, lib.KALMAN_IID, ("temporally_dependent",)),
    "kalman-alignment-without-entropy": (lib.KALMAN_COLLAPSE, lib.KALMAN_PROBLEMS, ()),
    "kalman-filter-on-iid-latents": (lib.KALMAN_FILTER, lib.KALMAN_FILTER_IID, ("temporally_dependent",)),
    "the-per-frame-code-under-observation-noise": (lib.KALMAN_FILTER_PER_FRAME, lib.KALMAN_FILTER_NOISY, ()),
    "the-kalman-filter-state-on-noisy-iid-latents": (lib.KALMAN_FILTER_DENOISES, lib.KALMAN_FILTER_NOISY_IID, ("temporally_dependent",)),
    "tcl-with-one-segment": (lib.TCL, lib.TCL_CONTROLS, ("segment_modulated",)),
    "pcl-on-independent-steps": (lib.PCL, lib.PCL_CONTROLS, ("temporally_dependent",)),
}
# On the full budget only (slow): AdaSSL trains 4x slower than InfoNCE; the jump-invariants claim and its
# control share a training of 50 s on the fast budget, which kept the default run too close to CI's 10 minutes
SLOW_HOLDS = {
    "adassl-keeps-an-affine-image-under-jumps": (lib.ADASSL, lib.ADASSL_PROBLEMS),
    "infonce-keeps-the-jump-invariants": (lib.JUMP_INVARIANTS, lib.JUMP_PROBLEMS),
}
SLOW_FAILS = {
    "infonce-does-not-recover-the-jump-latents": (lib.JUMP_NOT_AFFINE, lib.JUMP_PROBLEMS, ()),
    "infonce-loses-the-jump-latents": (lib.ADASSL_INFONCE, lib.ADASSL_PROBLEMS, ()),
    "adassl-at-low-uncertainty": (lib.ADASSL, lib.ADASSL_LOW_UNCERTAINTY, ()),
}


def _holds(name, budget, table=HOLDS):
    claim, generators = table[name]
    assert_holds(claim, generators, budget)


def _fails(name, budget, table=FAILS):
    claim, generators, missing = table[name]
    for verdict in assert_fails(claim, generators, budget):
        assert verdict.missing == missing
        assert verdict.null < claim.threshold  # it fails on the numbers, not because chance sits above the bar


@pytest.mark.parametrize("name", HOLDS)
def test_claim_holds(name, claims_budget):
    _holds(name, claims_budget)


@pytest.mark.parametrize("name", FAILS)
def test_negative_control_fails(name, claims_budget):
    _fails(name, claims_budget)


# measured failures at the full budget, kept visible (a library that records where a claim fails is worth more
# than one that hides it); not strict: the full budget draws generators these numbers were not measured on
FULL_BUDGET_FAILURES = {
    "pcl-recovers-temporally-dependent-sources":
        "ica d3 AR 0.7, 2 layers: seeds 0-3 reach 0.99, seed 4 0.606 at 3000 steps (0.769 at lr 1e-3)",
    "adassl-keeps-an-affine-image-under-jumps": "at 2000 steps 0.260 / 0.225 (seeds 0, 1) < 0.3; 3000 steps unmeasured",
}


@pytest.mark.slow
@pytest.mark.parametrize("name", [
    pytest.param(name, marks=pytest.mark.xfail(reason=FULL_BUDGET_FAILURES[name])) if name in FULL_BUDGET_FAILURES
    else name for name in [*HOLDS, *SLOW_HOLDS]
])
def test_claim_holds_on_the_full_budget(name):
    _holds(name, "full", HOLDS | SLOW_HOLDS)


@pytest.mark.slow
@pytest.mark.parametrize("name", [*FAILS, *SLOW_FAILS])
def test_negative_control_fails_on_the_full_budget(name):
    _fails(name, "full", FAILS | SLOW_FAILS)


def test_a_claim_on_a_generator_without_its_assumptions_says_so():
    verdict = lib.LINEAR_ICA.verify(Part.of("ica", latent_dim=2, law="gaussian", mixing_layers=3, autoregression=0.0))
    assert verdict.missing == ("linear_mixing", "non_gaussian") and "lacks linear_mixing, non_gaussian" in str(verdict)
    assert not verdict.holds
    with pytest.raises(ClaimFailed, match="does not apply"):
        assert_holds(lib.LINEAR_ICA, lib.problems("ica", latent_dim=2, law="gaussian", mixing_layers=1), "fast")


def test_claims_refuse_what_they_cannot_measure():
    with pytest.raises(ValueError, match="equivalence must be one of"):
        lib.LINEAR_ICA.but(equivalence="rotation")
    with pytest.raises(ValueError, match="needs the blocks"):
        lib.LINEAR_ICA.but(equivalence="block")
    with pytest.raises(ValueError, match="threshold"):
        lib.LINEAR_ICA.but(threshold=0.0)
    with pytest.raises(ValueError, match="budget must be one of fast, full"):
        lib.LINEAR_ICA.verify("ica", "medium")
    for bad in ((), (-1,)):
        with pytest.raises(ValueError, match="seeds"):
            lib.LINEAR_ICA.verify("ica", seeds=bad)


def test_a_filter_state_is_scored_only_where_the_objective_filters():
    claim = lib.KALMAN.but(recipe=Trained(Part("mlp"), Part("kalman"), fast=1, full=1, batch_size=32, state=True))
    with pytest.raises(ValueError, match="'kalman' has no filter state"):
        claim.verify(Part.of("gauss_ar1", latent_dim=2, mixing_layers=1))


def test_a_verdict_has_one_score_per_seed_asked_for_and_their_interval():
    generator = Part.of("ica", latent_dim=3, law="uniform", mixing_layers=1, autoregression=0.0)
    verdict = lib.LINEAR_ICA.verify(generator, seeds=(3, 4, 5))
    assert verdict.budget.seeds == (3, 4, 5) and len(verdict.scores) == 3 and verdict.holds
    low, high = verdict.interval
    assert low < verdict.mean < high or low == high == verdict.mean
    assert verdict.to_dict()["scores"] == list(verdict.scores)


# --- the metrics' own invariances: claims about the instruments, with their controls ----------------

latents = st.builds(lambda seed, d: np.random.default_rng(seed).laplace(size=(1500, d)), st.integers(0, 2**16), st.integers(2, 5))


def _invertible(rng: np.random.Generator, d: int) -> np.ndarray:
    q1, _ = np.linalg.qr(rng.normal(size=(d, d)))
    q2, _ = np.linalg.qr(rng.normal(size=(d, d)))
    return q1 @ np.diag(rng.uniform(0.3, 3.0, d)) @ q2  # condition number at most 10


@given(latents, st.integers(0, 2**16))
def test_affine_r2_is_invariant_under_invertible_affine_maps_of_the_code(z, seed):
    rng = np.random.default_rng(seed)
    code = np.tanh(z) + 0.1 * rng.normal(size=z.shape)
    moved = code @ _invertible(rng, z.shape[1]) + rng.normal(size=z.shape[1]) * 100
    np.testing.assert_allclose(affine_r2(moved, z).per_latent, affine_r2(code, z).per_latent, atol=1e-8)


@given(latents, st.integers(0, 2**16))
def test_pearson_mcc_is_invariant_under_permutation_and_scaling_but_not_monotone_maps(z, seed):
    rng = np.random.default_rng(seed)
    code = z + 0.3 * rng.normal(size=z.shape)
    scaled = code[:, rng.permutation(z.shape[1])] * rng.choice([-1, 1], z.shape[1]) * rng.uniform(0.01, 100, z.shape[1])
    assert mcc(scaled, z).score == pytest.approx(mcc(code, z).score, abs=1e-12)
    assert mcc(np.sinh(3 * code), z).score < mcc(code, z).score - 0.05  # control: a monotone map is not a scaling


@given(latents, st.integers(0, 2**16))
def test_spearman_mcc_is_invariant_under_elementwise_monotone_maps(z, seed):
    rng = np.random.default_rng(seed)
    code = z + 0.3 * rng.normal(size=z.shape)
    monotone = np.column_stack([np.sinh(3 * code[:, 0]), *(np.exp(code[:, 1:]).T)])[:, rng.permutation(z.shape[1])]
    assert mcc(monotone, z, method="spearman").score == pytest.approx(mcc(code, z, method="spearman").score, abs=1e-12)
    mixed = code @ _invertible(rng, z.shape[1])  # control: a mixing is not an elementwise map
    assert mcc(mixed, z, method="spearman").score < mcc(code, z, method="spearman").score


def test_closed_forms_pin_the_controls():
    """Pearson MCC of z^3 against Gaussian z is corr(z, z^3) = 3 / sqrt(15) = 0.775 and its affine R^2
    is 9 / 15 = 0.6: the population values the controls above fall to."""
    z = np.random.default_rng(0).normal(size=(200_000, 2))
    assert mcc(z**3, z).score == pytest.approx(3 / np.sqrt(15), abs=0.01)
    assert affine_r2(z**3, z).score == pytest.approx(0.6, abs=0.01)


@settings(max_examples=5)
@given(st.integers(0, 2**16))
def test_dci_with_trees_is_invariant_under_permutation_and_monotone_maps_of_the_code(seed):
    rng = np.random.default_rng(seed)
    z = rng.uniform(-1, 1, size=(1500, 3))
    code = z + 0.1 * rng.normal(size=z.shape)
    base = dci(code, z).score
    assert dci(np.exp(2 * code), z).score == pytest.approx(base, abs=1e-12)  # trees see ranks: exact
    # LightGBM breaks ties between equally good splits by column order: 1e-4 measured
    assert dci(code[:, rng.permutation(3)], z).score == pytest.approx(base, abs=1e-3)
