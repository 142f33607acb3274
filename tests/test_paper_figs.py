"""The figures render from a tiny result set in seconds, write their four files, and draw exactly the
numbers of their tables."""

import copy
import math
from dataclasses import replace

import numpy as np
import pytest

from identifiability import figures as paper_figs
from identifiability.cli import main
from identifiability.experiment import run_experiment
from identifiability.specs import ExperimentSpec
from identifiability.records import Store, number_names, path_of
from identifiability.sweeps import load_sweep
from identifiability.figures import calibration
from identifiability.figures import figure as figure_module
from identifiability.figures import plateau
from identifiability.figures.figure import sweep_file


@pytest.fixture(scope="module")
def template():
    """One real record (a 2-step filter run with DCI), the schema every fabricated record copies."""
    spec = ExperimentSpec.from_settings(process="gauss_ar1", objective="kalman-filter", latent_dim=2, seq_len=3,
                                        steps=2, batch_size=16, eval_samples=200, dci=True, device="cpu")
    return run_experiment(spec).to_record()


def _set(record, name, value):
    """Put ``value`` where the number ``name`` lies in ``record`` (a result's ``score``)."""
    *path, last = path_of(record, name)
    for key in path:
        record = record[key]
    if isinstance(record[last], dict):
        record[last]["score"] = value
    else:
        record[last] = value


def bands(template):
    """Each number of the template -> a band of values only it takes: its draws lie in [low, low +
    0.01), bands 0.02 apart in (0.05, 0.95) (participation ratios in (1, 5)), so that a drawn value
    says which column it came from."""
    names = number_names(template)
    ratios = [n for n in names if n.endswith("participation_ratio")]
    others = [n for n in names if n not in ratios]
    assert 0.05 + 0.02 * len(others) < 0.95
    return {**{n: 0.05 + 0.02 * i for i, n in enumerate(others)}, **{n: 1.0 + 0.5 * i for i, n in enumerate(ratios)}}


def fabricated(name, template, seed=0):
    """A record per run of figure ``name``'s fast sweep, with the spec's parts and settings and every
    number the template holds drawn at random in its own band (``bands``)."""
    rng = np.random.default_rng(seed)
    low = bands(template)
    out = []
    for spec in load_sweep(sweep_file(name, "fast")):
        record = copy.deepcopy(template)
        record["key"], record["spec"] = spec.key, spec.to_dict()
        record["settings"] = {part: dict(getattr(spec, part).given) for part in ("process", "encoder", "objective")}
        for number in number_names(template):
            _set(record, number, float(low[number] + rng.uniform(0, 0.01)))
        out.append(record)
    return out


def plotted(fig, x=False):
    """Every value the figure draws: lines' y data (and x data with ``x``), bar heights, images, annotations."""
    values = []
    for ax in fig.axes:
        for line in ax.get_lines():
            values += [float(v) for v in np.ravel(line.get_ydata()) if np.isfinite(v)]
            values += [float(v) for v in np.ravel(line.get_xdata()) if x and np.isfinite(v)]
        values += [p.get_height() for p in ax.patches]
        for image in ax.images:
            if ax.get_label() != "<colorbar>":
                values += [float(v) for v in np.ravel(image.get_array()) if np.isfinite(v)]
        values += [float(t.get_text()) for t in ax.texts if _number(t.get_text())]
    return values


def _number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def _table_numbers(rows):
    return [float(v) for r in rows for v in r.values() if isinstance(v, (int, float)) and math.isfinite(v)]


def _drawn_from(values, numbers, tol=1e-9):
    numbers = np.array(numbers)
    return all(np.abs(numbers - v).min() <= tol * max(1.0, abs(v)) for v in values)


SWEPT = [name for name, figure in paper_figs.FIGURES.items() if figure.sweep]
MAIN = {"contrastive": "affine_r2", "ldm_grid": "affine_r2", "kalman": "affine_r2", "one_to_many": "affine_r2",
        "profiles": "affine"}


PANELS = {"R$^2$": "affine_r2", "MCC": "mcc", "DCI": "dci", "participation": "participation_ratio"}


def _panel(fig, ax):
    """The metric a panel shows, by its y label (or its row's first labelled one)."""
    row = ax.get_subplotspec().rowspan.start
    labels = [ax.get_ylabel()] + [a.get_ylabel() for a in fig.axes if a.get_subplotspec().rowspan.start == row]
    label = next(text for text in labels if text)
    return next(metric for key, metric in PANELS.items() if key in label)


def _column(label, metric):
    """The record's number a line labelled ``label`` in a panel of ``metric`` must draw."""
    for start, column in (("raw x", f"raw_x.{metric}"), ("null", f"{metric}.null"), ("rotation", "rotation_mcc"),
                          ("Bayes filter", "oracle.filtered"), ("best one-frame", "oracle.per_frame")):
        if label.startswith(start):
            return column
    return f"state.{metric}" if label.endswith("filter state") else metric


