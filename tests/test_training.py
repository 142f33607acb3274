import pytest
import torch

from generators import ContrastivePairs
from identifiability import ExperimentSpec, run_experiment
from identifiability.registry import ENCODERS, GENERATORS
from identifiability.encoders import MLPEncoder
from identifiability.objectives import preset
from identifiability.training import resolve_device, train


def test_short_run_beats_chance_and_the_raw_observations():
    result = run_experiment(ExperimentSpec.from_settings(steps=400, batch_size=256, eval_samples=2000, device="cpu"))
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


class StepCounter(torch.nn.Module):
    """A loss equal to the number of calls so far (plus 0 times the code, for a gradient)."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, z):
        self.calls += 1
        return (z * 0).sum() + (self.calls - 1)


def test_the_loss_record_stays_bounded_for_any_step_count():
    steps = 4001
    log = train(MLPEncoder(4, 4, (8,)), StepCounter(), ContrastivePairs(latent_dim=4), steps=steps, batch_size=4)
    assert len(log.losses) <= 2000 and log.loss_steps.tolist() == list(range(0, steps, 3))
    assert log.losses.tolist() == [float(k) for k in log.loss_steps.tolist()]  # each entry is its step's loss
    assert log.final_loss == sum(range(steps - 100, steps)) / 100  # the mean of the last 100 steps


def test_record_holds_config_metrics_timings_and_versions():
    record = run_experiment(ExperimentSpec.from_settings(steps=5, batch_size=32, eval_samples=200, device="cpu")).to_record()
    assert record["spec"]["training"]["steps"] == 5 and record["seed"] == 0 and record["problem_seed"] == 0
    assert record["settings"]["objective"]["temperature"] == pytest.approx(0.1)  # the matched 1 / kappa
    assert {"affine_r2", "mcc"} <= record["metrics"].keys()
    assert record["metrics"]["mcc"]["null"]["mean"] > 0
    assert {"train_s", "eval_s"} <= record["timings"].keys()
    assert {"torch", "numpy", "python", "identifiability"} <= record["versions"].keys()


@pytest.mark.parametrize("generator", GENERATORS.names())
def test_every_generator_trains_and_scores_by_name(generator):
    config = ExperimentSpec.from_settings(generator=generator, latent_dim=4, steps=3, batch_size=16, eval_samples=200, device="cpu")
    result = run_experiment(config)
    assert -1 < result.r2.score <= 1 and 0 <= result.mcc.score <= 1
    assert result.to_record()["spec"]["generator"]["name"] == generator


@pytest.mark.parametrize("encoder", ENCODERS.names())
def test_every_encoder_trains_by_name(encoder):
    generator = "video" if encoder == "conv" else "box"
    config = ExperimentSpec.from_settings(generator=generator, encoder=encoder, latent_dim=4, steps=3, batch_size=16, eval_samples=200, device="cpu")
    result = run_experiment(config)
    assert result.estimator.startswith(f"{encoder} ({ {'mlp': 'MLP', 'linear': 'Linear', 'conv': 'Conv', 'flow': 'Injective'}[encoder]}")


@pytest.mark.parametrize("bad", ["tpu", "gpu0"])
def test_unknown_devices_are_rejected(bad):
    with pytest.raises(ValueError, match="device"):
        resolve_device(bad)


@pytest.mark.slow
def test_default_run_reaches_affine_identifiability():
    result = run_experiment(ExperimentSpec(device="cpu"))
    assert result.r2.score >= 0.95


def test_run_can_add_dci_to_its_record():
    result = run_experiment(ExperimentSpec.from_settings(steps=3, batch_size=32, eval_samples=400, dci=True, device="cpu"))
    assert 0 <= result.dci_score <= 1
    assert result.to_record()["metrics"]["dci_disentanglement"] == result.dci_score


class BlowsUp(torch.nn.Module):
    """A finite loss for ``after`` steps, then an infinite one (its gradients NaN)."""

    def __init__(self, after):
        super().__init__()
        self.after, self.calls = after, 0

    def forward(self, z):
        self.calls += 1
        return z.square().mean() * (1.0 if self.calls <= self.after else float("inf"))


@pytest.mark.parametrize("after", [0, 5])
def test_a_run_that_leaves_the_finite_numbers_says_so(after):
    from identifiability.training import Diverged

    encoder = MLPEncoder(4, 4, (16,))
    with pytest.raises(Diverged, match="training diverged"):
        train(encoder, BlowsUp(after), ContrastivePairs(latent_dim=4), steps=30, batch_size=32, seed=0)
