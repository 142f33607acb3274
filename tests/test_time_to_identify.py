"""The information one sphere pair carries, as benchmarks/time_to_identify.py computes it for its table
and for ``--information-of`` (the kappa at which each d matches a per-dimension information)."""

import importlib.util
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import i0e, i1e

from identifiability import ExperimentSpec
from identifiability.experiment import build

PATH = Path(__file__).parents[1] / "benchmarks" / "time_to_identify.py"
_spec = importlib.util.spec_from_file_location("time_to_identify", PATH)
benchmark = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(benchmark)  # type: ignore[union-attr]

KAPPAS = st.floats(1e-2, 200)


@settings(max_examples=50, deadline=None)
@given(KAPPAS)
def test_pair_information_is_the_closed_form_on_the_circle_and_on_s2(kappa):
    # S^1: I = kappa I_1 / I_0 - log I_0 (the von Mises law's entropy against the uniform's log 2 pi);
    # S^2: I = log(kappa / sinh kappa) + kappa coth kappa - 1, written without overflow
    circle = kappa * i1e(kappa) / i0e(kappa) - (math.log(i0e(kappa)) + kappa)
    sphere = math.log(2 * kappa) - kappa - math.log1p(-math.exp(-2 * kappa)) + kappa / math.tanh(kappa) - 1
    # measured: within 2e-11 relative (the Bessel ratios' rounding at small kappa, where I ~ kappa^2 / 2d)
    assert benchmark.pair_information(2, kappa) == pytest.approx(circle, rel=1e-9, abs=1e-12)
    assert benchmark.pair_information(3, kappa) == pytest.approx(sphere, rel=1e-9, abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 60), KAPPAS)
def test_kappa_for_inverts_the_per_dimension_information(dim, kappa):
    per_dimension = benchmark.pair_information(dim, kappa) / (dim - 1)
    # the information is increasing in kappa; the round trip's error is pair_information's cancellation
    # at small kappa (I ~ kappa^2 / 2d): at most 2.9e-8 relative (d = 60, kappa 0.01)
    assert math.isclose(benchmark.kappa_for(dim, per_dimension), kappa, rel_tol=1e-6)


def test_the_default_problem_at_d_10_matches_kappa_21_at_d_20_and_44_at_d_40():
    # the figures benchmarks/gpu.sh, the benchmark's docstring and the README quote, at the problem's own kappa
    kappa = build(ExperimentSpec.from_settings(latent_dim=10)).data.kappa
    per_dimension = benchmark.pair_information(10, kappa) / 9  # 0.276 nats
    assert [round(benchmark.kappa_for(d, per_dimension), 1) for d in (5, 10, 20, 40)] == [4.4, 10.0, 21.3, 43.9]
