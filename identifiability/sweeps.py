"""Sweeps: many runs in parallel, on one machine or a Dask cluster, each record streamed into a store.

A sweep file (TOML) names the runs::

    plugins = ["my_estimators"]        # optional: modules that register parts of one's own
    [base]                             # settings every run takes (flat, as ExperimentSpec.to_toml
                                       # writes a run: "part.key" where two chosen parts share a name)
    steps = 2000
    [grid]                             # every combination of these values (also [[grid]]: several)
    process = ["sphere", "box", "jump"]
    objective = ["infonce", "plane-kde-ldm", "byol"]
    seed = [0, 1, 2, 3]
    [[runs]]                           # and single runs, each beside [base]
    process = "jump"
    objective = "adassl-v"

``run_sweep`` skips the runs the store holds as done (and, unless asked, those that failed), groups
the rest that differ only in their seeds into one job (trained batched where the parts allow it),
and hands the jobs to an executor: worker processes on this machine, or a Dask cluster (a
``LocalCluster``, a scheduler's address, or Slurm through dask-jobqueue), all through one code path,
a ``concurrent.futures.Executor``. A failing run is recorded with its error and the sweep goes on.
"""

from __future__ import annotations

import itertools
import multiprocessing
import time
import tomllib
import traceback
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from identifiability._core import SettingError, check_int

from .experiment import run_experiments, seedless
from .records import FAILED, Store, failed_record
from .specs import ExperimentSpec

SWEEP_FIELDS = {"plugins", "base", "grid", "runs"}


def read_sweep(text: str) -> list[ExperimentSpec]:
    """The runs a sweep file (TOML text) names, in order: the grid's combinations, then the runs."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SettingError("sweep", f"is not valid TOML: {error}") from None
    unknown = sorted(set(data) - SWEEP_FIELDS)
    if unknown:
        raise SettingError(unknown[0], f"is not a field of a sweep file ({', '.join(sorted(SWEEP_FIELDS))})")
    base, plugins = data.get("base", {}), tuple(data.get("plugins", ()))
    grids = data.get("grid", [])
    grids = [grids] if isinstance(grids, dict) else grids
    points: list[dict[str, Any]] = []
    for grid in grids:
        names = list(grid)
        values = [v if isinstance(v, list) else [v] for v in grid.values()]
        points += [dict(zip(names, combination)) for combination in itertools.product(*values)]
    points += list(data.get("runs", []))
    if not points:
        raise SettingError("grid", "names no run: give a [grid] of values or [[runs]]")
    specs = []
    for index, point in enumerate(points):
        settings = {**base, **point}
        own = tuple(settings.pop("plugins", ()))  # a run pasted from ExperimentSpec.to_toml may name its own
        try:
            specs.append(ExperimentSpec.from_settings(plugins=(*plugins, *own), **settings))
        except SettingError as error:
            where = ", ".join(f"{k}={v}" for k, v in point.items())
            raise SettingError(error.name, f"{error.reason} (in run {index}: {where})") from None
    return specs


@dataclass(frozen=True)
class SweepReport:
    """What a sweep did: runs named, skipped as done (or as failed before), run now, failed now."""

    runs: int
    skipped: int
    completed: int
    failed: int
    seconds: float
    lost: int = 0
    lost_reason: str = ""


def run_job(specs: list[dict[str, Any]], checkpoints: str | None, every: int) -> list[dict[str, Any]]:
    """Run specs (given as dicts) in a worker, one torch thread: their records, a failed record
    (with the error) for each run that raised. Runs of one job are tried together (batched where
    they allow it), and one by one where that fails."""
    torch.set_num_threads(1)  # oversubscribed threads made training about 10x slower on 2 cores
    folder = None if checkpoints is None else Path(checkpoints)
    built = [ExperimentSpec.from_dict(s) for s in specs]
    try:
        return [r.to_record() for r in run_experiments(built, checkpoints=folder, every=every)]
    except Exception:
        if len(built) == 1:
            return [failed_record(built[0], traceback.format_exc())]
    records = []
    for spec in built:
        try:
            records += [r.to_record() for r in run_experiments([spec], checkpoints=folder, every=every)]
        except Exception:
            records.append(failed_record(spec, traceback.format_exc()))
    return records


# What the fork server imports once for all its workers: the toolkit (torch with it), and torch._dynamo, which
# torch.optim imports at a process's first optimizer (about 2 s of the 5 s a spawned worker spent before its
# first step). A module missing here (a torch without it) is skipped by the server.
PRELOAD = [__name__, "torch._dynamo"]


def worker_context() -> multiprocessing.context.BaseContext:
    """How this machine's worker processes start: forked from one server process that imported torch and
    the toolkit once, at the first pool of this process (a spawned worker imports them anew, seconds of a
    core for every worker of every pool), never forked from this process (whose torch threads may be
    running: a forked copy can hang); spawned where there is no fork server (Windows)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


