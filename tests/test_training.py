import json
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from identifiability.processes import ContrastivePairs
from identifiability import ExperimentSpec, run_experiment
from identifiability.registry import ENCODERS, PROCESSES
from identifiability.encoders import MLPEncoder
from identifiability.metrics import dci
from identifiability import preset
from identifiability.records import value_of
from identifiability.training import Probe, Training, TrainingLog, rate_factor, resolve_device, train


def test_short_run_beats_chance_and_the_raw_observations():
    result = run_experiment(ExperimentSpec.from_settings(steps=400, batch_size=256, eval_samples=2000, device="cpu"))
    assert result.code["affine_r2"].score > result.code["affine_r2"].null.upper + 0.5
    assert result.code["affine_r2"].score > result.raw_x["code"]["affine_r2"].score + 0.02  # learning, not just reading x off the mixing
    assert result.code["mcc"].score > result.code["mcc"].null.upper + 0.3


def test_training_is_deterministic_under_a_seed():
    def once():
        torch.manual_seed(0)
        encoder = MLPEncoder(4, 4, (32,), normalize=True, whiten=False)
        log = train(encoder, preset("infonce", 4, temperature=0.2), ContrastivePairs(latent_dim=4), Training(steps=15, batch_size=64), seed=7)
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


class Offset(torch.nn.Module):
    """An encoder whose code is one learned vector p, whatever the input."""

    def __init__(self, d: int):
        super().__init__()
        self.p = torch.nn.Parameter(torch.zeros(d, dtype=torch.float64))

    def forward(self, x):
        return x.to(torch.float64) * 0 + self.p


class Mean(torch.nn.Module):
    """The code's mean, times ``scale``: a constant gradient."""

    def __init__(self, scale: float = 1.0):
        super().__init__()
        self.scale = scale

    def forward(self, z):
        return z.mean() * self.scale


@pytest.mark.parametrize("schedule, warmup", [("constant", 0), ("constant", 7), ("cosine", 0), ("cosine", 12)])
def test_every_step_moves_by_the_scheduled_learning_rate(schedule, warmup):
    """With a constant gradient Adam's step is the learning rate itself (m / sqrt(v) = 1 after the
    bias correction), so p after k steps is minus the sum of the first k scheduled rates: the rate
    each step used, read off the parameter, at every step a probe looks."""
    steps, lr, seen = 40, 0.01, {}
    encoder = Offset(4)
    probe = Probe(every=5, look=lambda module, done, seconds: seen.__setitem__(done, module.p.detach().clone()))
    train(encoder, Mean(4), ContrastivePairs(latent_dim=4), Training(steps=steps, batch_size=2, lr=lr, lr_schedule=schedule, lr_warmup=warmup, dtype="float64"),
          probe=probe)
    rates = torch.tensor([lr * rate_factor(s, steps, schedule, warmup) for s in range(steps)], dtype=torch.float64)
    assert sorted(seen) == list(range(5, steps + 1, 5))
    for done, p in seen.items():
        # Adam's eps (1e-8 against a gradient of 1) shortens each step by 1e-8 relative; float64 sums add ~1e-15
        torch.testing.assert_close(p, -rates[:done].sum().expand(4), rtol=1e-6, atol=0)


@settings(max_examples=200, deadline=None)
@given(steps=st.integers(2, 10**6), data=st.data())
def test_the_schedules_factor_warms_up_linearly_then_decays_from_one(steps, data):
    warmup = data.draw(st.integers(0, steps - 1))
    step = data.draw(st.integers(0, steps - 1))
    assert rate_factor(step, steps, "constant", warmup) == (min(1.0, (step + 1) / warmup) if warmup else 1.0)
    cosine = rate_factor(step, steps, "cosine", warmup)
    assert 0 < cosine <= 1 and rate_factor(warmup, steps, "cosine", warmup) == 1.0
    if step >= warmup and step + 1 < steps:
        assert rate_factor(step + 1, steps, "cosine", warmup) <= cosine  # decays, never rises again
    assert rate_factor(steps - 1, steps, "cosine", 0) == pytest.approx(0.5 * (1 + math.cos(math.pi * (steps - 1) / steps)))


