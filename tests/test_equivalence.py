"""Issue 27: the two one-sided test behind equivalence findings (claims.Equivalent)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from identifiability._core import SettingError
from identifiability.claims import equivalence_p_value


@settings(max_examples=200, deadline=None)
@given(n=st.integers(2, 12), mean=st.floats(-0.1, 0.1), spread=st.floats(1e-3, 0.1), margin=st.floats(0.005, 0.1),
       seed=st.integers(0, 10_000), alpha=st.sampled_from([0.05, 0.1]))
def test_tost_rejects_exactly_where_the_1_minus_2_alpha_interval_lies_inside_the_margin(n, mean, spread, margin, seed, alpha):
    """The TOST at level alpha rejects |mean difference| >= margin exactly where the two-sided
    (1 - 2 alpha) t interval of the mean lies within (-margin, margin) (Schuirmann 1987)."""
    d = mean + spread * np.random.default_rng(seed).standard_normal(n)
    low, high = stats.t.interval(1 - 2 * alpha, n - 1, loc=d.mean(), scale=stats.sem(d))
    inside = -margin < low and high < margin
    p = equivalence_p_value(d, margin)
    if abs(low + margin) > 1e-9 and abs(high - margin) > 1e-9:  # not on the boundary, where rounding decides
        assert (p < alpha) == inside


def test_tost_at_its_edges():
    assert equivalence_p_value(np.array([0.01, 0.01, 0.01]), 0.02) == 0.0  # no spread, inside
    assert equivalence_p_value(np.array([0.03, 0.03]), 0.02) == 1.0  # no spread, outside
    assert equivalence_p_value(np.array([0.0, 0.5, -0.5]), 0.02) > 0.4  # too noisy to say anything
    with pytest.raises(SettingError, match="2 paired seeds"):
        equivalence_p_value(np.array([0.0]), 0.02)