@pytest.mark.parametrize("name", [n for n in SWEPT if n != "profiles"])
def test_every_drawn_series_is_its_panels_and_labels_column(name, template):
    """Each number drawn lies in the band of exactly the column its panel and label name: a series
    drawn in the wrong panel, or a baseline swapped with another, fails."""
    low = bands(template)
    band = lambda v: next((n for n, b in low.items() if b <= v < b + 0.01 + 1e-9), None)  # noqa: E731
    figure = paper_figs.FIGURES[name]
    fig = figure.plot(figure.table(fabricated(name, template), "fast"))
    checked = 0
    for ax in fig.axes:
        if ax.get_label() == "<colorbar>":
            continue
        metric = _panel(fig, ax)
        for line in ax.get_lines():
            label = line.get_label()
            if label.startswith("_") or label == "true latent dimension":
                continue
            drawn = {band(float(v)) for v in np.ravel(line.get_ydata()) if np.isfinite(v)}
            assert drawn == {_column(label, metric)}, (ax.get_title(), label, drawn)
            checked += 1
        for bar in ax.patches:
            assert band(bar.get_height()) == metric, (ax.get_title(), bar.get_height())
            checked += 1
    assert checked


@pytest.mark.parametrize("name", SWEPT)
def test_a_swept_figure_draws_its_tables_numbers_and_writes_four_files(name, template, tmp_path):
    figure = paper_figs.FIGURES[name]
    rows = figure.table(fabricated(name, template), "fast")
    assert rows and all(r.get("runs") for r in rows)
    values = plotted(figure.plot(rows))
    numbers = _table_numbers(rows)
    # nothing is drawn that the table does not hold (the y data of lines, bars, cells, annotations;
    # annotations are rounded to 2 decimals)
    assert values and _drawn_from(values, numbers, tol=5e-3)
    shown = [r[MAIN[name]] for r in rows if r.get(MAIN[name]) is not None]
    assert sum(any(abs(s - v) < 1e-12 for v in values) for s in shown) >= min(len(shown), 4)
    paths = paper_figs.write(figure, rows, "fast", tmp_path)
    assert [p.suffix for p in paths] == [".png", ".pdf", ".csv", ".txt"] and all(p.stat().st_size > 0 for p in paths)
    assert paths[0].read_bytes()[:4] == b"\x89PNG" and paths[1].read_bytes()[:4] == b"%PDF"
    assert "fast budget" in paths[3].read_text() or name == "profiles"


def test_the_computed_figures_render_from_a_tiny_size(tmp_path, monkeypatch):
    monkeypatch.setitem(calibration.SIZES, "fast", dict(n=(100, 200), d=(2, 5), draws=2, rotation_d=(2, 3), layers=(1, 2)))
    for name in ("calibration", "gallery"):
        made = paper_figs.make(name, "fast", tmp_path)
        rows = paper_figs.FIGURES[name].table([], "fast")
        values = plotted(paper_figs.FIGURES[name].plot(rows), x=name == "gallery")
        assert made.sweep is None and all(p.exists() for p in made.paths)
        if name == "calibration":  # every null's 95th percentile, rotation baseline and raw score is drawn
            shown = [r.get("p95", r.get("mean")) for r in rows if r["panel"] != "raw"] + [r["mcc"] for r in rows if r["panel"] == "raw"]
        else:  # every latent position of the trajectories
            shown = [r["x"] for r in rows] + [r["y"] for r in rows]
        assert all(any(abs(s - v) < 1e-12 for v in values) for s in shown)


def test_make_runs_only_what_the_store_lacks(template, tmp_path):
    store = Store(tmp_path / "fast.jsonl")
    for record in fabricated("profiles", template):
        store.append(record)
    made = paper_figs.make("profiles", "fast", tmp_path)  # every run stored: nothing trains
    assert made.sweep.skipped == made.sweep.runs and made.sweep.completed == 0
    assert (tmp_path / "profiles.csv").read_text().startswith("objective,process,runs")


def _doubled_store(tmp_path, template, moved, name="contrastive"):
    """A store holding figure ``name``'s fabricated runs and each at twice its steps, its affine R^2
    moved by ``moved(spec)`` and every other number as at the budget."""
    store = Store(tmp_path / "fast.jsonl")
    for record in fabricated(name, template):
        store.append(record)
        spec = ExperimentSpec.from_dict(record["spec"])
        twice = copy.deepcopy(record)
        twice["key"], twice["spec"] = plateau.doubled(spec).key, plateau.doubled(spec).to_dict()
        _set(twice, "affine_r2", record["metrics"]["code"]["affine_r2"]["score"] + moved(spec))
        store.append(twice)
    return store