@pytest.mark.parametrize("bad, message", [({"lr_schedule": "cos"}, "schedule"), ({"lr_warmup": 40}, "warmup"), ({"lr_warmup": -1}, "warmup")])
def test_a_schedule_that_does_not_exist_or_does_not_fit_is_refused(bad, message):
    with pytest.raises(ValueError, match=message):
        Training(steps=40, batch_size=2, **bad)
    with pytest.raises(ValueError, match=message):
        ExperimentSpec.from_settings(steps=40, **bad)


def test_a_float64_run_trains_draws_and_scores_in_float64():
    """Weights drawn in float64 (not float32 draws cast up: those round differently on CPUs without
    AVX2), batches, losses and held-out codes in float64; a float32 run keeps float32 throughout."""
    for dtype, torch_dtype in (("float64", torch.float64), ("float32", torch.float32)):
        spec = ExperimentSpec.from_settings(steps=3, batch_size=16, eval_samples=200, latent_dim=3, device="cpu", dtype=dtype)
        result = run_experiment(spec, keep_codes=True)
        assert result.held_out["code"].z_hat.dtype == torch_dtype and result.training.losses.dtype == torch_dtype
        assert result.to_record()["spec"]["training"]["dtype"] == dtype
    assert ExperimentSpec.from_settings(dtype="float64").key != ExperimentSpec.from_settings().key


def test_float64_weights_are_drawn_in_float64():
    from identifiability.experiment import build

    parts64 = build(ExperimentSpec.from_settings(dtype="float64"))
    parts32 = build(ExperimentSpec.from_settings())
    w64, w32 = parts64.encoder.state_dict(), parts32.encoder.state_dict()
    assert all(v.dtype == torch.float64 for v in w64.values() if v.is_floating_point())
    weight = next(k for k in w64 if k.endswith("weight"))
    # a float64 draw has bits below float32's: it is not a float32 draw cast up
    assert not torch.equal(w64[weight], w64[weight].float().double())
    assert not torch.equal(w64[weight].float(), w32[weight])


@pytest.mark.parametrize("bad", ["float16", "double", 64, None])
def test_a_dtype_that_is_not_float32_or_float64_is_refused(bad):
    with pytest.raises(ValueError, match="dtype must be one of float32, float64"):
        ExperimentSpec.from_settings(dtype=bad)


def test_a_probes_time_is_not_training_time(monkeypatch):
    """On a clock that only a probe moves (100 s a look), the training's seconds are 0 and each look
    is told the training seconds so far, 0: its own time is never counted."""
    from identifiability.training import loop

    now = [0.0]
    monkeypatch.setattr(loop.time, "perf_counter", lambda: now[0])
    told = []

    def slow(encoder, done, seconds):
        told.append(seconds)
        now[0] += 100.0

    log = train(Offset(2), Mean(), ContrastivePairs(latent_dim=2), Training(steps=10, batch_size=2),
                probe=Probe(every=2, look=slow))
    assert told == [0.0] * 5 and log.seconds == 0.0


def test_the_loss_record_stays_bounded_for_any_step_count():
    steps = 4001
    log = train(MLPEncoder(4, 4, (8,), whiten=False), StepCounter(), ContrastivePairs(latent_dim=4), Training(steps=steps, batch_size=4))
    assert len(log.losses) <= 2000 and log.loss_steps.tolist() == list(range(0, steps, 3))
    assert log.losses.tolist() == [float(k) for k in log.loss_steps.tolist()]  # each entry is its step's loss
    assert log.final_loss == sum(range(steps - 100, steps)) / 100  # the mean of the last 100 steps


def test_record_holds_config_metrics_timings_and_versions():
    record = run_experiment(ExperimentSpec.from_settings(steps=5, batch_size=32, eval_samples=200, device="cpu")).to_record()
    assert record["spec"]["training"]["steps"] == 5 and record["seed"] == 0 and record["problem_seed"] == 0
    assert record["settings"]["objective"]["temperature"] == pytest.approx(0.1)  # the matched 1 / kappa
    assert {"affine_r2", "mcc", "participation_ratio", "profile"} <= record["metrics"]["code"].keys()
    assert record["metrics"]["code"]["mcc"]["null"]["mean"] > 0
    assert {"affine_r2", "mcc", "profile"} <= record["baselines"]["raw_x"]["code"].keys()
    assert {"train_s", "eval_s", "late_descent"} <= record["timings"].keys() and len(record["loss_curve"]) == 5  # 5 steps
    assert {"torch", "numpy", "python", "identifiability"} <= record["versions"].keys()


