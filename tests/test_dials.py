"""Issue 18: every dial does what it says, every seed means one thing, every part starts right."""

import json
import math

import mpmath
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch.utils._python_dispatch import TorchDispatchMode

from identifiability._core import SettingError
from identifiability.processes import LatentDynamics
from identifiability import ExperimentSpec, Part, Training, build, run_experiment
from identifiability.encoders.log_volume import decoder_jacobian
from identifiability.experiment import initialize
from identifiability import preset
from identifiability.objectives import LDM, FlowExact, Plane
from identifiability.objectives.latent_models import log_vmf_normalizer
from identifiability.objectives.base import INPUTS, Objective
from identifiability.registry import ENCODERS, PROCESSES, OBJECTIVES
from identifiability.training import train, train_seeds

# --- 1. no inert dial -----------------------------------------------------------------------

OTHER = {  # a value other than the default, for each setting a preset may have
    "temperature": 0.37, "ema": 0.5, "editor": "mlp", "beta": 5.0, "warmup": 3, "l0": 0.7, "rank": 1,
    "view_variance": 0.5, "learn_view_variance": True, "hidden": (16,), "noise_scale": 1.0, "learn_noise": False,
    "form": "laplace", "width": 8, "code_noise": 1.0, "marginal": "none",
}
# The parts an objective needs besides the default problem (jump, mlp): a segmented process, a flow.
NEEDS = {"tcl": {"process": "ica", "law": "gaussian", "segments": 4}, "kalman-flow": {"encoder": "flow"},
         "kalman-filter-flow": {"encoder": "flow"}}


def losses(objective: str, **settings) -> torch.Tensor:
    """Three training steps' losses on the same batches, from the same initial weights, and the
    trained encoder's code of a fixed batch (the stop-gradient family's loss value is 0 by
    construction: only its gradient tells the settings apart)."""
    spec = ExperimentSpec.from_settings(**{"process": "jump", **NEEDS.get(objective, {})}, objective=objective, latent_dim=4,
                                        seed=3, device="cpu", **settings)
    parts = build(spec)
    log = train(parts.encoder, parts.objective, parts.data, Training(steps=3, batch_size=64), seed=1)
    with torch.no_grad():
        return torch.cat([log.losses, parts.encoder(parts.data.sample(8, 0).x).flatten()])


def settings_of(name: str) -> dict:
    return dict(OBJECTIVES[name].settings)


@pytest.mark.parametrize("name,setting", [(n, s) for n in OBJECTIVES for s in settings_of(n)])
def test_every_setting_of_every_preset_changes_its_loss(name, setting):
    if setting == "base":
        other = "simclr"  # the contrastive base (jump is off the sphere: the default is plane-kde-ldm)
    elif setting == "temperature" and "base" in settings_of(name):
        pytest.skip("on jump AdaSSL's base is the plane's, without a temperature (refused: tested below)")
    else:
        other = OTHER[setting]
        if isinstance(other, bool) and other == settings_of(name)[setting]:
            other = not other  # a switch whose default here is the other presets' alternative
    assert not torch.equal(losses(name), losses(name, **{f"objective.{setting}": other})), f"{name}.{setting} does nothing"


@pytest.mark.parametrize("name", OBJECTIVES.names())
def test_a_setting_a_preset_does_not_have_is_refused(name):
    foreign = next(s for s in OTHER if s not in settings_of(name))
    with pytest.raises(SettingError, match=foreign):
        preset(name, 4, **{foreign: OTHER[foreign]})


def test_the_temperature_of_adassl_reaches_its_base():
    z = torch.nn.functional.normalize(torch.randn(64, 2, 4, generator=torch.Generator().manual_seed(0)), dim=-1)
    a, b = preset("adassl-v", 4, temperature=0.1), preset("adassl-v", 4, temperature=1.0)
    assert a.base.latent_model.beta == 10 and b.base.latent_model.beta == 1
    assert float(a(z)) != float(b(z))
    with pytest.raises(SettingError, match="no temperature"):
        preset("adassl-v", 4, base="plane-kde-ldm", temperature=0.2)