def test_the_caption_states_each_cells_distance_to_its_value_at_twice_the_steps(template, tmp_path, monkeypatch):
    # two scores, to see each measured apart (the figure itself states affine R^2's only)
    monkeypatch.setitem(paper_figs.FIGURES, "contrastive", replace(paper_figs.FIGURES["contrastive"], converges=("affine_r2", "mcc")))
    far = {0: 0.30, 1: 0.10}  # one cell moves by 0.2 on average over its seeds, the others by 0.01 or not at all

    def moved(spec):
        cell = (spec.process.name, spec.process.given["latent_dim"], spec.process.given["mixing_layers"])
        return far[spec.seed] if cell == ("sphere", 10, 5) else 0.01 * (spec.process.name == "box")

    store = _doubled_store(tmp_path, template, moved)
    made = paper_figs.make("contrastive", "fast", tmp_path)  # every run stored at both budgets: nothing trains
    assert made.sweep.completed == 0 and made.plateau is not None
    cells = {(c.name, c.score): c for c in made.plateau}
    assert len(cells) == 2 * 18 and all(c.runs == 2 and c.steps == 1000 for c in cells.values())
    worst = cells["sphere, infonce, latent_dim 10, mixing_layers 5", "affine_r2"]
    budget = [r for r in store.records() if r["spec"]["training"]["steps"] == 1000 and r["spec"]["process"]["name"] == "sphere"
              and r["settings"]["process"] == {"latent_dim": 10, "mixing_layers": 5}]
    assert worst.at_budget == pytest.approx(np.mean([r["metrics"]["code"]["affine_r2"]["score"] for r in budget]), abs=1e-12)
    assert worst.distance == pytest.approx(0.2, abs=1e-12)
    assert all(c.distance == pytest.approx(0.01, abs=1e-12) for c in cells.values() if c.name.startswith("box") and c.score == "affine_r2")
    assert all(c.distance == 0 for c in cells.values() if c.score == "mcc")
    caption = (tmp_path / "contrastive.txt").read_text()
    assert "affine_r2: 17 of 18 cells within 0.02 (largest distance 0.200); farthest sphere, infonce, latent_dim 10, " \
           f"mixing_layers 5: {worst.at_budget:.3f} -> {worst.at_twice:.3f}." in caption
    assert "mcc: 18 of 18 cells within 0.02 (largest distance 0.000)" in caption


def test_a_cell_is_named_by_what_tells_it_from_the_others_and_not_by_settings_it_lacks(template, tmp_path):
    store = _doubled_store(tmp_path, template, lambda spec: 0.0, "profiles")
    cells = plateau.measure(load_sweep(sweep_file("profiles", "fast")), store.latest(), ("affine_r2",))
    assert [c.name for c in cells] == ["sphere, infonce, latent_dim 5", "sphere, byol, latent_dim 5", "sphere, vicreg, latent_dim 5",
                                       "box, plane-kde-ldm, latent_dim 5", "gauss_ar1, kalman, latent_dim 4", "ica, pcl, latent_dim 4",
                                       "ica, tcl, latent_dim 4, law gaussian, segments 4", "jump, plane-kde-ldm, latent_dim 4"]


def test_a_figure_without_all_its_runs_at_twice_the_steps_states_no_distance(template, tmp_path):
    store = _doubled_store(tmp_path, template, lambda spec: 0.0)
    specs = load_sweep(sweep_file("contrastive", "fast"))
    latest = store.latest()
    assert plateau.measure(specs, latest, ("affine_r2",)) is not None
    del latest[plateau.doubled(specs[-1]).key]
    assert plateau.measure(specs, latest, ("affine_r2",)) is None
    assert plateau.measure(specs, {}, ("affine_r2",)) is None
    (tmp_path / "only").mkdir()
    only = Store(tmp_path / "only" / "fast.jsonl")
    for record in fabricated("contrastive", template):
        only.append(record)
    made = paper_figs.make("contrastive", "fast", tmp_path / "only")
    assert made.plateau is None and "plateau" not in (tmp_path / "only" / "contrastive.txt").read_text()


def test_plateau_trains_each_run_again_at_twice_its_steps(monkeypatch, tmp_path):
    submitted = []
    monkeypatch.setattr(figure_module, "run_sweep", lambda specs, store, **_: submitted.extend(specs))
    figure_module.records(paper_figs.FIGURES["profiles"], "fast", Store(tmp_path / "fast.jsonl"), plateau=True)
    specs = load_sweep(sweep_file("profiles", "fast"))
    assert [s.key for s in submitted] == [s.key for s in specs] + [plateau.doubled(s).key for s in specs]
    assert all(t.training.steps == 2 * s.training.steps and replace(t, training=s.training) == s
               for s, t in zip(specs, submitted[len(specs):]))


def test_the_command_line_refuses_unknown_figures_and_budgets(capsys):
    for argv, message in ((["figs", "nope"], "--name: must be one of calibration, contrastive"), (["figs", "gallery", "--budget", "huge"], "--budget: must be one of fast, full")):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 2 and message in capsys.readouterr().err