@settings(max_examples=30, deadline=None)
@given(st.integers(25, 5000), st.floats(-1e3, 1e3), st.floats(1e-3, 1e3))
def test_the_loss_curve_and_late_descent_have_their_closed_forms(steps, offset, slope):
    """On a loss falling linearly over the run, the means over fifths are equally spaced, so the last
    fifth descends a quarter of their range; on a loss that stops falling before the last two fifths
    it is 0; on a flat loss it is NaN; a loss that first rises (a warm-up) is measured on its range."""
    k = torch.arange(steps, dtype=torch.float64)
    linear = TrainingLog(offset - slope * k / steps, k, 0.0, 0.0, "cpu")
    assert linear.late_descent == pytest.approx(0.25, abs=1e-9 + 2 / steps)  # the fifths' lengths differ by one step
    curve = linear.curve()
    assert len(curve) == min(20, steps) and curve == sorted(curve, reverse=True)
    plateau = TrainingLog(offset - slope * torch.clamp(k, max=steps // 2), k, 0.0, 0.0, "cpu")
    assert plateau.late_descent == pytest.approx(0, abs=1e-12)  # equal losses, means of different lengths
    assert math.isnan(TrainingLog(torch.full((steps,), offset), k, 0.0, 0.0, "cpu").late_descent)
    rises_then_falls = TrainingLog(offset - slope * (k - steps / 5).abs() / steps, k, 0.0, 0.0, "cpu")
    assert rises_then_falls.late_descent == pytest.approx(1 / 3, abs=1e-9 + 4 / steps)  # fifths' means 0.1 .. 0.7: 0.2 of 0.6


@pytest.mark.parametrize("process", PROCESSES.names())
def test_every_process_trains_and_scores_by_name(process):
    config = ExperimentSpec.from_settings(process=process, latent_dim=4, steps=3, batch_size=16, eval_samples=200, device="cpu")
    result = run_experiment(config)
    assert -1 < result.code["affine_r2"].score <= 1 and 0 <= result.code["mcc"].score <= 1
    assert result.to_record()["spec"]["process"]["name"] == process


@pytest.mark.parametrize("encoder", ENCODERS.names())
def test_every_encoder_trains_by_name(encoder):
    process = "video" if encoder == "conv" else "box"
    config = ExperimentSpec.from_settings(process=process, encoder=encoder, latent_dim=4, steps=3, batch_size=16, eval_samples=200, device="cpu")
    result = run_experiment(config)
    assert result.estimator.startswith(f"{encoder} ({ {'mlp': 'MLP', 'linear': 'Linear', 'conv': 'Conv', 'flow': 'Injective'}[encoder]}")


@pytest.mark.parametrize("bad", ["tpu", "gpu0"])
def test_unknown_devices_are_rejected(bad):
    with pytest.raises(ValueError, match="device"):
        resolve_device(bad)


@pytest.mark.slow
def test_default_run_reaches_affine_identifiability():
    result = run_experiment(ExperimentSpec(device="cpu"))
    assert result.code["affine_r2"].score >= 0.95


def test_the_record_keeps_every_score_whole_dci_with_its_null():
    """Every readout's scores round-trip through the record's JSON as their results' ``to_dict`` (nulls,
    warnings, DCI's informativeness included); DCI is the metric of the held-out codes, recomputed."""
    spec = ExperimentSpec.from_settings(steps=30, batch_size=32, eval_samples=400, dci=True, device="cpu")
    result = run_experiment(spec, keep_codes=True)
    record = json.loads(json.dumps(result.to_record()))
    for readout, scores in result.metrics.items():
        for name, value in scores.items():
            expected = value.to_dict() if hasattr(value, "to_dict") else value
            assert json.dumps(record["metrics"][readout][name], sort_keys=True) == json.dumps(expected, sort_keys=True)
    kept = record["metrics"]["code"]["dci"]
    assert kept["null"] is not None and kept["informativeness_null"] is not None and kept["informative"] is not None
    code = result.held_out["code"]
    again = dci(code.z_hat, code.z)
    assert kept["disentanglement"] == pytest.approx(again.disentanglement) and kept["informativeness"] == pytest.approx(again.informativeness)
    assert value_of(record, "dci") == pytest.approx(again.score, nan_ok=True)
    assert value_of(record, "dci.null") == kept["null"]["upper"]
    assert value_of(record, "affine_r2.null") == record["metrics"]["code"]["affine_r2"]["null"]["upper"]