@contextmanager
def executor(workers: int = 1, scheduler: str | None = None) -> Iterator[Executor]:
    """Where jobs run: ``workers`` processes on this machine (``scheduler`` None), or a Dask cluster:
    "local" (a ``LocalCluster`` of ``workers`` single-threaded processes), "slurm" (``workers`` jobs
    of dask-jobqueue's ``SLURMCluster``, configured by its jobqueue.yaml), or a scheduler's address
    ("tcp://host:8786")."""
    workers = check_int("workers", workers, low=1)
    if scheduler is None:
        with ProcessPoolExecutor(workers, mp_context=worker_context()) as pool:
            yield pool
        return
    from distributed import Client, LocalCluster

    cluster = None
    if scheduler == "local":
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    elif scheduler == "slurm":
        try:
            from dask_jobqueue import SLURMCluster
        except ImportError:
            raise SettingError("scheduler", "slurm needs dask-jobqueue: pip install identifiability[slurm]") from None
        cluster = SLURMCluster()
        cluster.scale(jobs=workers)
    client = Client(cluster if cluster is not None else scheduler)
    try:
        yield client.get_executor(pure=False)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_sweep(
    specs: list[ExperimentSpec],
    store: Store,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    retry_failed: bool = False,
    batch_seeds: bool = True,
    every: int = 500,
    progress: bool = False,
) -> SweepReport:
    """Run the ``specs`` the ``store`` does not hold as done, in parallel, appending each record as
    its job finishes. Runs trained one by one checkpoint into the store's folder
    (``checkpoints/KEY.pt``, every ``every`` steps) and a re-run resumes them."""
    began = time.perf_counter()
    done, failed = store.done(), store.failed()
    todo = [s for s in specs if s.key not in done and (retry_failed or s.key not in failed)]
    todo = list({s.key: s for s in todo}.values())  # a run named twice runs once
    jobs: dict[Any, list[ExperimentSpec]] = {}
    for spec in todo:
        jobs.setdefault(seedless(spec) if batch_seeds else spec.key, []).append(spec)
    folder = store.path.parent / "checkpoints"
    folder.mkdir(exist_ok=True)
    completed = failures = lost = 0
    reason = ""
    with executor(workers, scheduler) as pool:
        futures = {pool.submit(run_job, [s.to_dict() for s in job], str(folder), every): len(job) for job in jobs.values()}
        bar = tqdm(total=len(todo), disable=not progress, desc="sweep", unit="run")
        for future in as_completed(futures):
            try:
                records = future.result()
            except Exception as error:  # the worker itself was lost (killed, out of memory): not the run's fault,
                lost += futures[future]  # so nothing is recorded and a re-run of the sweep runs it again
                reason = reason or f"{type(error).__name__}: {error}".strip().rstrip(":")
                continue
            for record in records:
                store.append(record)
                completed += record["status"] != FAILED
                failures += record["status"] == FAILED
                bar.update()
        bar.close()
    return SweepReport(len(specs), len(specs) - len(todo), completed, failures, time.perf_counter() - began, lost, reason)


def load_sweep(path: str | Path) -> list[ExperimentSpec]:
    """``read_sweep`` of a file."""
    try:
        text = Path(path).read_text()
    except OSError as error:
        raise SettingError("sweep", f"cannot read {str(path)!r}: {error.strerror}") from None
    return read_sweep(text)
