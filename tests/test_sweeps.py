"""Benchmarking at scale (issue 13): spec files, the results store under sweeps, workers lost and
runs killed, checkpoints, batched seeds, a Dask cluster, and parts of one's own joining a grid."""

import importlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from identifiability import ExperimentSpec, run_experiment, run_experiments
from identifiability.cli import main
from identifiability.encoders import InjectiveFlow
from identifiability.experiment import build
from identifiability.registry import ENCODERS, OBJECTIVES
from identifiability.records import Store
from identifiability.sweeps import read_sweep, run_sweep
from identifiability.objectives.base import as_objective
from identifiability.training import Checkpoint, batchable, train_seeds
from identifiability.training import seeds as seeds_module
from identifiability.training.checkpoint import capture, restore, streams

TESTS = Path(__file__).parent
QUICK = {"steps": 20, "batch_size": 64, "eval_samples": 400, "latent_dim": 3, "device": "cpu"}


@pytest.fixture
def user_parts():
    """The user's parts registered in this process for one test only (other tests list the registries)."""
    with ENCODERS.scoped(), OBJECTIVES.scoped():
        import user_parts

        importlib.reload(user_parts)
        yield

def sweep_file(path: Path, grid: str, runs: str = "", plugins: str = "") -> Path:
    base = "\n".join(f"{k} = {json.dumps(v)}" for k, v in QUICK.items())
    path.write_text(f"{plugins}\n[base]\n{base}\n[grid]\n{grid}\n{runs}")
    return path


