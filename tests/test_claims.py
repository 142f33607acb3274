"""Identifiability claims of the LDM family, as runs on ground truth (the long ones are slow)."""

import pytest
import torch

from generators import LatentDynamics
from identifiability import ExperimentSpec, run_experiment
from identifiability.encoders import MLPEncoder
from identifiability.metrics import affine_r2
from identifiability.objectives import LDM, NoEntropy, Plane
from identifiability.training import train


def alignment_only(steps: int):
    torch.manual_seed(0)
    data = LatentDynamics("gauss_ar1", 4, uncertainty=0.5)
    encoder = MLPEncoder(4, 4, (128, 128, 128))
    train(encoder, LDM(Plane(), NoEntropy()), data, steps=steps, batch_size=512, lr=3e-3)
    held_out = data.sample(4000, seed=1)
    with torch.no_grad():
        return encoder(held_out.x[:, 0]), held_out.z[:, 0]


def test_alignment_alone_collapses():
    z_hat, _ = alignment_only(200)
    assert z_hat.std(0).max() < 1e-2  # every embedding dimension has shrunk to a point


@pytest.mark.slow
def test_collapse_control_does_not_identify():
    z_hat, z = alignment_only(2000)
    assert affine_r2(z_hat, z).score < 0.5


@pytest.mark.slow
def test_kalman_predictive_ldm_identifies_gauss_ar1_up_to_affine_maps():
    result = run_experiment(
        ExperimentSpec.from_settings(generator="gauss_ar1", objective="kalman", latent_dim=4, steps=2000, batch_size=512, device="cpu")
    )
    assert result.r2.score >= 0.9  # measured 0.968; the raw observations score 0.73


@pytest.mark.slow
def test_adassl_keeps_what_infonce_loses_under_one_to_many_dynamics():
    # jump at uncertainty 0.9 (2000 steps, seed 0). Measured: InfoNCE (Gaussian form) R^2 0.00,
    # AdaSSL-V 0.42, oracle 0.48; at uncertainty 0.3 AdaSSL-V does not help (0.00), see the note.
    def r2(objective):
        config = ExperimentSpec.from_settings(generator="jump", objective=objective, latent_dim=4, uncertainty=0.9, steps=2000,
                                  eval_samples=4000, device="cpu")
        return run_experiment(config).r2.score

    infonce, adassl, oracle = r2("plane-kde-ldm"), r2("adassl-v"), r2("adassl-oracle")
    assert adassl >= infonce + 0.1
    assert oracle >= adassl