def test_the_sphere_matches_its_temperature_to_kappa_and_records_it():
    parts = build(ExperimentSpec.from_settings(process="sphere", objective="infonce", kappa=4.0, device="cpu"))
    assert parts.settings["objective"]["temperature"] == 0.25 and parts.objective.latent_model.beta == 4
    assert parts.settings["process"] == {"latent_dim": 5, "kappa": 4.0, "mixing_layers": 3}
    # AdaSSL's base keeps its measured 0.1 (see the preset table), and its base follows the sphere
    adassl = build(ExperimentSpec.from_settings(process="sphere", objective="adassl-v", kappa=4.0, device="cpu"))
    assert adassl.settings["objective"]["base"] == "infonce" and adassl.objective.base.latent_model.beta == 10


# --- 2. geometry belongs to the objective -------------------------------------------------------


@pytest.mark.parametrize("objective,sphere", [("infonce", True), ("byol", True), ("plane-kde-ldm", False), ("simvae", False)])
def test_the_encoder_normalises_exactly_when_the_objective_reads_directions(objective, sphere):
    spec = ExperimentSpec.from_settings(process="box", objective=objective, steps=2, batch_size=32, eval_samples=200, device="cpu")
    result = run_experiment(spec)
    parts = build(spec)
    norms = parts.encoder(parts.data.sample(100, 0).x).norm(dim=-1)
    assert torch.allclose(norms, torch.ones_like(norms)) == sphere
    assert result.geometry == {"objective": "sphere" if sphere else "plane", "data": "plane", "matched": not sphere}


# --- 3. objectives declare what they need ------------------------------------------------------


def test_the_oracle_on_a_distillation_base_distils_from_the_ema_target():
    oracle = preset("adassl-oracle", 4, action_dim=1, base="byol")
    assert oracle.requires == {"action", "target"} and oracle.ema == 0.99
    seen = {}
    forward = oracle.forward

    def spy(z, action=None, target=None):
        seen["target"] = target
        return forward(z, action=action, target=target)

    oracle.forward = spy
    data = LatentDynamics("jump", 4)
    encoder = torch.nn.Sequential(torch.nn.Linear(4, 4))
    train(encoder, oracle, data, Training(steps=2, batch_size=16))
    assert seen["target"] is not None and seen["target"].shape == (16, 2, 4)


def test_each_objective_requires_only_what_a_trainer_provides():
    for name in OBJECTIVES.names():
        objective = build(ExperimentSpec.from_settings(**{"process": "jump", **NEEDS.get(name, {})}, objective=name, latent_dim=4,
                                                       device="cpu")).objective
        assert objective.requires <= INPUTS.keys()
    assert LDM(Plane(), FlowExact()).requires == {"log_volume"}


class Spy(Objective):
    """Requires ``requires`` and records the keywords and shapes the trainer hands it."""

    ema = 0.5

    def __init__(self, requires: frozenset[str]) -> None:
        super().__init__()
        self.requires, self.handed = requires, []
        self.scale = torch.nn.Parameter(torch.ones(()))

    def forward(self, z, **inputs):
        self.handed.append({k: tuple(v.shape) for k, v in inputs.items()})
        return self.scale * z.mean() + sum(0 * v.float().sum() for v in inputs.values())


PROCESS_OF = {"segment": ("ica", {"segments": 3, "seq_len": 2}), "action": ("jump", {}), "log_volume": ("gauss_ar1", {})}


@pytest.mark.parametrize("requires", [frozenset(), *(frozenset({k}) for k in INPUTS), frozenset(INPUTS) - {"segment", "action"}])
def test_the_trainer_hands_an_objective_exactly_the_inputs_it_requires_with_their_shapes(requires):
    process, settings = next((PROCESS_OF[k] for k in ("segment", "action") if k in requires), ("gauss_ar1", {}))
    encoder = "flow" if "log_volume" in requires else "mlp"
    parts = build(ExperimentSpec.from_settings(process=process, encoder=encoder, objective="plane-kde-ldm", latent_dim=2,
                                               device="cpu", **settings))
    spy = Spy(requires)
    initialize(parts, ExperimentSpec.from_settings(process=process, encoder=encoder, latent_dim=2, device="cpu", **settings))
    train(parts.encoder, spy, parts.data, Training(steps=2, batch_size=8))
    n, steps = 8, parts.data.seq_len
    shapes = {"log_volume": (n, steps), "observations": (n, steps, *parts.data.observed_shape), "target": (n, steps, 2),
              "segment": (n,), "latents": (n, steps, 2)}
    if "action" in requires:
        shapes["action"] = tuple(parts.data.sample(n, 0).r.shape)  # (n, T - 1, ...): jump's mode has no trailing axis
        assert shapes["action"][:2] == (n, steps - 1)
    assert spy.handed == [{k: shapes[k] for k in requires}] * 2