def cli(*argv: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """The command line in a fresh process, with the tests folder importable (for user_parts)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "identifiability", *argv], capture_output=True, text=True, env=env, timeout=timeout)


def scores(store: Store) -> dict[str, tuple]:
    return {k: (r["metrics"]["code"]["affine_r2"]["score"], r["metrics"]["code"]["mcc"]["score"], r["timings"]["final_loss"])
            for k, r in store.latest().items() if r["status"] == "ok"}


# --- specs -------------------------------------------------------------------------------------


def test_the_key_ignores_only_the_device():
    spec = ExperimentSpec.from_settings(**QUICK)
    same = ExperimentSpec.from_toml(spec.to_toml().replace('device = "cpu"', 'device = "auto"'))
    assert same.key == spec.key and same != spec
    changed = [
        ExperimentSpec.from_settings(**{**QUICK, "steps": 21}),
        ExperimentSpec.from_settings(**{**QUICK, "latent_dim": 4}),
        ExperimentSpec.from_settings(**QUICK, seed=1),
        ExperimentSpec.from_settings(**QUICK, problem_seed=0),  # the same problem, but said: another spec
        ExperimentSpec.from_settings(**QUICK, objective="simclr"),
        ExperimentSpec.from_settings(**QUICK, hidden=[8]),
    ]
    assert len({spec.key, *(c.key for c in changed)}) == 1 + len(changed)


def test_the_key_holds_every_default_so_a_changed_default_is_a_new_run():
    # a store written before a part's default changed must not be read as runs of the new default
    from identifiability.encoders import MLPEncoder

    def build(width):
        def keyed_mlp(context, *, width: int = width):
            return MLPEncoder(context.observed_size, context.latent_dim, (width,), whiten=False)
        return keyed_mlp

    with ENCODERS.scoped():
        ENCODERS("keyed-mlp")(build(8))
        spec = ExperimentSpec.from_settings(**QUICK, encoder="keyed-mlp")
        before = spec.key  # what a store written now records
        assert before == ExperimentSpec.from_settings(**QUICK, encoder="keyed-mlp", width=8).key  # said or not
        ENCODERS("keyed-mlp")(build(16))
        assert ExperimentSpec.from_settings(**QUICK, encoder="keyed-mlp") == spec and spec.key != before
    assert "keyed-mlp" not in ENCODERS


BAD_SPECS = {
    "stepz = 3": "stepz",
    "steps = 'many'": "steps",
    "steps = 0": "steps",
    "eval_samples = 1e9": "eval_samples",
    "process = 'nope'": "process",
    "latnt_dim = 3": "latnt_dim",
    "[training]\nsteps = 3": "training is a table; a spec file is flat",
    "'objective.nope' = 3": "objective.nope",
    "'part.key' = 3": "part.key",
    "process = 'jump'\nobjective = 'simvae'\nhidden = [8]": "hidden is a setting of the encoder 'mlp' and the objective 'simvae'",
    "seed = -1": "seed",
    "device = 'tpu'": "device",
    "plugins = ['no_such_module']": "plugins",
    "[training\nsteps = 3": "TOML",
}


BAD_SWEEPS = {
    "[grid]\nseed = [0, 1]\n[extra]\nx = 1": "extra",
    "[grid]\nseed = [0, 1]\nlatnt_dim = [3]": "latnt_dim",
    "[grid]\nseed = [0, -1]": "in run 1: seed=-1",
    "[grid]\nobjective = ['infonce', 'nope']": "in run 1: objective=nope",
    "[base]\nsteps = 10": "names no run",
    "[grid\n": "TOML",
}
BAD_FILES = [("run", text, named) for text, named in BAD_SPECS.items()] + [("sweep", t, n) for t, n in BAD_SWEEPS.items()]


@pytest.mark.parametrize("command, text, named", BAD_FILES)
def test_a_bad_spec_or_sweep_file_is_one_line_naming_the_field(tmp_path, capsys, command, text, named):
    path, out = tmp_path / "file.toml", tmp_path / "r.jsonl"
    path.write_text(text)
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--config", str(path), "--results", str(out)] if command == "run" else ["sweep", str(path), "--results", str(out)])
    err = capsys.readouterr().err
    where = "--config" if command == "run" else "file.toml"  # the flag, or the sweep file and its run
    assert exit_.value.code == 2 and err.count("\n") == 1 and named in err and where in err, err
    assert not (out.exists() and out.read_text())


def test_a_sweep_file_names_the_grid_then_the_runs_each_beside_the_base():
    specs = read_sweep("[base]\nsteps = 7\n[grid]\nprocess = ['sphere', 'box']\nseed = [0, 1, 2]\n"
                       "[[runs]]\nprocess = 'jump'\nobjective = 'adassl-v'\n")
    assert [(s.process.name, s.seed) for s in specs[:6]] == [(g, k) for g in ("sphere", "box") for k in range(3)]
    assert specs[6].objective.name == "adassl-v" and all(s.training.steps == 7 for s in specs)


# --- sweeps, the store, and parts of one's own -------------------------------------------------


def test_a_user_estimator_registered_outside_the_package_joins_a_sweep(tmp_path):
    grid = sweep_file(tmp_path / "grid.toml", "encoder = ['user-residual', 'mlp']\nobjective = ['user-align-uniform']\nseed = [0, 1]\n",
                      plugins='plugins = ["user_parts"]')
    done = cli("sweep", str(grid), "--results", str(tmp_path / "r.jsonl"), "--workers", "2", "--quiet")
    assert done.returncode == 0, done.stderr
    records = Store(tmp_path / "r.jsonl").records()
    assert len(records) == 4 and {r["status"] for r in records} == {"ok"}
    users = [r for r in records if r["spec"]["encoder"]["name"] == "user-residual"]
    assert len(users) == 2 and all("Residual" in r["estimator"] and r["settings"]["encoder"] == {"width": 32} for r in users)
    assert all(r["spec"]["plugins"] == ["user_parts"] for r in records)
    # the records are real runs: alignment and uniformity on the box beat the null by far in 20 steps
    assert all(r["metrics"]["code"]["affine_r2"]["score"] > r["metrics"]["code"]["affine_r2"]["null"]["upper"] + 0.2 for r in records)


def test_failed_runs_are_recorded_with_their_error_and_retried_only_on_request(tmp_path):
    specs = read_sweep("[base]\nsteps = 5\neval_samples = 200\ndevice = 'cpu'\n[grid]\nencoder = ['mlp', 'conv']\n")
    store = Store(tmp_path / "r.jsonl")
    first = run_sweep(specs, store)
    assert (first.completed, first.failed) == (1, 1)
    (failed,) = store.failed().values()
    assert failed["spec"]["encoder"]["name"] == "conv" and "conv is for video frames" in failed["error"]
    assert "Traceback" in failed["traceback"]
    again = run_sweep(specs, store)
    assert (again.skipped, again.completed, again.failed) == (2, 0, 0)
    retried = run_sweep(specs, store, retry_failed=True)
    assert (retried.skipped, retried.failed) == (1, 1) and len(store.records()) == 3


def test_workers_fork_from_a_server_that_preloads_modules_that_exist():
    # the fork server skips a preload it cannot import without a word: a renamed module would quietly bring back
    # seconds of imports to every worker
    from identifiability.sweeps import PRELOAD, worker_context

    for name in PRELOAD:
        importlib.import_module(name)
    if sys.platform != "win32":
        assert worker_context().get_start_method() == "forkserver"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_sweep_on_cuda_trains_in_workers_forked_from_the_server(tmp_path):
    # a server whose preloads touched CUDA would leave its forks unable to use it ("Cannot re-initialize CUDA")
    specs = read_sweep(sweep_file(tmp_path / "grid.toml", "seed = [0, 1]").read_text().replace('"cpu"', '"cuda"'))
    store = Store(tmp_path / "r.jsonl")
    report = run_sweep(specs, store, workers=1)
    assert report.completed == 2 and {r["status"] for r in store.records()} == {"ok"}, store.failed()


def test_a_worker_killed_mid_sweep_loses_nothing_done_and_the_rerun_completes(tmp_path, user_parts):
    marker = tmp_path / "died"
    text = "[base]\n" + "\n".join(f"{k} = {json.dumps(v)}" for k, v in QUICK.items()) + (
        "\n[[grid]]\nobjective = ['infonce', 'simclr', 'cpc']\n"
        f"[[grid]]\nprocess = ['box']\nobjective = ['user-dies-once']\nmarker = [{json.dumps(str(marker))}]\n"
    )
    specs, store = read_sweep(text), Store(tmp_path / "r.jsonl")
    first = run_sweep(specs, store, workers=1, batch_seeds=False)
    assert marker.exists() and first.lost >= 1 and first.failed == 0 and "BrokenProcessPool" in first.lost_reason
    kept = store.records()  # every line parses, and each is a finished run
    assert first.completed == len(kept) < len(specs) and all(r["status"] == "ok" for r in kept)
    second = run_sweep(specs, store, workers=1, batch_seeds=False)
    assert second.skipped == len(kept) and second.completed == len(specs) - len(kept) and second.lost == 0
    keys = [r["key"] for r in store.records()]
    assert sorted(keys) == sorted(s.key for s in specs)  # every run once: nothing done was run again


def test_a_sweep_killed_from_outside_resumes_where_it_stopped(tmp_path, capsys):
    grid = sweep_file(tmp_path / "grid.toml", "objective = ['infonce', 'simclr', 'cpc', 'plane-kde-ldm']\nseed = [0]\n")
    grid.write_text(grid.read_text().replace("steps = 20", "steps = 400"))
    out = tmp_path / "r.jsonl"
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    proc = subprocess.Popen([sys.executable, "-m", "identifiability", "sweep", str(grid), "--results", str(out), "--quiet"],
                            env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while not (out.exists() and out.read_text().count("\n") >= 1) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its workers, at once
    proc.wait()
    kept = Store(out).records()
    assert 1 <= len(kept) < 4, "the sweep was not killed mid-way; lengthen its runs"
    assert main(["sweep", str(grid), "--results", str(out), "--quiet"]) == 0  # the rerun in this process: the same code
    done = capsys.readouterr()
    assert f"{len(kept)} already in" in done.out, done.out + done.err
    assert sorted(r["key"] for r in Store(out).records()) == sorted(s.key for s in read_sweep(grid.read_text()))


def test_a_dask_local_cluster_gives_the_same_records_as_the_local_pool(tmp_path, user_parts):
    pytest.importorskip("distributed")
    text = sweep_file(tmp_path / "grid.toml", "process = ['sphere', 'box']\nseed = [0, 1]\n").read_text() + (
        "[[runs]]\nencoder = 'user-residual'\nobjective = 'user-align-uniform'\nprocess = 'box'\n"
    )
    specs = read_sweep(text)
    pool, cluster = Store(tmp_path / "pool.jsonl"), Store(tmp_path / "cluster.jsonl")
    assert run_sweep(specs, pool, workers=2).completed == 5
    assert run_sweep(specs, cluster, workers=2, scheduler="local").completed == 5
    assert scores(pool) == scores(cluster) and len(scores(pool)) == 5  # the same numbers, bit for bit


def test_report_prints_a_table_per_cell_beside_the_baselines_and_writes_csv(tmp_path, capsys):
    specs = read_sweep("[base]\nsteps = 10\nbatch_size = 64\neval_samples = 200\nlatent_dim = 3\ndevice = 'cpu'\n"
                       "[grid]\nprocess = ['sphere', 'box']\nseed = [0, 1, 2]\n")
    store = Store(tmp_path / "r.jsonl")
    assert run_sweep(specs, store).completed == 6
    assert main(["report", str(store.path), "--by", "process,objective", "--csv", str(tmp_path / "t.csv")]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0] == "| process | objective | runs | affine_r2 | mcc | affine_r2.null | raw_x.affine_r2 | mcc.null | raw_x.mcc |"
    assert len(table) == 4
    rows = {line.split("|")[1].strip(): line for line in table[2:]}
    assert set(rows) == {"sphere", "box"} and all("| 3 |" in line for line in rows.values())
    # the cell's mean is the mean of its records
    mean = sum(r["metrics"]["code"]["affine_r2"]["score"] for r in store.records() if r["spec"]["process"]["name"] == "box") / 3
    assert f"{mean:.3f} [" in rows["box"]
    csv = (tmp_path / "t.csv").read_text().splitlines()
    assert csv[0].startswith("process,objective,runs,affine_r2,affine_r2_low,affine_r2_high") and len(csv) == 3


def test_report_refuses_a_missing_or_broken_store_in_one_line(tmp_path, capsys):
    broken = tmp_path / "r.jsonl"
    broken.write_text('{"key": "a", "status": "ok"}\n{"key": \n')
    for path, message in ((tmp_path / "none.jsonl", "not a results file"), (broken, "r.jsonl:2 is not a JSON record")):
        with pytest.raises(SystemExit) as exit_:
            main(["report", str(path)])
        err = capsys.readouterr().err
        assert exit_.value.code == 2 and err.count("\n") == 1 and message in err, err


# --- checkpoints -------------------------------------------------------------------------------


@pytest.mark.parametrize("objective, encoder, settings", [
    ("infonce", "mlp", {}), ("byol", "mlp", {}), ("adassl-v", "mlp", {}), ("plane-logdet-ldm", "flow", {}),
    ("kalman-flow", "flow", {"process": "gauss_ar1", "observed_dim": 8}),
    ("plane-logdet-ldm", "flow", {"process": "gauss_ar1", "encoder.likelihood": "manifold", "encoder.whiten": False, "observed_dim": 5})])
def test_a_run_stopped_mid_training_resumes_from_its_checkpoint_to_the_same_numbers(tmp_path, monkeypatch, objective, encoder, settings):
    """Whatever the run holds (an EMA target, the objective's own noise, a flow's log-volume, its count of
    inflation draws or its probes' stream), the checkpoint holds too, and the learning rate's schedule
    resumes where it was: the resumed run ends on the uninterrupted run's numbers exactly."""
    settings = dict(settings)
    process = settings.pop("process", "box" if objective.startswith("plane") else "sphere")
    spec = ExperimentSpec.from_settings(process=process, objective=objective, encoder=encoder, steps=30, batch_size=32,
                                        eval_samples=300, latent_dim=3, device="cpu", lr_schedule="cosine", lr_warmup=5,
                                        **settings)
    whole = run_experiment(spec)
    checkpoint = Checkpoint(tmp_path / "run.pt", every=10, identity=spec.key)
    parts = build(spec)
    calls, sample = [0], type(parts.data).sample

    def dies_at_step_25(self, *args, **kwargs):
        calls[0] += 1
        if calls[0] > 1 + 25:  # the start's batch, then 25 training steps
            raise RuntimeError("killed")
        return sample(self, *args, **kwargs)

    monkeypatch.setattr(type(parts.data), "sample", dies_at_step_25)
    with pytest.raises(RuntimeError, match="killed"):
        run_experiment(spec, checkpoint=checkpoint)
    monkeypatch.undo()
    assert torch.load(checkpoint.path, weights_only=True)["step"] == 20
    resumed = run_experiment(spec, checkpoint=checkpoint)
    assert resumed.code["affine_r2"].score == whole.code["affine_r2"].score and resumed.code["mcc"].score == whole.code["mcc"].score
    assert torch.equal(resumed.training.losses, whole.training.losses)


def test_a_checkpoint_of_another_run_is_refused(tmp_path):
    spec = ExperimentSpec.from_settings(**{**QUICK, "steps": 10})
    run_experiment(spec, checkpoint=Checkpoint(tmp_path / "run.pt", every=5, identity="another"))
    with pytest.raises(ValueError, match="belongs to another run"):
        run_experiment(spec, checkpoint=Checkpoint(tmp_path / "run.pt", every=5, identity=spec.key))


def test_a_killed_command_line_run_resumes_to_the_uninterrupted_numbers(tmp_path):
    argv = ["run", "--steps", "600", "--batch-size", "64", "--eval-samples", "500", "--device", "cpu", "--quiet",
            "--checkpoint-every", "50"]
    (tmp_path / "whole").mkdir()
    whole = cli(*argv, "--results", str(tmp_path / "whole" / "r.jsonl"))
    assert whole.returncode == 0, whole.stderr
    out = tmp_path / "killed" / "r.jsonl"
    out.parent.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "identifiability", *argv, "--results", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    folder, deadline = out.parent / "checkpoints", time.monotonic() + 120
    while not (folder.exists() and any(folder.glob("*.pt"))) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    assert any(folder.glob("*.pt")) and not (out.exists() and out.read_text()), "the run was not killed mid-training"
    resumed = cli(*argv, "--results", str(out))
    assert resumed.returncode == 0, resumed.stderr
    (a,), (b,) = Store(tmp_path / "whole" / "r.jsonl").records(), Store(out).records()
    assert a["metrics"] == b["metrics"] and a["timings"]["final_loss"] == b["timings"]["final_loss"]
    assert not any(folder.glob("*.pt"))  # a finished run's checkpoint is removed


def test_a_checkpoint_resumes_past_a_stream_its_modules_no_longer_hold():
    # inflated flows held a probe stream they never drew from until issue 29 (stop 43); their checkpoints still resume
    parts = build(ExperimentSpec.from_settings(process="gauss_ar1", encoder="flow", objective="kalman-flow", observed_dim=6,
                                               latent_dim=2, device="cpu"))
    modules, optimizer, data_stream = (parts.encoder, parts.objective), torch.optim.Adam(parts.encoder.parameters()), torch.Generator()
    state = capture(0, modules, optimizer, data_stream, {})
    state["streams"]["0.._probe"] = ("cpu", torch.Generator().manual_seed(5).get_state())
    restore(state, modules, optimizer, data_stream)
    assert not streams(*modules)


# --- batched seeds -----------------------------------------------------------------------------

# every objective: a seed's stream cannot be drawn inside the batched step, so AdaSSL's edits, SimVAE's posterior
# draws (each seed's objective's ``draw_noise``) and an injective flow's inflation noise (its encoder's) are drawn
# outside it; the flow objectives get each seed's log-volume with its codes
BATCHABLE = OBJECTIVES.names()
# the processes an objective needs (a segment, an action, sequences for a flow's filter), else the sphere or the box
PROCESS = {"tcl": ("ica", {"segments": 4}), "simvae": ("action", {}),
           "kalman-filter-flow": ("gauss_ar1", {"encoder": "flow"}), "kalman-flow": ("gauss_ar1", {"encoder": "flow"})}
PROCESS |= {name: ("action", {}) for name in OBJECTIVES.names() if name.startswith("adassl")}


def _seeds(objective: str, steps: int, **training: object) -> list[ExperimentSpec]:
    box = objective.startswith("plane") or objective in ("kalman", "kalman-filter", "vicreg-ldm", "er")
    process, settings = PROCESS.get(objective, ("box" if box else "sphere", {}))
    return [ExperimentSpec.from_settings(process=process, objective=objective, seed=seed, problem_seed=0, steps=steps, batch_size=32,
                                         eval_samples=200, latent_dim=3, device="cpu", **settings, **training) for seed in range(3)]


# Batched and sequential runs round their products differently (batched GEMMs, another blocking),
# more so on some math-library paths: over 24 objectives and the paths MKL_CBWR=COMPATIBLE,
# ATEN_CPU_CAPABILITY=default and the default, the first losses differed by at most 4.8e-6 relative
# (sphere-logdet-ldm, COMPATIBLE); 15 steps later the losses by 9.1e-6 relative and the scores by
# 1.1e-5, except where the loss reads the k-th nearest neighbour, a discontinuous function of the codes
# (a rounding that reorders two near neighbours moves it by their gap): 5.0e-4 relative, 1.3e-3 absolute,
# scores 1.0e-4 (sphere-knn-ldm, COMPATIBLE). Each tolerance is about 10 times that; a seed run on
# another seed's stream or weights differs by O(1). Of the objectives that batch since issue 29 (byol,
# jepa, tcl, adassl-oracle, supervised, supervised-filter), on the same three paths: first losses equal
# to 1.7e-7 relative; after 15 steps tcl and byol within 1.0e-7 (losses) and 3.3e-7 (scores), and
# adassl-oracle, whose edit network starts at zero and amplifies roundings, 1.5e-5 and 7.7e-5
# (COMPATIBLE), against 1.2 and 3.2e-2 where each seed is handed another seed's action. Of those that draw
# their noise outside the batched step since (simvae, adassl-v, -s, -v-byol, -s-byol, on action), after 15 steps
# on the same paths: losses within 3.8e-6 absolute (simvae, whose losses are near 16; 2.4e-7 relative) and
# scores within 4.6e-7.
FIRST_LOSS_RTOL = 5e-5
LOSSES_RTOL = {"knn": 5e-3, "oracle": 1e-3, "": 1e-4}
LOSSES_ATOL = {"knn": 1e-2, "oracle": 1e-3, "": 1e-4}
SCORES_ATOL = {"knn": 1e-3, "oracle": 1e-3, "": 1e-4}


@pytest.mark.parametrize("objective", BATCHABLE)
def test_every_batchable_objective_batches_and_its_first_loss_is_each_seeds_own(objective):
    specs = _seeds(objective, 1)
    parts = build(specs[0])
    assert batchable(parts.encoder, parts.objective)
    batched, alone = run_experiments(specs), [run_experiment(s) for s in specs]
    for b, a in zip(batched, alone):
        assert b.training.losses[0].item() == pytest.approx(a.training.losses[0].item(), rel=FIRST_LOSS_RTOL, abs=1e-6)


def test_parts_that_hold_streams_of_their_own_train_one_seed_after_another():
    # the manifold likelihood's flow keeps a stream for its estimator's probes, drawn inside its log-volume
    parts = build(_seeds("kalman-flow", 1)[0])
    flow = InjectiveFlow(3, 2, hidden=(8,), likelihood="manifold")
    assert streams(flow) and not batchable(flow, parts.objective) and batchable(parts.encoder, parts.objective)
    with pytest.raises(ValueError, match="cannot train batched"):
        train_seeds([(flow, parts.objective, parts.data, 0)] * 2)


@pytest.mark.parametrize("pair", [("infonce", "adassl-v"), ("adassl-v", "adassl-s")])
def test_seeds_of_two_objectives_are_refused_even_where_they_need_the_same_inputs(pair):
    # AdaSSL's two variants also share every parameter's shape: stacked, every seed would run seed 0's variant
    first, second = (build(_seeds(o, 1)[0]) for o in pair)
    assert as_objective(first.objective).requires == as_objective(second.objective).requires
    with pytest.raises(ValueError, match="must be one objective"):
        train_seeds([(first.encoder, first.objective, first.data, 0), (second.encoder, second.objective, second.data, 1)])


def test_batched_injective_flows_keep_each_seeds_own_count_of_noise_draws():
    # the count is the flow's stream (a resumed run draws on from it): each seed's written back to it alone
    specs = _seeds("kalman-flow", 5, observed_dim=12)
    parts = [build(spec) for spec in specs]
    for p, start in zip(parts, (0, 3, 7)):
        p.encoder.draws = start
    train_seeds([(p.encoder, p.objective, p.data, spec.seed) for p, spec in zip(parts, specs)], specs[0].training)
    assert [p.encoder.draws for p in parts] == [5, 8, 12] and len({p.encoder.seed for p in parts}) == 3


def test_seeds_of_one_encoder_in_two_configurations_are_refused():
    # the batched step runs seed 0's settings for all: another inflation would be silently replaced
    first, second = (build(spec) for spec in _seeds("kalman-flow", 1, observed_dim=12)[:2])
    second.encoder.inflation = 0.1
    with pytest.raises(ValueError, match="must be one encoder"):
        train_seeds([(first.encoder, first.objective, first.data, 0), (second.encoder, second.objective, second.data, 1)])


# byol: each seed's EMA target, moved after every step (its loss reads 0 at every step, the stop-gradient's
# value, so the scores tell: 3.3e-7 apart on MKL_CBWR=COMPATIBLE, 0.075 where the target stays put);
# tcl and adassl-oracle: each seed's segments and actions (their first losses do not read them: the
# classifier and the edit network start at zero)
# simvae, adassl-v and adassl-s-byol: each seed's own noise (a step on another seed's draws moves the loss by O(1));
# kalman-flow and kalman-filter-flow: each seed's flow and its log-volume, and at D = 12 > d each seed's inflation
# noise (another draw moves the first loss by 1-7 nats of its 34-42). Measured on the three paths above: first
# losses equal; after 15 steps within 1.6e-5 relative (kalman-flow, whose losses pass near 0: 1.9e-6 absolute),
# 7.6e-6 absolute at D = 12 (losses near -59), scores within 3.6e-8.
FLOWS = [("kalman-flow", {}), ("kalman-filter-flow", {}), ("kalman-flow", {"observed_dim": 12})]


@pytest.mark.parametrize(("objective", "settings"), [
    *((name, {}) for name in ["infonce", "plane-kde-ldm", "sphere-kde-mi", "sphere-knn-ldm", "kalman", "cpc", "byol", "tcl",
                              "adassl-oracle", "simvae", "adassl-v", "adassl-s-byol"]),
    *FLOWS])
def test_batched_seeds_match_sequential_seeds(objective, settings):
    """Each seed of a batched run follows its own run to float rounding. (Adam makes a gradient of
    exactly zero in exact arithmetic, such as the output bias of a translation-invariant loss like
    plane-logdet-ldm's, into steps of size lr in the direction of its rounding noise: such runs agree
    in law, not to rounding, over many steps, batched or not, and are not listed here.) The learning
    rate warms up and decays on the same schedule in both."""
    _assert_each_seed_follows_its_own_run(objective, _seeds(objective, 15, lr_schedule="cosine", lr_warmup=4, **settings))


@pytest.mark.parametrize("objective", ["infonce", "sphere-knn-ldm"])
def test_seeds_batched_in_chunks_follow_their_own_runs(objective, monkeypatch):
    """On a CPU a pairwise objective's seeds run in chunks whose (B, B) matrices fit ``CHUNK_BYTES``: here
    one seed a chunk (three chunks), and each seed still follows its own run to float rounding."""
    specs = _seeds(objective, 15, lr_schedule="cosine", lr_warmup=4)
    batch = specs[0].training.batch_size
    monkeypatch.setattr(seeds_module, "CHUNK_BYTES", batch**2 * 4)
    assert seeds_module.seeds_per_chunk(build(specs[0]).objective, len(specs), batch, torch.float32, torch.device("cpu")) == 1
    _assert_each_seed_follows_its_own_run(objective, specs)


def test_only_a_pairwise_objective_on_a_cpu_runs_its_seeds_in_chunks():
    """Chunks of 4 MiB of (B, B) float32 matrices: 4 seeds at batch 512, 1 at 2048, all at once at 64 (or
    where every seed fits one chunk), on a GPU, and for an objective without (n, n) matrices (a flow's)."""
    infonce, flow = build(_seeds("infonce", 1)[0]).objective, build(_seeds("kalman-flow", 1)[0]).objective
    cpu, cuda = torch.device("cpu"), torch.device("cuda")  # a device object only: nothing runs on it
    assert infonce.pairwise and not flow.pairwise
    assert [seeds_module.seeds_per_chunk(infonce, 16, b, torch.float32, cpu) for b in (64, 512, 1024, 2048, 4096)] == [None, 4, 1, 1, 1]
    assert seeds_module.seeds_per_chunk(infonce, 16, 512, torch.float64, cpu) == 2
    assert seeds_module.seeds_per_chunk(infonce, 4, 512, torch.float32, cpu) is None  # every seed in one chunk
    assert seeds_module.seeds_per_chunk(infonce, 16, 512, torch.float32, cuda) is None
    assert seeds_module.seeds_per_chunk(flow, 16, 512, torch.float32, cpu) is None


def _assert_each_seed_follows_its_own_run(objective: str, specs: list[ExperimentSpec]) -> None:
    parts = build(specs[0])
    assert batchable(parts.encoder, parts.objective)  # else run_experiments trains them one by one
    batched, alone = run_experiments(specs), [run_experiment(s) for s in specs]
    kind = "knn" if "knn" in objective else "oracle" if objective == "adassl-oracle" else ""
    for b, a in zip(batched, alone):
        torch.testing.assert_close(b.training.losses, a.training.losses, rtol=LOSSES_RTOL[kind], atol=LOSSES_ATOL[kind])
        assert b.code["affine_r2"].score == pytest.approx(a.code["affine_r2"].score, abs=SCORES_ATOL[kind])
        assert b.code["mcc"].score == pytest.approx(a.code["mcc"].score, abs=SCORES_ATOL[kind])
        assert b.spec == a.spec and b.problem_fingerprint == a.problem_fingerprint
