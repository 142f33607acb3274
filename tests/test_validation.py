"""Issue 11: every public constructor and metric refuses bad values with a ValueError naming the
argument, before it allocates anything."""

import math

import numpy as np
import pytest
import torch

from identifiability.processes import ContrastivePairs, LatentDynamics, MLPMixing, NonlinearICA, VideoSequences
from identifiability import ExperimentSpec, build
from identifiability.metrics import affine_r2, dci, mcc, nonlinear_r2, rotation_baseline, weak_mcc

NAN, INF = math.nan, math.inf
HUGE_INT, HUGE = 10**30, 1e300
POSITIVE = [NAN, INF, -INF, -1.0, 0.0]  # a strictly positive float
UNIT = [NAN, INF, -0.5, 1.5, HUGE]  # a float in [0, 1]
COUNT = [NAN, -1, HUGE_INT, 2.5, "3", True]  # a non-negative or positive integer of sane size
SEED = [NAN, -1, 2**64, 1.5, "0"]

CASES = [  # (constructor, keyword arguments besides the bad one, argument, bad values)
    (ContrastivePairs, {}, "latent_dim", [NAN, -1, 1, HUGE_INT]),
    (ContrastivePairs, {}, "kappa", POSITIVE + [HUGE * 10]),
    (ContrastivePairs, {}, "mixing_layers", COUNT),
    (ContrastivePairs, {"space": "box"}, "scale", POSITIVE),
    (ContrastivePairs, {"space": "box", "conditional": "gennorm"}, "beta", POSITIVE),
    (ContrastivePairs, {}, "observed_dim", [NAN, 1, HUGE_INT]),
    (ContrastivePairs, {}, "seed", SEED),
    (LatentDynamics, {}, "latent_dim", COUNT),
    (LatentDynamics, {}, "uncertainty", UNIT),
    (LatentDynamics, {}, "seq_len", [NAN, 1, -1]),  # a long sequence is refused when drawn
    (LatentDynamics, {}, "rho", [NAN, INF, -0.1, 1.0]),
    (LatentDynamics, {}, "noise", [NAN, INF, -0.1, 1.0]),
    (LatentDynamics, {}, "action_dim", [NAN, 0, -1]),
    (LatentDynamics, {}, "segments", [NAN, 0, -1]),
    (LatentDynamics, {}, "nuisance_dim", [NAN, -1, HUGE_INT]),
    (LatentDynamics, {}, "mixing_layers", COUNT),
    (LatentDynamics, {}, "seed", SEED),
    (NonlinearICA, {}, "latent_dim", COUNT),
    (NonlinearICA, {"law": "gennorm"}, "beta", POSITIVE),
    (NonlinearICA, {}, "segments", [NAN, -1, 1.5]),
    (NonlinearICA, {}, "autoregression", [NAN, INF, -1.0, 1.0, HUGE]),
    (NonlinearICA, {"autoregression": 0.5}, "seq_len", [NAN, 0, -1]),
    (NonlinearICA, {}, "min_of", [NAN, 0, -1]),
    (NonlinearICA, {}, "seed", SEED),
    (VideoSequences, {}, "n_objects", [NAN, 0, -1]),
    (VideoSequences, {}, "size", [NAN, 3, -1]),
    (VideoSequences, {}, "uncertainty", UNIT),
    (VideoSequences, {"path": "circle"}, "radius", POSITIVE + [HUGE]),
    (VideoSequences, {}, "speed", [NAN, INF]),
    (VideoSequences, {}, "jump_rate", UNIT),
    (VideoSequences, {}, "blob_width", POSITIVE),
    (VideoSequences, {}, "margin", [NAN, INF, -1.0, 100.0]),
    (VideoSequences, {}, "pixel_noise", [NAN, INF, -1.0]),
    (VideoSequences, {}, "seq_len", [NAN, 0, -1]),
    (VideoSequences, {}, "seed", SEED),
    (MLPMixing, {"dim": 3}, "n_layers", COUNT),
    (MLPMixing, {"dim": 3}, "slope", [NAN, INF, 0.0, 1.5]),
    (MLPMixing, {"dim": 3}, "seed", SEED),
    (MLPMixing, {}, "dim", [NAN, 0, HUGE_INT]),
]


def built(**settings):
    """An experiment's parts, built from flat settings (values are checked where a part is made)."""
    return build(ExperimentSpec.from_settings(**settings))