# --- 4. data-dependent starts ---------------------------------------------------------------------


def test_the_flow_encoder_standardises_its_training_batch_before_the_first_step():
    spec = ExperimentSpec.from_settings(process="gauss_ar1", encoder="flow", objective="plane-kde-ldm", latent_dim=4, device="cpu")
    parts = build(spec)
    batch = initialize(parts, spec)
    seen = parts.encoder.whitening(batch.x.reshape(-1, 4))  # the bijection sees the whitened batch
    standardised = parts.encoder.bijection.layers[0]()(seen)
    assert standardised.mean(0).abs().max() < 0.05 and (standardised.std(0) - 1).abs().max() < 0.05


# --- 5. three seeds ---------------------------------------------------------------------------------


def short(**seeds):
    spec = ExperimentSpec.from_settings(steps=30, batch_size=64, eval_samples=400, device="cpu", **seeds)
    return run_experiment(spec)


def test_one_problem_seed_holds_the_problem_while_the_training_seed_varies():
    a, b = short(seed=1, problem_seed=7), short(seed=2, problem_seed=7)
    assert a.problem_fingerprint == b.problem_fingerprint
    assert a.code["affine_r2"].score != b.code["affine_r2"].score
    assert a.to_record()["problem_seed"] == 7 and a.to_record()["seed"] == 1


def test_the_training_seed_holds_the_training_while_the_problem_varies():
    a, b = short(seed=1, problem_seed=7), short(seed=1, problem_seed=8)
    assert a.problem_fingerprint != b.problem_fingerprint and a.code["affine_r2"].score != b.code["affine_r2"].score


@pytest.mark.parametrize("name", ["adassl-v", "adassl-s", "simvae"])
def test_parts_with_their_own_noise_take_it_from_the_training_seed(name):
    def loss(seed):
        parts = build(ExperimentSpec.from_settings(process="jump", objective=name, latent_dim=4, seed=seed, problem_seed=0, device="cpu"))
        batch = parts.data.sample(32, 0)
        with torch.no_grad():
            z = torch.randn(32, 2, 4, generator=torch.Generator().manual_seed(0))
            return float(parts.objective(z, observations=batch.x) if name == "simvae" else parts.objective(z))
    assert loss(0) != loss(1)


def test_the_flow_encoders_noise_and_probes_follow_the_training_seed():
    def flow(seed, **settings):
        return build(ExperimentSpec.from_settings(process="gauss_ar1", encoder="flow", objective="kalman-flow", latent_dim=2,
                                                  observed_dim=6, seed=seed, device="cpu", **settings)).encoder

    def probe(seed):  # the manifold likelihood's estimator
        return int(torch.randint(0, 2**30, (1,), generator=flow(seed, **{"encoder.likelihood": "manifold", "encoder.whiten": False})._probe))

    def inflation(seed):
        return flow(seed).draw_noise((4, 6), "cpu", torch.float64)
    assert probe(0) != probe(1) and not torch.equal(inflation(0), inflation(1)) and torch.equal(inflation(0), inflation(0))


# --- 6. numerics -------------------------------------------------------------------------------------


@pytest.mark.parametrize("d", [2, 3, 5, 10, 50, 99, 100, 101, 298, 299, 384, 1000, 5000, 10_000])
@pytest.mark.parametrize("beta", [1e-3, 0.1, 1.0, 10.0, 300.0, 1e4])
def test_log_vmf_normaliser_is_exact_against_mpmath(d, beta):
    mpmath.mp.dps = 30
    nu = mpmath.mpf(d) / 2 - 1
    exact = nu * mpmath.log(beta) - mpmath.mpf(d) / 2 * mpmath.log(2 * mpmath.pi) - mpmath.log(mpmath.besseli(nu, beta))
    assert abs(log_vmf_normalizer(d, beta) - float(exact)) <= 1e-8 * max(1.0, abs(float(exact)))


