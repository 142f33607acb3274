import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from identifiability.metrics import participation_ratio, random_orthogonal

scales = st.lists(st.floats(0.1, 10.0), min_size=1, max_size=8)


@settings(max_examples=25, deadline=None)
@given(scales, st.integers(0, 2**16))
def test_the_participation_ratio_of_independent_columns_is_the_closed_form(s, seed):
    # population: (sum s^2)^2 / sum s^4; with 20 000 rows each eigenvalue is within ~2 % (4 standard errors)
    s = np.array(s)
    z = np.random.default_rng(seed).normal(size=(20_000, len(s))) * s
    expected = (s**2).sum() ** 2 / (s**4).sum()
    assert participation_ratio(z) == pytest.approx(expected, rel=0.05)


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 6), st.integers(0, 2**16), st.floats(1e-150, 1e150))
def test_the_participation_ratio_is_invariant_to_rotations_and_scale(d, seed, scale):
    z = torch.randn(500, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * torch.arange(1, d + 1)
    q = random_orthogonal(d, torch.Generator().manual_seed(seed + 1))
    assert participation_ratio(scale * z @ q) == pytest.approx(participation_ratio(z), rel=1e-9)


def test_a_collapsed_code_has_a_participation_ratio_of_one_or_zero():
    line = torch.randn(300, 1, generator=torch.Generator().manual_seed(0)) @ torch.ones(1, 4)
    assert participation_ratio(line) == pytest.approx(1.0)
    assert participation_ratio(torch.full((10, 3), 7.0)) == 0.0


@pytest.mark.parametrize("bad,message", [(np.array([[np.nan, 1.0], [0.0, 1.0]]), "NaN"), (np.ones((1, 3)), "2 rows"),
                                         (np.ones(5), "2-D")])
def test_the_participation_ratio_refuses_what_it_cannot_measure(bad, message):
    with pytest.raises(ValueError, match=message):
        participation_ratio(bad)
