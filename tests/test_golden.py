"""Golden numbers (``golden.py``): here, and under other math-library code paths in fresh processes.

The numbers are pinned on one machine; each tolerance comes from their spread across 13 code paths
(``benchmarks/math_paths.py``), so they hold on any CPU. The subprocess test forces paths whose
last bits differ from the default one on any x86 machine (MKL's COMPATIBLE path, torch's scalar
kernels, another thread count), so a number that starts to depend on the path fails here, on the
machine where it was pinned, and not first on a newcomer's.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import golden

TESTS = Path(__file__).parent


def assert_matches(measured: dict) -> None:
    """``golden.measure()``'s output (JSON-decoded) equals the pinned numbers within their tolerances."""
    assert measured["fingerprints"] == golden.FINGERPRINTS
    for dtype, runs in golden.GOLDEN_RUNS.items():
        for (process, objective), pinned in runs.items():
            got = measured["runs"][dtype][f"{process}/{objective}"]
            assert got == pytest.approx(pinned, abs=golden.TOLERANCE[dtype]), (dtype, process, objective)
    assert measured["metrics"] == pytest.approx(golden.METRICS, abs=golden.METRICS_TOLERANCE)


def test_every_process_keeps_its_mechanism():
    assert golden.fingerprints() == golden.FINGERPRINTS


def test_the_fingerprint_sees_the_draws_and_settings_not_what_is_computed_from_them():
    import torch

    from identifiability.processes import LatentDynamics, fingerprint

    data = LatentDynamics("action", 3, observed_dim=5, seed=0)
    base = fingerprint(data)
    # what LAPACK computes from the draws: one ulp moved (a CPU's rounding) moves nothing
    for owner, name in ((data.mixing, "_inverses"), (data.mixing, "_weights"), (data.mixing, "_lift"), (data, "_rotation")):
        value = getattr(owner, name)
        setattr(owner, name, torch.nextafter(value, value + 1))
        assert fingerprint(data) == base, name
    # a draw one ulp away, or another setting, is another mechanism
    draw = data.mixing.weight_draws
    draw[0, 0, 0] = torch.nextafter(draw[0, 0, 0], torch.tensor(2.0, dtype=draw.dtype))
    assert fingerprint(data) != base
    assert fingerprint(LatentDynamics("action", 3, observed_dim=5, seed=0, rho=0.9 + 1e-12)) != fingerprint(
        LatentDynamics("action", 3, observed_dim=5, seed=0))


@pytest.mark.parametrize("dtype", golden.GOLDEN_RUNS)
def test_seeded_runs_keep_their_numbers(dtype):
    got = golden.runs(dtype)
    for run, pinned in golden.GOLDEN_RUNS[dtype].items():
        assert got[run] == pytest.approx(pinned, abs=golden.TOLERANCE[dtype]), run


def test_metrics_keep_their_numbers_on_a_seeded_code():
    assert golden.metrics() == pytest.approx(golden.METRICS, abs=golden.METRICS_TOLERANCE)


# Paths that change the last bits of the default one on any x86 CPU (measured by benchmarks/math_paths.py
# on an AMD EPYC, where MKL takes no other path; on Intel, MKL_CBWR=COMPATIBLE is an SSE2 path).
OTHER_PATHS = {
    "MKL COMPATIBLE, 2 threads": {"MKL_CBWR": "COMPATIBLE", "OMP_NUM_THREADS": "2"},
    "torch scalar kernels, OpenBLAS Prescott": {"ATEN_CPU_CAPABILITY": "default", "OPENBLAS_CORETYPE": "Prescott"},
}


@pytest.mark.parametrize("path", OTHER_PATHS)
def test_the_golden_numbers_hold_on_another_math_library_path(path):
    env = {k: v for k, v in os.environ.items() if k not in ("MKL_CBWR", "ATEN_CPU_CAPABILITY", "OPENBLAS_CORETYPE")}
    out = subprocess.run([sys.executable, str(TESTS / "golden.py")], env=env | {"OMP_NUM_THREADS": "1"} | OTHER_PATHS[path],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert_matches(json.loads(out.stdout))
