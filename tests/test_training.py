import pytest
import torch

from generators import ContrastivePairs
from identifiability import ExperimentConfig, run_experiment
from identifiability.experiment import ENCODERS, GENERATORS
from identifiability.encoders import MLPEncoder
from identifiability.objectives import preset
from identifiability.training import resolve_device, train


def test_short_run_beats_chance_and_the_raw_observations():
    result = run_experiment(ExperimentConfig(steps=400, batch_size=256, eval_samples=2000, device="cpu"))
    assert result.r2.score > result.r2.null.upper + 0.5
    assert result.r2.score > result.raw_r2.score + 0.02  # learning, not just reading x off the mixing
    assert result.mcc.score > result.mcc.null.upper + 0.3


def test_training_is_deterministic_under_a_seed():
    def once():
        torch.manual_seed(0)
        encoder = MLPEncoder(4, 4, (32,), normalize=True)
        log = train(encoder, preset("infonce", 4, temperature=0.2), ContrastivePairs(latent_dim=4), steps=15, batch_size=64, seed=7)
        return log.losses, encoder(torch.ones(1, 4))

    (l1, o1), (l2, o2) = once(), once()
    assert torch.equal(l1, l2) and torch.equal(o1, o2)
    assert l1.shape == (15,) and torch.isfinite(l1).all()


def test_record_holds_config_metrics_timings_and_versions():
    record = run_experiment(ExperimentConfig(steps=5, batch_size=32, eval_samples=200, device="cpu")).to_record()
    assert record["config"]["steps"] == 5 and record["seed"] == 0
    assert {"affine_r2", "mcc"} <= record["metrics"].keys()
    assert record["metrics"]["mcc"]["null"]["mean"] > 0
    assert {"train_s", "eval_s"} <= record["timings"].keys()
    assert {"torch", "numpy", "python", "identifiability"} <= record["versions"].keys()


@pytest.mark.parametrize("generator", GENERATORS)
def test_every_generator_trains_and_scores_by_name(generator):
    config = ExperimentConfig(generator=generator, latent_dim=4, steps=3, batch_size=16, eval_samples=200, device="cpu")
    result = run_experiment(config)
    assert -1 < result.r2.score <= 1 and 0 <= result.mcc.score <= 1
    assert generator in result.to_record()["config"]["generator"]


@pytest.mark.parametrize("encoder", ENCODERS)
def test_every_encoder_trains_by_name(encoder):
    generator = "video" if encoder == "conv" else "box"
    config = ExperimentConfig(generator=generator, encoder=encoder, latent_dim=4, steps=3, batch_size=16, eval_samples=200, device="cpu")
    result = run_experiment(config)
    assert result.estimator.startswith({"mlp": "MLP", "linear": "Linear", "conv": "Conv", "flow": "Injective"}[encoder])


@pytest.mark.parametrize("bad", ["tpu", "gpu0"])
def test_unknown_devices_are_rejected(bad):
    with pytest.raises(ValueError, match="device"):
        resolve_device(bad)


@pytest.mark.slow
def test_default_run_reaches_affine_identifiability():
    result = run_experiment(ExperimentConfig(device="cpu"))
    assert result.r2.score >= 0.95


def test_run_can_add_dci_to_its_record():
    result = run_experiment(ExperimentConfig(steps=3, batch_size=32, eval_samples=400, device="cpu"), with_dci=True)
    assert 0 <= result.dci_score <= 1
    assert result.to_record()["metrics"]["dci_disentanglement"] == result.dci_score