@pytest.mark.parametrize("name", ["simclr", "byol", "simsiam", "infonce"])
def test_spherical_presets_work_at_384_dimensions(name):
    z = torch.randn(32, 2, 384, generator=torch.Generator().manual_seed(0))
    objective = preset(name, 384)
    inputs = {"target": z} if "target" in objective.requires else {}
    assert math.isfinite(float(objective(z, **inputs)))


def test_decoder_jacobian_refuses_a_decoder_that_couples_rows():
    weight = torch.randn(2, 3, generator=torch.Generator().manual_seed(0))

    def centred(z):  # each row's output depends on the batch mean
        y = z @ weight
        return y - y.mean(0)

    with pytest.raises(ValueError, match="other rows"):
        decoder_jacobian(centred, torch.randn(6, 2))


def test_decoder_jacobian_does_not_swallow_running_out_of_memory():
    def exhausted(z):
        raise torch.OutOfMemoryError("CUDA out of memory (simulated)")

    with pytest.raises(torch.OutOfMemoryError):
        decoder_jacobian(exhausted, torch.randn(1, 2))


def test_decoder_jacobian_raises_a_real_error_instead_of_falling_back():
    def broken(z):
        raise RuntimeError("a bug in the decoder")

    with pytest.raises(RuntimeError, match="a bug in the decoder"):
        decoder_jacobian(broken, torch.randn(1, 2))


# --- 7. no host synchronisation per step ------------------------------------------------------------


class Syncs(TorchDispatchMode):
    """Counts host reads of device values and records ops whose output shape depends on the data
    (the CPU-visible forms of a host synchronisation)."""

    def __init__(self):
        super().__init__()
        self.reads, self.shapes = 0, []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = str(func)
        if "_local_scalar_dense" in name:
            self.reads += 1
        boolean_index = "aten.index.Tensor" in name and any(
            isinstance(i, torch.Tensor) and i.dtype == torch.bool for i in args[1] if i is not None
        )
        if "nonzero" in name or "masked_select" in name or boolean_index:
            self.shapes.append(name)
        return func(*args, **(kwargs or {}))


def cases():
    for name in OBJECTIVES.names():
        needs = NEEDS.get(name, {})
        yield needs.get("process", "jump" if name in ("adassl-oracle", "simvae") else "sphere"), name, needs.get("encoder", "mlp")
    for name in PROCESSES.names():
        yield name, "plane-kde-ldm", "conv" if name == "video" else "mlp"
    yield "box", "plane-kde-ldm", "flow"


@pytest.mark.parametrize("process,objective,encoder", list(cases()))
def test_no_training_step_waits_for_the_host(process, objective, encoder):
    # The reads do not grow with the step count (the end of training reads the final loss once),
    # and no op has a data-dependent output shape.
    extra = {"seq_len": 3} if "seq_len" in PROCESSES[process].settings else {}  # sequences where the process draws them
    extra |= {k: v for k, v in NEEDS.get(objective, {}).items() if k not in ("process", "encoder")}
    parts = build(ExperimentSpec.from_settings(process=process, objective=objective, encoder=encoder, latent_dim=4,
                                               device="cpu", **extra))
    train(parts.encoder, parts.objective, parts.data, Training(steps=1, batch_size=16))  # state created lazily on the first step
    counts = []
    for steps in (2, 5):
        with Syncs() as syncs:
            train(parts.encoder, parts.objective, parts.data, Training(steps=steps, batch_size=16))
        assert syncs.shapes == [], syncs.shapes
        counts.append(syncs.reads)
    assert counts[0] == counts[1], f"{counts[1] - counts[0]} host reads in 3 more steps"


