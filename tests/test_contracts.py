"""Issue 26: the middle floor reads parts through their contracts. A process declares its sizes,
geometry, assumptions and baselines; an objective offers readouts; plain modules become parts once;
every number has one name in the result, the record, the table and the command line."""

import ast
import dataclasses
import importlib
import json
from pathlib import Path

import pytest
import torch

from identifiability.processes import Batch, Process
from identifiability import ExperimentSpec, Part, run_experiment
from identifiability.cli import main
from identifiability.experiment import build, held_out
from identifiability.objectives.base import Objective, PlainObjective, Readout
from identifiability.encoders.base import PlainEncoder
from identifiability.records import Store, number_names, path_of, value_of
from identifiability.registry import ENCODERS, PROCESSES, OBJECTIVES
from identifiability.report import format_report

ROOT = Path(__file__).resolve().parents[1]
SMALL = dict(steps=3, batch_size=16, eval_samples=200, device="cpu")


@pytest.mark.parametrize("name", PROCESSES.names())
def test_every_registered_process_keeps_the_process_contract(name):
    parts = build(ExperimentSpec.from_settings(process=name, latent_dim=4, **SMALL))
    data = parts.data
    assert isinstance(data, Process) and data.seq_len >= 1 and data.latent_geometry in ("sphere", "plane")
    assert data.latent_geometry == PROCESSES[name].meta.get("geometry", "plane")
    batch = data.sample(3, 0)
    assert batch.x.shape[:2] == (3, data.seq_len) and batch.x.shape[2:] == data.observed_shape
    assert batch.z.shape == (3, data.seq_len, data.latent_dim)
    assert (batch.r is None) == (data.action_dim is None)


class Spy(Objective):
    """Alignment and a log-det entropy, offering a readout "twice" (the code doubled) and recording
    what ``readouts`` was handed."""

    def __init__(self) -> None:
        super().__init__()
        self.handed: dict = {}

    def forward(self, z):
        a, b = z[:, 0], z[:, 1]
        return (a - b).pow(2).sum(-1).mean() - 0.5 * torch.logdet(torch.cov(a.T) + 1e-3 * torch.eye(a.shape[1]))

    def readouts(self, encoder, x, z, fresh):
        self.handed = {"x": x, "z": z, "fresh": fresh(x.shape[0])}
        with torch.no_grad():
            return {"twice": Readout(2 * encoder(x[:, 0]), z[:, 0], x[:, 0].flatten(1))}


@pytest.fixture
def spy():
    """The Spy registered as "spy" for one test; the objectives it built."""
    made = []
    with OBJECTIVES.scoped():

        @OBJECTIVES("spy")
        def build_spy(context):
            """A spy objective."""
            made.append(Spy())
            return made[-1]

        yield made


def test_a_readout_an_objective_offers_is_scored_and_recorded_like_the_code(spy):
    spec = ExperimentSpec.from_settings(process="box", objective="spy", latent_dim=3, **SMALL)
    result = run_experiment(spec, keep_codes=True)
    # the readout is handed the held-out sequences whole and fresh draws of the training stream
    handed = spy[0].handed
    held = held_out(build(spec).data, spec.problem, spec.evaluation.eval_samples)
    assert torch.equal(handed["x"], held.x) and torch.equal(handed["z"], held.z)
    assert handed["fresh"].shape == held.x.shape and not torch.equal(handed["fresh"], held.x)
    # scored as the code: the doubled code has the code's affine R^2 (an affine map of it)
    twice, code = result.metrics["twice"], result.code
    assert twice["affine_r2"].score == pytest.approx(code["affine_r2"].score, abs=1e-5)
    assert twice["affine_r2"].null is not None and result.raw_x["twice"]["affine_r2"].score == result.raw_x["code"]["affine_r2"].score
    record = json.loads(json.dumps(result.to_record()))
    assert value_of(record, "twice.affine_r2") == twice["affine_r2"].score
    assert value_of(record, "raw_x.twice.mcc") == result.raw_x["twice"]["mcc"].score
    assert "the code of one frame" in format_report(result) and "twice:" in format_report(result)