CASES += [(built, base, name, values) for base, name, values in [
    ({}, "latent_dim", [NAN, 1, -1, 2.5]),
    ({}, "kappa", POSITIVE + [HUGE]),
    ({"process": "jump"}, "uncertainty", UNIT),
    ({"process": "jump"}, "seq_len", [NAN, 1, -1]),
    ({}, "mixing_layers", [NAN, -1, 1.5]),
    ({}, "temperature", POSITIVE + [HUGE]),
    ({"objective": "byol"}, "ema", [NAN, INF, -0.1, 1.0]),
    ({"objective": "adassl-v"}, "beta", [NAN, INF, -1.0]),
    ({"objective": "adassl-v"}, "warmup", [NAN, 0, -1]),
    ({"encoder": "mlp"}, "hidden", [(NAN,), (0,), (-1, 2)]),
    ({}, "steps", [NAN, 0, -1, HUGE_INT]),
    ({}, "batch_size", [NAN, 1, -1]),
    ({}, "lr", POSITIVE + [HUGE]),
    ({}, "eval_samples", [NAN, 99, -1]),
    ({}, "seed", SEED),
    ({}, "problem_seed", SEED),
    ({}, "device", ["tpu", "cuda:x", 3]),
]]


@pytest.mark.parametrize("make,base,name,bad", [(m, b, n, v) for m, b, n, values in CASES for v in values])
def test_constructors_refuse_bad_values_naming_the_argument(make, base, name, bad):
    with pytest.raises(ValueError) as error:
        make(**base, **{name: bad})
    assert name in str(error.value), str(error.value)


def test_a_draw_too_large_for_memory_is_refused():
    with pytest.raises(ValueError, match="needs about"):
        LatentDynamics("jump", 2, seq_len=10**12).sample(4, 0)


def test_only_a_plan_that_might_not_fit_asks_the_device(monkeypatch):
    from identifiability._core import memory

    asked = []
    monkeypatch.setattr(memory, "available_memory", lambda device: asked.append(device) or 2**20)
    memory.check_fits({"n=1": memory.ALWAYS_FITS})  # a training batch's draw: no file read, no driver call
    assert asked == []
    with pytest.raises(ValueError, match="n 9 needs about 67.1 MB of memory, more than the 1.05 MB free on cpu"):
        memory.check_fits({"n=9": memory.ALWAYS_FITS + 1})
    assert asked == ["cpu"]


def draws(data):
    return [(data, "n", bad, {"seed": 0}) for bad in [NAN, 0, -1, 2.5, HUGE_INT]] + [(data, "seed", bad, {"n": 4}) for bad in [-1, 2**64]]


@pytest.mark.parametrize("data,name,bad,base", [case for data in (
    ContrastivePairs(3), LatentDynamics("jump", 2), NonlinearICA(2), VideoSequences(1, 8, seq_len=2)
) for case in draws(data)])
def test_sampling_refuses_bad_sizes_and_seeds_before_allocating(data, name, bad, base):
    with pytest.raises((ValueError, TypeError)) as error:
        data.sample(**base, **{name: bad})
    assert name in str(error.value), str(error.value)


Z = torch.randn(200, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
METRIC_CASES = [
    *[(metric, name, bad) for metric in (affine_r2, mcc, weak_mcc, dci) for name, bad in
      [("test_size", v) for v in (NAN, INF, 0.0, 1.0, -0.5)] + [("seed", v) for v in SEED] + [("bootstrap", v) for v in (NAN, -1, 2.5)]],
    (mcc, "method", "kendall"),
    (dci, "importance", "forest"),
    (nonlinear_r2, "max_train", 5),
    (nonlinear_r2, "max_train", NAN),
]


@pytest.mark.parametrize("metric,name,bad", METRIC_CASES)
def test_metrics_refuse_bad_settings_naming_them(metric, name, bad):
    with pytest.raises(ValueError) as error:
        metric(Z, Z, **{name: bad})
    assert name in str(error.value), str(error.value)


@pytest.mark.parametrize("name,bad", [("draws", 0), ("draws", NAN), ("seed", -1)])
def test_rotation_baseline_refuses_bad_settings(name, bad):
    with pytest.raises(ValueError, match=name):
        rotation_baseline(Z, **{name: bad})


@pytest.mark.parametrize("bad", [np.full((10, 2), np.nan), np.full((10, 2), np.inf), np.ones((10, 2), dtype=bool)])
def test_metrics_refuse_non_finite_or_non_numeric_representations(bad):
    for metric in (affine_r2, mcc):
        with pytest.raises((ValueError, TypeError), match="z_hat"):
            metric(bad, np.random.default_rng(0).normal(size=(10, 2)))