@pytest.mark.parametrize("process,objective,encoder,extra", [
    ("sphere", "infonce", "mlp", {}), ("sphere", "byol", "mlp", {}), ("action", "adassl-v", "mlp", {}),
    ("gauss_ar1", "kalman-flow", "flow", {"observed_dim": 8}), ("gauss_ar1", "kalman-filter-flow", "flow", {"seq_len": 3})])
def test_no_batched_step_waits_for_the_host(process, objective, encoder, extra):
    # seeds trained as one model (sweeps' hot path), with their EMA targets, own noise, log-volumes and inflation noise
    specs = [ExperimentSpec.from_settings(process=process, objective=objective, encoder=encoder, latent_dim=3, seed=seed,
                                          device="cpu", **extra) for seed in (0, 1)]
    members = [(p.encoder, p.objective, p.data, spec.seed) for p, spec in ((build(spec), spec) for spec in specs)]
    train_seeds(members, Training(steps=1, batch_size=16))
    counts = []
    for steps in (2, 5):
        with Syncs() as syncs:
            train_seeds(members, Training(steps=steps, batch_size=16))
        assert syncs.shapes == [], syncs.shapes
        counts.append(syncs.reads)
    assert counts[0] == counts[1], f"{counts[1] - counts[0]} host reads in 3 more steps"


def test_the_exact_log_volume_waits_for_no_host_either():
    parts = build(ExperimentSpec.from_settings(process="box", encoder="flow", objective="plane-kde-ldm", device="cpu"))
    objective = LDM(Plane(), FlowExact())
    train(parts.encoder, objective, parts.data, Training(steps=1, batch_size=16))
    counts = []
    for steps in (2, 4):
        with Syncs() as syncs:
            train(parts.encoder, objective, parts.data, Training(steps=steps, batch_size=16))
        assert syncs.shapes == []
        counts.append(syncs.reads)
    assert counts[0] == counts[1]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_no_training_step_synchronises_on_cuda():
    parts = build(ExperimentSpec.from_settings(device="cuda"))
    train(parts.encoder, parts.objective, parts.data, Training(steps=1, batch_size=64), device="cuda")
    torch.cuda.set_sync_debug_mode("error")
    try:
        train(parts.encoder, parts.objective, parts.data, Training(steps=3, batch_size=64), device="cuda")
    finally:
        torch.cuda.set_sync_debug_mode("default")


# --- 8. configs ------------------------------------------------------------------------------------------

part_settings = st.fixed_dictionaries({}, optional={"latent_dim": st.integers(2, 8), "mixing_layers": st.integers(0, 4)})


@given(
    process=st.sampled_from(["sphere", "box", "jump"]),
    objective=st.sampled_from([None, "infonce", "byol", "adassl-v", "simvae"]),
    hidden=st.lists(st.integers(1, 64), min_size=1, max_size=3),
    training=st.builds(Training, steps=st.integers(1, 10**6), batch_size=st.integers(2, 4096), lr=st.floats(1e-8, 10.0)),
    seed=st.integers(0, 2**63 - 1),
    problem_seed=st.none() | st.integers(0, 2**63 - 1),
    device=st.sampled_from(["auto", "cpu", "cuda", "cuda:1"]),
    settings=part_settings,
)
def test_specs_round_trip_through_json_and_toml_equal_hashable_and_keyed(process, objective, hidden, training, seed, problem_seed, device, settings):
    spec = ExperimentSpec(
        process=Part.of(process, **settings), encoder=Part.of("mlp", hidden=hidden),
        objective=None if objective is None else Part(objective), training=training, seed=seed,
        problem_seed=problem_seed, device=device,
    )  # a CUDA device is accepted here on any machine: it is checked when the run starts
    back = ExperimentSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert back == spec and hash(back) == hash(spec) and back.key == spec.key
    edited = ExperimentSpec.from_toml(spec.to_toml())
    assert edited == spec and edited.key == spec.key


def test_run_help_lists_every_part_one_line_each(capsys):
    from identifiability.cli import main

    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = capsys.readouterr().out
    lines = out.splitlines()
    for registry in (PROCESSES, ENCODERS, OBJECTIVES):
        for name in registry.names():
            assert sum(line.startswith(f"  {name} ") for line in lines) == 1, name
    assert "Build a process, an encoder and an objective by name" in out