def test_every_number_a_record_holds_resolves_by_its_name():
    spec = ExperimentSpec.from_settings(process="gauss_ar1", objective="kalman-filter", latent_dim=2, seq_len=3, dci=True,
                                        **SMALL)
    record = json.loads(json.dumps(run_experiment(spec).to_record()))
    names = number_names(record)
    assert {"affine_r2", "affine_r2.null", "mcc.null", "dci", "state.affine_r2", "raw_x.affine_r2", "raw_x.state.mcc",
            "profile.orthogonal", "rotation_mcc", "oracle.filtered", "oracle.per_frame", "train_s"} <= set(names)
    for name in names:
        value = value_of(record, name)
        assert isinstance(value, (int, float)) and not isinstance(value, bool), (name, path_of(record, name), value)
    assert value_of(record, "affine_r2.reverse") == record["metrics"]["code"]["affine_r2"]["reverse"]
    assert value_of(record, "no_such_score") is None and value_of(record, "state.no_such") is None


def test_report_scores_take_every_recorded_name_and_refuse_others_naming_them(tmp_path, capsys):
    store = Store(tmp_path / "r.jsonl")
    spec = ExperimentSpec.from_settings(process="gauss_ar1", objective="kalman-filter", latent_dim=2, seq_len=3, **SMALL)
    store.append(run_experiment(spec).to_record())
    assert main(["report", str(store.path), "--scores", "state.affine_r2,rotation_mcc,oracle.filtered"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].startswith("| process | objective | runs | state.affine_r2 | rotation_mcc | oracle.filtered |")
    with pytest.raises(SystemExit) as exit_:
        main(["report", str(store.path), "--scores", "baselines.rotation_mcc"])
    error = capsys.readouterr().err
    assert exit_.value.code == 2 and "'baselines.rotation_mcc', which no record" in error and "rotation_mcc" in error


def test_report_groups_by_training_settings_and_refuses_a_field_no_record_holds(tmp_path, capsys):
    # before, an unknown --by field was None in every record and silently merged runs of different budgets
    store = Store(tmp_path / "r.jsonl")
    for steps in (3, 4):
        store.append(run_experiment(ExperimentSpec.from_settings(latent_dim=2, **(SMALL | {"steps": steps}))).to_record())
    assert main(["report", str(store.path), "--by", "objective,training.steps,evaluation.eval_samples"]) == 0
    rows = capsys.readouterr().out.splitlines()[2:]
    assert [row.split("|")[2:5] for row in rows] == [[" 3 ", " 200 ", " 1 "], [" 4 ", " 200 ", " 1 "]]
    with pytest.raises(SystemExit) as exit_:
        main(["report", str(store.path), "--by", "objective,steps"])
    assert exit_.value.code == 2 and "'steps', which no record" in capsys.readouterr().err


def test_plain_modules_become_parts_once_and_the_estimator_names_their_classes():
    with ENCODERS.scoped(), OBJECTIVES.scoped():
        import user_parts

        importlib.reload(user_parts)  # registers the user's plain modules for this test
        _plain_modules_become_parts()


def _plain_modules_become_parts():
    spec = ExperimentSpec.from_settings(process="box", encoder="user-residual", objective="user-align-uniform",
                                        latent_dim=3, **SMALL)
    parts = build(spec)
    assert isinstance(parts.encoder, PlainEncoder) and isinstance(parts.objective, PlainObjective)
    assert parts.objective.requires == frozenset() and parts.objective.geometry == "plane"
    result = run_experiment(spec)
    assert "Residual" in result.estimator and "AlignUniform" in result.estimator


class NotAProcess:
    latent_dim, observed_shape, seq_len = 2, (2,), 2

    def sample(self, n, seed, **kw):
        return Batch(x=torch.zeros(n, 2, 2), z=torch.zeros(n, 2, 2))


class SphereUndeclared(Process):
    latent_dim, observed_shape, latent_geometry = 2, (2,), "sphere"


def test_a_process_off_the_contract_or_its_declared_geometry_is_refused_by_name():
    with PROCESSES.scoped():
        PROCESSES("not-a-process")(lambda context: NotAProcess())
        PROCESSES("sphere-undeclared")(lambda context: SphereUndeclared())
        _refused()
    assert "not-a-process" not in PROCESSES


def _refused():
    with pytest.raises(TypeError, match="'not-a-process' built a NotAProcess, which does not keep the Process contract"):
        build(ExperimentSpec(process=Part("not-a-process"), device="cpu"))
    with pytest.raises(TypeError, match="registered with geometry 'plane' but its latents lie on the sphere"):
        build(ExperimentSpec(process=Part("sphere-undeclared"), device="cpu"))


def test_the_report_states_no_theorem_for_methods_it_was_not_proved_for():
    for objective in ("byol", "infonce"):
        report = format_report(run_experiment(ExperimentSpec.from_settings(objective=objective, latent_dim=3, **SMALL)))
        assert "identifies" not in report


MIDDLE = ["experiment.py", "records/schema.py", "records/tables.py", "records/store.py", "report.py", "sweeps.py", "specs.py",
          "training/loop.py", "training/seeds.py", "claims/recipes.py", "claims/claim.py", "claims/library.py",
          "parts/objectives.py", "parts/processes.py", "parts/encoders.py", "cli.py", "registry.py"]


@pytest.mark.parametrize("module", MIDDLE)
def test_the_middle_floor_probes_attributes_only_with_a_reason_beside(module):
    """``hasattr`` and ``getattr(`` where a contract should answer: each use has its reason on its line."""
    source = (ROOT / "identifiability" / module).read_text().splitlines()
    tree = ast.parse("\n".join(source))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("hasattr", "getattr"):
            line = source[node.lineno - 1]
            reasoned = "#" in line or (node.func.id == "getattr" and "fields(" in line)  # dataclass fields by name
            assert reasoned, f"{module}:{node.lineno}: {line.strip()}"


def test_the_experiment_layer_names_no_part():
    """No string in experiment.py's code (docstrings aside) is a registered part's name or names the
    filter or its oracle: it loops over readouts and baselines."""
    tree = ast.parse((ROOT / "identifiability" / "experiment.py").read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and node.body
                  and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    strings = [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)
               and id(node) not in docstrings]
    named = {*PROCESSES.names(), *OBJECTIVES.names(), "state", "oracle", "filtered", "linear_gaussian"}
    assert strings and not named & set(strings)


# --- settings addressed without ambiguity; one TOML layout ----------------------------------------


def test_a_bare_setting_two_chosen_parts_have_is_refused_and_part_key_reaches_either(tmp_path, capsys):
    base = ["run", "--process", "jump", "--objective", "simvae", "--latent-dim", "3", "--steps", "2", "--batch-size", "16",
            "--eval-samples", "200", "--device", "cpu", "--results", str(tmp_path / "r.jsonl"), "--checkpoint-every", "0"]
    with pytest.raises(SystemExit) as exit_:
        main([*base, "--hidden", "16"])
    assert exit_.value.code == 2 and "is a setting of the encoder 'mlp' and the objective 'simvae'" in capsys.readouterr().err
    assert main([*base, "--set", "objective.hidden=16,16", "--set", "encoder.hidden=8"]) == 0
    record = Store(tmp_path / "r.jsonl").records()[-1]
    assert record["settings"]["objective"]["hidden"] == [16, 16] and record["settings"]["encoder"]["hidden"] == [8]
    for bad, message in (("objective.hidden", "PART.KEY=VALUE"), ("model.hidden=1", "PART.KEY=VALUE"),
                         ("encoder.kappa=1", "'kappa' is not a setting of any encoder")):
        with pytest.raises(SystemExit):
            main([*base, "--set", bad])
        assert message in capsys.readouterr().err


def test_every_setting_of_every_registered_part_has_a_flag():
    from identifiability.cli import build_parser, part_settings

    run = build_parser()[1]["run"]
    flags = {option for action in run._actions for option in action.option_strings}
    missing = [key for key in part_settings() if f"--{key.replace('_', '-')}" not in flags]
    assert not missing and {"base", "beta", "editor", "form", "l0", "layers", "width"} <= set(part_settings())


@pytest.mark.parametrize("settings", [
    dict(process="jump", objective="simvae", latent_dim=3, steps=7, **{"objective.hidden": (16,), "encoder.hidden": (8,)}),
    dict(process="ica", objective="pcl", law="uniform", segments=0, form="laplace", lr_schedule="constant", seed=3,
         problem_seed=4, dci=True),
])
def test_a_spec_files_toml_is_a_sweeps_run(settings):
    """``to_toml`` reads back to the same spec, and pasted as a sweep's ``[[runs]]`` entry it names that run."""
    from identifiability.sweeps import read_sweep

    spec = ExperimentSpec.from_settings(**settings)
    assert ExperimentSpec.from_toml(spec.to_toml()) == spec
    pasted = "[[runs]]\n" + spec.to_toml()
    assert read_sweep(pasted) == [spec]


# --- one package, in layers ------------------------------------------------------------------------


def _imports(folder: Path) -> set[str]:
    """The absolute modules (and the relative ones, with their dots) the files under ``folder`` import."""
    found = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                found.add("." * node.level + (node.module or ""))
    return found


def test_the_processes_import_nothing_of_their_siblings():
    """identifiability.processes reads torch, numpy, the standard library, hypothesis (its strategies)
    and the private core, and nothing else of the package."""
    package = ROOT / "identifiability"
    own = {p.stem for p in (package / "processes").glob("*.py")}
    for name in _imports(package / "processes"):
        if name.startswith("identifiability"):
            assert name.startswith("identifiability._core"), name
        elif name.startswith(".."):
            raise AssertionError(f"processes imports {name} from outside itself")
        elif name.startswith("."):
            assert name.lstrip(".").split(".")[0] in own | {""}, name
        else:
            assert name.split(".")[0] in {"torch", "numpy", "math", "hypothesis", "hashlib", "dataclasses", "typing",
                                          "collections", "__future__", "functools", "itertools"}, name


def test_one_top_level_package_and_the_figures_only_above_it():
    """The install puts one name on the path; nothing below the figures imports them."""
    import tomllib

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["tool"]["setuptools"]["packages"]["find"]["include"] == ["identifiability*"]
    package = ROOT / "identifiability"
    for path in package.rglob("*.py"):
        if "figures" in path.relative_to(package).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert "figures" not in node.module.split("."), f"{path} imports the figures"


def test_the_report_shows_three_warnings_a_metric_and_counts_the_rest():
    result = run_experiment(ExperimentSpec.from_settings(latent_dim=3, **SMALL))
    scores = result.metrics["code"]
    scores["affine_r2"] = dataclasses.replace(scores["affine_r2"], warnings=tuple(f"warning {i}" for i in range(10)))
    report = format_report(result)
    assert [line for line in report.splitlines() if "warning " in line] == ["  ! warning 0", "  ! warning 1", "  ! warning 2"]
    assert "  ! and 7 more warnings of the affine_r2 scores of this readout" in report


def test_a_second_run_of_a_shape_reuses_the_first_runs_nulls():
    # a sweep's worker runs many specs in one process: the Monte-Carlo nulls of a shape are drawn once
    from identifiability.metrics.scoring import _cached_null

    spec = ExperimentSpec.from_settings(latent_dim=7, **SMALL)  # a shape no other test of this module scores
    run_experiment(spec)
    drawn = _cached_null.cache_info().misses
    second = run_experiment(dataclasses.replace(spec, seed=1))
    assert _cached_null.cache_info().misses == drawn
    assert second.code["affine_r2"].null is not None
