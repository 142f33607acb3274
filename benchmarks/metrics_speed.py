"""Speed and agreement of the metrics, as ratios against references run in the same process.

    python benchmarks/metrics_speed.py [--n 1000000] [--d 64 384 ...] [--device cpu] [--large-d 64 128 384 512]

1. Pearson MCC and affine R^2 at (n, d) against the one matrix product each needs: z_hat^T z for
   the correlation matrix, z_hat^T [z_hat, z] for the normal equations (float64, same device).
2. DCI with LightGBM tree importances against sklearn's GradientBoostingRegressor (the
   disentanglement_lib predictor) at n = 10^4, 10 factors, codes from disentangled to fully mixed.
3. The MCC null: first call and cached call.
4. A run's whole held-out evaluation at large d (n = 1000, ``--large-d``): every score of the code
   (affine R^2, MCC, the participation ratio, the linear profile) with its nulls, first with the nulls
   computed (a process's first run at that shape) and then cached (its later runs), and the raw
   observations' scores (no nulls).
5. The kernel R^2's grid search (the smooth and block classes, ``nonlinear_r2``) against scikit-learn's
   GridSearchCV(KernelRidge) it replaces: time, chosen grid point and largest prediction difference, at
   the fit rows ``max_train`` 500, 1000 and 2000 give (two thirds of them per fold).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from sklearn.kernel_ridge import KernelRidge
from sklearn.model_selection import GridSearchCV

from identifiability.experiment import score_codes
from identifiability.metrics import affine_r2, dci, mcc
from identifiability.metrics.kernel_ridge import fit_rbf_ridge
from identifiability.metrics.r2 import ALPHAS, GAMMAS
from identifiability.specs import Evaluation


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return min(times)


def linear_scores(n: int, d: int, device: str) -> None:
    gen = torch.Generator(device=device).manual_seed(0)
    z = torch.randn(n, d, generator=gen, device=device, dtype=torch.float64)
    z_hat = z @ torch.randn(d, d, generator=gen, device=device, dtype=torch.float64)
    corr_ref = best_of(lambda: z_hat.T @ z)
    normal_ref = best_of(lambda: z_hat.T @ torch.cat([z_hat, z], 1))
    t_mcc = best_of(lambda: mcc(z_hat, z))
    t_r2 = best_of(lambda: affine_r2(z_hat, z))
    print(f"## linear scores, n={n}, d={d}, {device}, float64")
    print("| metric | seconds | reference product | seconds | ratio |")
    print("|---|---|---|---|---|")
    print(f"| mcc (pearson) | {t_mcc:.3f} | z_hat^T z | {corr_ref:.3f} | {t_mcc / corr_ref:.2f} |")
    print(f"| affine_r2 (+ in-sample, reverse) | {t_r2:.3f} | z_hat^T [z_hat, z] | {normal_ref:.3f} | {t_r2 / normal_ref:.2f} |")


def dci_agreement(n: int = 10_000, d: int = 10) -> None:
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(n, d, generator=gen, dtype=torch.float64)
    print(f"\n## DCI, n={n}, {d} factors, {d} codes: LightGBM (gbt) vs sklearn GradientBoostingRegressor")
    print("| code | D gbt | D sklearn | C gbt | C sklearn | I gbt | I sklearn | s gbt | s sklearn | speed-up |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for mix in (0.0, 0.25, 0.5, 1.0, 3.0):
        a = torch.eye(d, dtype=torch.float64) + mix * torch.randn(d, d, generator=gen, dtype=torch.float64)
        code = z @ a + 0.1 * torch.randn(n, d, generator=gen, dtype=torch.float64)
        start = time.perf_counter()
        fast = dci(code, z, importance="gbt", null=False)
        t_fast = time.perf_counter() - start
        start = time.perf_counter()
        slow = dci(code, z, importance="gbt-sklearn", null=False)
        t_slow = time.perf_counter() - start
        print(
            f"| I + {mix} G | {fast.disentanglement:.3f} | {slow.disentanglement:.3f} | {fast.completeness:.3f} | "
            f"{slow.completeness:.3f} | {fast.informativeness:.3f} | {slow.informativeness:.3f} | "
            f"{t_fast:.2f} | {t_slow:.2f} | {t_slow / t_fast:.1f}x |"
        )


def null_speed(n: int = 10_000, d: int = 10) -> None:
    z_hat, z = torch.randn(n, d), torch.randn(n, d)
    start = time.perf_counter()
    mcc(z_hat, z, null=True)
    first = time.perf_counter() - start
    start = time.perf_counter()
    mcc(z_hat, z, null=True)
    cached = time.perf_counter() - start
    print(f"\n## MCC with null, n={n}, d={d}: first call {first:.2f} s, cached call {cached * 1e3:.1f} ms")


def large_d_evaluation(dims: list[int], n: int = 1000) -> None:
    print(f"\n## a run's held-out evaluation at n = {n} (CPU, {torch.get_num_threads()} threads)")
    print("| d | scores with nulls, first s | scores with cached nulls s | raw x's scores s |")
    print("|---|---|---|---|")
    evaluation = Evaluation()
    for d in dims:
        gen = torch.Generator().manual_seed(d)
        z = torch.randn(n, d, generator=gen)
        z_hat = torch.tanh(z @ torch.randn(d, d, generator=gen) / d**0.5)
        start = time.perf_counter()
        score_codes(z_hat, z, evaluation, nulls=True)
        first = time.perf_counter() - start
        cached = best_of(lambda: score_codes(z_hat, z, evaluation, nulls=True), repeat=1)
        raw = best_of(lambda: score_codes(z_hat, z, evaluation, nulls=False), repeat=1)
        print(f"| {d} | {first:.1f} | {cached:.1f} | {raw:.1f} |", flush=True)


def kernel_ridge_agreement(rows: tuple[int, ...] = (500, 1000, 2000), d: int = 5) -> None:
    print(f"\n## kernel R^2's grid search ({len(ALPHAS)} x {len(GAMMAS)}, 3 folds) against GridSearchCV(KernelRidge), d = {d}")
    print("| fit rows | ours s | GridSearchCV s | speed-up | same grid point | largest prediction difference |")
    print("|---|---|---|---|---|---|")
    for m in rows:
        rng = np.random.default_rng(m)
        x = rng.normal(size=(m, d))
        y = np.tanh(x @ rng.normal(size=(d, d))) + 0.1 * rng.normal(size=(m, d))
        gammas = np.array(GAMMAS) / d
        start = time.perf_counter()
        fitted = fit_rbf_ridge(x, y, ALPHAS, gammas)
        ours = time.perf_counter() - start
        start = time.perf_counter()
        search = GridSearchCV(KernelRidge(kernel="rbf"), {"alpha": list(ALPHAS), "gamma": gammas}, cv=3).fit(x, y)
        theirs = time.perf_counter() - start
        same = (fitted.alpha, fitted.gamma) == (search.best_params_["alpha"], search.best_params_["gamma"])
        held = rng.normal(size=(1000, d))
        gap = float(np.abs(fitted.predict(held) - search.predict(held)).max())
        print(f"| {m} | {ours:.3f} | {theirs:.3f} | {theirs / ours:.1f}x | {same} | {gap:.1e} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--d", type=int, nargs="+", default=[64], help="one or more widths for part 1")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--skip-dci", action="store_true")
    parser.add_argument("--large-d", type=int, nargs="*", default=[64, 128, 384, 512])
    args = parser.parse_args()
    for d in args.d:
        linear_scores(args.n, d, args.device)
    if not args.skip_dci:
        dci_agreement()
    null_speed()
    large_d_evaluation(args.large_d)
    kernel_ridge_agreement()


if __name__ == "__main__":
    main()
