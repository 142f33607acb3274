"""How far the toolkit's numbers move between CPUs: the golden set under every math-library code path.

    python benchmarks/math_paths.py [--paths NAME ...]

A CPU takes one code path through each math library: MKL (torch's BLAS and LAPACK here) picks one by
instruction set (``MKL_CBWR`` forces one: AUTO, COMPATIBLE, AVX2, SSE4_2, AVX512; on AMD CPUs MKL
takes only AUTO and COMPATIBLE and maps the others to AUTO), OpenBLAS (numpy's) by core type
(``OPENBLAS_CORETYPE``), torch's own kernels by capability (``ATEN_CPU_CAPABILITY``: default, the
scalar path of CPUs without AVX2, avx2, avx512), and each by its thread count. Each path runs
``tests/golden.py`` (every process's fingerprint, the golden training runs in float32 and float64,
the metrics of a seeded code) and the condition numbers of the mixing's 10^4 reference draws in a
fresh process. Printed: the distinct fingerprints per process (1 is the promise), and per number
the largest difference from the first path, the spread the tests' tolerances are derived from.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# name -> the environment that forces it (on top of the caller's, with these variables cleared)
PATHS = {
    "as installed": {},
    "MKL AUTO": {"MKL_CBWR": "AUTO"},
    "MKL COMPATIBLE": {"MKL_CBWR": "COMPATIBLE"},
    "MKL AVX2": {"MKL_CBWR": "AVX2"},
    "MKL SSE4_2": {"MKL_CBWR": "SSE4_2"},
    "MKL AVX512": {"MKL_CBWR": "AVX512"},
    "OpenBLAS Haswell": {"OPENBLAS_CORETYPE": "Haswell"},
    "OpenBLAS SkylakeX": {"OPENBLAS_CORETYPE": "SkylakeX"},
    "OpenBLAS Prescott": {"OPENBLAS_CORETYPE": "Prescott"},
    "torch scalar kernels": {"ATEN_CPU_CAPABILITY": "default"},
    "torch AVX2 kernels": {"ATEN_CPU_CAPABILITY": "avx2"},
    "2 threads": {"OMP_NUM_THREADS": "2"},
    "MKL COMPATIBLE, scalar kernels, 2 threads": {"MKL_CBWR": "COMPATIBLE", "ATEN_CPU_CAPABILITY": "default",
                                                  "OMP_NUM_THREADS": "2"},
}
CLEARED = ("MKL_CBWR", "OPENBLAS_CORETYPE", "ATEN_CPU_CAPABILITY", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

CHILD = """
import json, sys, torch
sys.path.insert(0, {tests!r})
import golden
from identifiability.processes.mixing import _uniform_draws, unit_columns
from identifiability._core import as_generator
out = golden.measure()
out["conditions"] = torch.linalg.cond(unit_columns(_uniform_draws(10_000, 5, as_generator(0)))).tolist()
print(json.dumps(out))
"""


def measure(env: dict[str, str]) -> dict:
    """The golden set and the reference draws' condition numbers in a fresh process under ``env``
    (one thread unless it says otherwise)."""
    environment = {k: v for k, v in os.environ.items() if k not in CLEARED} | {"OMP_NUM_THREADS": "1"} | env
    out = subprocess.run([sys.executable, "-c", CHILD.format(tests=str(ROOT / "tests"))], env=environment, cwd=ROOT,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--paths", nargs="*", default=list(PATHS), choices=list(PATHS), metavar="NAME")
    args = parser.parse_args()
    results = {}
    for name in args.paths:
        results[name] = measure(PATHS[name])
        print(f"measured: {name}", file=sys.stderr)
    first = results[args.paths[0]]

    print("fingerprints (distinct values across paths; 1 is the promise):")
    for label in first["fingerprints"]:
        values = sorted({r["fingerprints"][label] for r in results.values()})
        print(f"  {label:<45} {len(values)}  {' '.join(values)}")

    def spread(get) -> float:
        base = get(first)
        return max(max(abs(a - b) for a, b in zip(get(r), base)) for r in results.values())

    print("\nlargest difference from the first path (affine R^2, MCC, final loss):")
    for dtype in first["runs"]:
        for run in first["runs"][dtype]:
            values = [abs(a - b) for r in results.values() for a, b in zip(r["runs"][dtype][run], first["runs"][dtype][run])]
            per = [max(abs(r["runs"][dtype][run][i] - first["runs"][dtype][run][i]) for r in results.values()) for i in range(3)]
            print(f"  {dtype} {run:<24} {per[0]:.1e} {per[1]:.1e} {per[2]:.1e}   (largest {max(values):.1e})")
    print(f"\nmetrics of the seeded code: {spread(lambda r: r['metrics']):.1e}")
    relative = max(max(abs(a / b - 1) for a, b in zip(r["conditions"], first["conditions"])) for r in results.values())
    print(f"condition numbers of the mixing's reference draws (d = 5), relative: {relative:.1e}")
    print("\nper path, float32 golden runs (R^2, MCC):")
    for name, r in results.items():
        print(f"  {name:<45} " + "  ".join(f"{v[0]:.6f} {v[1]:.6f}" for v in r["runs"]["float32"].values()))


if __name__ == "__main__":
    main()
