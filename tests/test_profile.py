"""The equivalence-class profile: known outcomes with closed-form scores, nulls, invariances, hostile inputs."""

import dataclasses
import json

import numpy as np
import pytest
import torch
from hypothesis import Phase, assume, given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from identifiability.metrics import CLASSES, Profile, profile
from identifiability.metrics.profile import coarser, finest_of
from identifiability.metrics.strategies import MAPS

N = 4000
SMALL = 1200  # rows where kernel fits on 300 of them suffice
EXPENSIVE = (Phase.explicit, Phase.reuse, Phase.generate)  # no shrinking: each example fits kernel ridges
ROOT3 = np.sqrt(3)


def uniform(n, d, seed):
    return np.random.default_rng(seed).uniform(-ROOT3, ROOT3, (n, d))  # unit variance


def orthogonal_far_from_permutations(d, rng):
    while True:
        q = np.linalg.qr(rng.normal(size=(d, d)))[0]
        if np.abs(q).max() < 0.9:
            return q


def population_permutation(correlation):
    """Mean corr^2 over the best matching (of |corr|) of a (d_hat, d) population correlation matrix."""
    rows, cols = linear_sum_assignment(np.abs(correlation), maximize=True)
    return np.square(correlation[rows, cols]).sum() / correlation.shape[1]


def population_orthogonal(singular_values):
    """R^2 of unit-variance independent z from z A by the best similarity map, A's singular values
    s: one scale c = sum s / sum s^2 fits every direction, leaving (1 - c s_i)^2 of each."""
    s = np.asarray(singular_values, dtype=float)
    return 1 - np.mean((1 - s.sum() / np.square(s).sum() * s) ** 2)


def leaky(x, slope=0.2):
    return np.where(x > 0, x, slope * x)


# --- known outcomes -----------------------------------------------------------------------------


def test_permuted_scaled_copy_reaches_permutation_and_every_coarser_class():
    z = uniform(N, 4, 0)
    scales = np.array([0.5, -1.0, 2.0, -3.0])
    p = profile(z[:, [2, 0, 3, 1]] * scales, z)
    for cls in ("permutation", "monotone", "affine"):
        assert p.scores[cls] == pytest.approx(1, abs=1e-9), cls
    assert p.scores["smooth"] >= 0.98
    assert p.scores["orthogonal"] == pytest.approx(population_orthogonal(np.abs(scales)), abs=0.02)  # 0.72
    assert p.reached == ("permutation", "monotone", "affine", "smooth")
    assert p.finest == ("permutation",)


@pytest.mark.parametrize("law", ["uniform", "laplace"])
def test_rotated_copy_reaches_orthogonal_not_permutation(law):
    rng = np.random.default_rng(1)
    z = uniform(N, 4, 1) if law == "uniform" else rng.laplace(size=(N, 4)) / np.sqrt(2)
    q = orthogonal_far_from_permutations(4, rng)
    p = profile(z @ q, z)
    assert p.scores["orthogonal"] >= 0.995
    assert p.scores["affine"] == pytest.approx(1, abs=1e-9)
    assert p.scores["permutation"] == pytest.approx(population_permutation(q.T), abs=0.02)  # corr(z_hat_i, z_j) = q_ji
    assert p.scores["monotone"] < 0.9
    assert p.finest == ("orthogonal",)


def test_affine_copy_with_condition_number_4_reaches_affine_only():
    rng = np.random.default_rng(2)
    z = uniform(N, 4, 2)
    s = np.array([1.0, 2.0, 3.0, 4.0])
    a = orthogonal_far_from_permutations(4, rng) @ np.diag(s) @ orthogonal_far_from_permutations(4, rng)
    p = profile(z @ a + 5, z)
    assert p.scores["affine"] == pytest.approx(1, abs=1e-9)
    assert p.scores["orthogonal"] == pytest.approx(population_orthogonal(s), abs=0.02)  # 0.833
    assert p.scores["permutation"] == pytest.approx(population_permutation(a.T / np.linalg.norm(a, axis=0)[:, None]), abs=0.02)
    assert p.scores["permutation"] < 0.9 and p.scores["monotone"] < 0.9
    assert p.finest == ("affine",)


def test_permuted_elementwise_cubic_reaches_monotone_not_affine():
    z = uniform(N, 4, 3)
    rho = MAPS["z^3"][2]  # corr(u, u^3) for uniform u, closed form: 0.917
    p = profile(z[:, [1, 3, 0, 2]] ** 3 * [1, -1, 2, 1], z)
    assert p.scores["monotone"] == pytest.approx(1, abs=1e-9)
    assert p.scores["permutation"] == pytest.approx(rho**2, abs=0.02)  # on the R^2 scale, as affine
    assert p.parts["affine_forward"] == pytest.approx(rho**2, abs=0.02)
    assert p.parts["affine_reverse"] == pytest.approx(rho**2, abs=0.02)
    assert p.scores["smooth"] >= 0.95
    assert p.finest == ("monotone",)
    # a looser tolerance lets the linear classes in: 0.84 passes 0.8 (permutation and affine), the orthogonal 0.75 does not
    loose = profile(z[:, [1, 3, 0, 2]] ** 3 * [1, -1, 2, 1], z, tolerance=0.2)
    assert loose.scores == p.scores
    assert loose.reached == ("permutation", "monotone", "affine", "smooth") and loose.finest == ("permutation",)


def test_invertible_leaky_relu_mixing_reaches_smooth_only():
    rng = np.random.default_rng(4)
    z = uniform(N, 3, 4)
    p = profile(leaky(leaky(z @ orthogonal_far_from_permutations(3, rng)) @ orthogonal_far_from_permutations(3, rng)), z)
    assert p.scores["smooth"] >= 0.95
    assert max(p.scores[c] for c in ("permutation", "orthogonal", "monotone", "affine")) < 0.9
    assert p.finest == ("smooth",)


def within_blocks(z):
    """Nonlinear, invertible mixing inside blocks (0, 1) and (2, 3), none across them."""
    r = np.array([[0.8, -0.6], [0.6, 0.8]])
    first, second = z[:, :2] @ r, z[:, 2:] @ r
    return np.concatenate([np.tanh(first) + 0.3 * first, second**3 + second], 1)


BLOCKS = [[0, 1], [2, 3]]


def test_invertible_maps_within_blocks_reach_smooth_and_block():
    z = uniform(N, 4, 5)
    p = profile(within_blocks(z), z, blocks=BLOCKS)
    assert min(p.block_scores) >= 0.95 and p.scores["block"] == min(p.block_scores)
    assert p.code_blocks == ((0, 1), (2, 3))  # each code column goes to the block that explains it
    assert p.scores["smooth"] >= 0.95 and p.scores["affine"] < 0.95
    assert p.finest == ("smooth", "block")  # neither is coarser than the other


def test_a_block_part_holds_all_of_its_block_and_only_it():
    """von Kugelgen et al.'s definition: the code's part assigned to B is h(z_B), h invertible."""
    z = uniform(N, 4, 6)
    b, other = within_blocks(z)[:, :2], within_blocks(z)[:, 2:]
    alone = profile(np.concatenate([b, other], 1), z, blocks=BLOCKS, code_blocks=[[0, 1], [2, 3]], classes=("block",))
    assert min(alone.block_scores) >= 0.95 and alone.reached == ("block",)
    mixed = profile(np.concatenate([b, other], 1), z, blocks=BLOCKS, code_blocks=[[0, 1, 2, 3], []], classes=("block",))
    assert mixed.block_scores[0] < 0.6 and mixed.block_scores[1] == 0  # [z_B, z_other] for B: carries the other block
    assert mixed.reached == ()


def test_unrelated_extra_dimensions_reach_neither_smooth_nor_block():
    z = uniform(N, 4, 6)
    code = np.concatenate([within_blocks(z), np.random.default_rng(6).normal(size=(N, 2))], 1)
    p = profile(code, z, blocks=BLOCKS)
    assert p.parts["smooth_forward"] >= 0.95
    # z explains 4 of the 6 code columns: the reverse R^2 is about 4 / 6
    assert p.parts["smooth_reverse"] == pytest.approx(4 / 6, abs=0.05)
    assert p.scores["block"] < 0.9 and p.finest == ()  # the noise columns join a block's part: not only that block
    told = profile(code, z, blocks=BLOCKS, code_blocks=[[0, 1], [2, 3]], classes=("block",))
    assert told.reached == ("block",)  # the noise columns assigned to no block


def test_a_code_of_one_block_recovers_that_block_only():
    z = uniform(N, 4, 7)
    p = profile(within_blocks(z)[:, :2], z, blocks=BLOCKS)
    assert p.block_scores[0] >= 0.95 and abs(p.block_scores[1]) < 0.05
    assert p.scores["block"] == p.block_scores[1]
    assert p.reached == () and p.finest == ()


def test_independent_code_reaches_nothing_and_scores_within_its_null():
    rng = np.random.default_rng(8)
    z, code = uniform(1000, 3, 8), rng.normal(size=(1000, 3))
    p = profile(code, z, blocks=[[0], [1, 2]], null=True)
    assert p.reached == () and p.finest == ()
    assert set(p.nulls) >= set(CLASSES) | set(p.parts)
    for cls, score in p.scores.items():
        assert score <= p.nulls[cls] + 0.02, (cls, score, p.nulls[cls])
    assert 0.0004 < p.nulls["permutation"] < 0.0225  # best-matched corr^2 of 500 held-out rows
    assert all(-0.05 < p.nulls[c] < 0.05 for c in ("orthogonal", "affine", "smooth", "block"))
    copy = profile(z, z, blocks=[[0], [1, 2]], null=True)  # the same shapes: the cached null
    assert copy.nulls == p.nulls
    assert copy.finest == ("permutation", "orthogonal")


def test_semi_orthogonal_maps_and_the_latents_own_scale():
    rng = np.random.default_rng(15)
    z = uniform(SMALL, 4, 15)
    q = orthogonal_far_from_permutations(6, rng)[:4]  # (4, 6), orthonormal rows: z = z_hat q^T
    embedded = profile(z @ q, z, max_train=300)
    assert embedded.scores["orthogonal"] >= 0.99 and embedded.scores["affine"] == pytest.approx(1, abs=1e-9)
    u = orthogonal_far_from_permutations(4, rng)[:, :2]  # (4, 2) orthonormal columns
    projected = profile(z @ u, z, max_train=300)  # semi-orthogonal onto 2 dims: half of z's variance
    assert projected.scores["orthogonal"] == pytest.approx(0.5, abs=0.03)


@settings(max_examples=10, derandomize=True, phases=EXPENSIVE)
@given(seed=st.integers(0, 2**16), d=st.integers(2, 5), log_scales=st.data())
def test_orthogonal_is_a_rotation_of_z_itself_not_of_its_standardisation(seed, d, log_scales):
    """The class z_hat = c Q z + b: any rotation of z with unequal scales reaches it; standardising
    those z per column (an affine map, not an orthogonal one) does not."""
    scales = np.exp(log_scales.draw(st.lists(st.floats(-2, 2), min_size=d, max_size=d)))
    # standardised, z_j = s_j u_j is best matched by c u_j with c = mean(s): population score
    # 1 - sum (s - mean s)^2 / sum s^2; drawn where it lies below 0.9, clear of the tolerance's 0.95
    population = 1 - np.sum((scales - scales.mean()) ** 2) / np.sum(scales**2)
    assume(population < 0.9)
    rng = np.random.default_rng(seed)
    z = uniform(SMALL, d, seed) * scales + rng.normal(size=d)
    q = np.linalg.qr(rng.normal(size=(d, d)))[0]
    rotated = profile(-3 * z @ q.T + 1, z, classes=("orthogonal", "affine"))
    assert rotated.scores["orthogonal"] >= 0.999 and "orthogonal" in rotated.reached
    standardised = profile((z - z.mean(0)) / z.std(0), z, classes=("orthogonal", "affine"))
    assert standardised.scores["orthogonal"] == pytest.approx(population, abs=0.02)
    assert "orthogonal" not in standardised.reached
    assert standardised.scores["affine"] == pytest.approx(1, abs=1e-9)


# --- invariances --------------------------------------------------------------------------------


def mixed_code(seed):
    rng = np.random.default_rng(seed)
    z = uniform(SMALL, 3, seed)
    return z, z @ orthogonal_far_from_permutations(3, rng)


def all_numbers(p):
    return {**p.scores, **p.parts}


@settings(max_examples=4, derandomize=True, phases=EXPENSIVE)
@given(perm=st.permutations(range(3)), scale=st.floats(1e-3, 1e3), offset=st.lists(st.floats(-100, 100), min_size=3, max_size=3))
def test_scores_are_invariant_to_permuting_scaling_and_shifting_the_code(perm, scale, offset):
    z, code = mixed_code(9)
    base = profile(code, z, max_train=300)
    moved = profile(code[:, perm] * scale + np.array(offset), z, max_train=300)
    for name, value in all_numbers(base).items():
        assert all_numbers(moved)[name] == pytest.approx(value, abs=1e-6), name


@settings(max_examples=4, derandomize=True, phases=EXPENSIVE)
@given(scales=st.lists(st.floats(0.2, 5), min_size=3, max_size=3))
def test_column_scales_change_the_orthogonal_score_only(scales):
    assume(max(scales) >= 3 * min(scales))
    z, code = mixed_code(10)  # a rotation of z: orthogonal score 1
    base = profile(code, z, max_train=300)
    stretched = profile(code * scales, z, max_train=300)
    assert base.scores["orthogonal"] >= 0.99
    # z Q diag(s) has singular values s: not z_hat per column whitened, or this would stay 1
    assert stretched.scores["orthogonal"] == pytest.approx(population_orthogonal(scales), abs=0.02)
    assert stretched.scores["orthogonal"] < 0.95
    for name, value in all_numbers(base).items():
        if name != "orthogonal":
            assert all_numbers(stretched)[name] == pytest.approx(value, abs=1e-6), name


# --- the partial order --------------------------------------------------------------------------


@given(st.sets(st.sampled_from(CLASSES)))
def test_finest_is_the_set_of_minimal_reached_classes(reached):
    finest = finest_of(tuple(reached))
    assert set(finest) <= reached
    assert not any(a in coarser(b) for a in finest for b in finest)
    assert all(r in finest or any(r in coarser(f) for f in finest) for r in reached)


def test_the_order_of_the_classes():
    assert finest_of(CLASSES) == ("permutation", "orthogonal")
    assert finest_of(("monotone", "affine", "smooth")) == ("monotone", "affine")
    assert finest_of(("smooth", "block")) == ("smooth", "block")  # a smooth map mixes blocks; a blockwise one may drop z
    assert coarser("permutation") == {"monotone", "affine", "smooth", "block"}
    assert coarser("monotone") == {"smooth", "block"}
    assert coarser("orthogonal") == {"affine", "smooth"}
    assert coarser("block") == set() and coarser("smooth") == set()


@settings(max_examples=12, derandomize=True, phases=EXPENSIVE)
@given(seed=st.integers(0, 2**16), noise=st.floats(0.0, 0.5), power=st.sampled_from([1, 3]),
       tolerance=st.floats(0.01, 0.3))
def test_the_reached_classes_form_the_lattice(seed, noise, power, tolerance):
    """For any code: permutation reached implies affine reached (and so does orthogonal), monotone
    reached implies smooth reached, every reached class's coarser classes are reached; all scores
    share the R^2 scale, so a class is never reached on a score its coarser class does not meet.
    (Not permutation => orthogonal: the permutation class allows a scale per latent, MCC's invariance.)"""
    rng = np.random.default_rng(seed)
    z = uniform(SMALL, 3, seed)
    code = z[:, rng.permutation(3)] ** power * rng.uniform(0.5, 2, 3) + noise * rng.normal(size=z.shape)
    p = profile(code, z, tolerance=tolerance, max_train=300)
    for cls in p.reached:
        assert coarser(cls) & set(p.scores) <= set(p.reached), (cls, p.scores)
    if "permutation" in p.reached:
        assert "affine" in p.reached and p.scores["affine"] >= 1 - tolerance
    if "monotone" in p.reached:
        assert "smooth" in p.reached


# --- the record -----------------------------------------------------------------------------------


def test_profile_is_a_frozen_json_ready_record_with_a_table():
    z, code = mixed_code(11)
    p = profile(code, z, blocks=[[0, 2], [1]], max_train=300)
    assert isinstance(p, Profile)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.tolerance = 0.5
    assert json.loads(json.dumps(p.to_dict()))["scores"] == pytest.approx(p.scores)
    lines = str(p).splitlines()
    assert [line.split()[0] for line in lines[1:7]] == list(CLASSES)
    assert p.finest == ("orthogonal",) and lines[1].endswith("no") and lines[2].endswith("yes *")
    assert lines[7].strip().startswith("block [0, 2] from code columns [")


# --- hostile inputs -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind, error, match", [
    ("nan", ValueError, "NaN"),
    ("inf", ValueError, "infinite"),
    ("1-D", ValueError, "2-D"),
    ("rows", ValueError, "samples"),
    ("list", TypeError, "numpy array or a torch tensor"),
    ("few rows", ValueError, "rows in each split"),
    ("constant z", ValueError, "constant column"),
    ("constant z_hat", ValueError, "constant in every column"),
    ("blocks overlap", ValueError, "partition"),
    ("block index", ValueError, "blocks must lie in"),
    ("tolerance", ValueError, "tolerance"),
    ("unknown class", ValueError, "classes must be some of"),
    ("block without blocks", ValueError, "needs the blocks"),
])
def test_hostile_inputs_are_refused_in_one_clear_line(kind, error, match):
    z = uniform(200, 2, 12)
    code, kwargs = z.copy(), {}
    if kind == "nan":
        code[5, 1] = np.nan
    elif kind == "inf":
        z = z.copy()
        z[7, 0] = np.inf
    elif kind == "1-D":
        code = code[:, 0]
    elif kind == "rows":
        code = code[:-1]
    elif kind == "list":
        code = code.tolist()
    elif kind == "few rows":
        code, z = code[:30], z[:30]
    elif kind == "constant z":
        z = np.concatenate([z, np.ones((200, 1))], 1)
    elif kind == "constant z_hat":
        code = np.full_like(code, 3.0)
    else:
        kwargs = {"blocks overlap": {"blocks": [[0, 1], [1]]}, "block index": {"blocks": [[0], [2]]},
                  "tolerance": {"tolerance": 1.0}, "unknown class": {"classes": ("rotation",)},
                  "block without blocks": {"classes": ("block",)}}[kind]
    with pytest.raises(error, match=match):
        profile(code, z, **kwargs)


def test_constant_code_columns_are_dropped_and_change_nothing():
    z, code = mixed_code(13)
    base = profile(code, z, max_train=300)
    padded = profile(np.concatenate([code[:, :1], np.full((SMALL, 1), 7.0), code[:, 1:]], 1), z, max_train=300)
    assert all_numbers(padded) == pytest.approx(all_numbers(base), abs=1e-12)
    assert padded.settings["dropped_constant_columns"] == [1]


def test_extreme_common_scales_and_torch_inputs_give_the_same_numbers():
    z, code = mixed_code(14)
    base = all_numbers(profile(code * [1.0, 3.0, 9.0], z, max_train=300))
    for scale in (1e200, 1e-200):  # beyond 2^400 columns would be rescaled each by its own power
        assert all_numbers(profile(code * [1.0, 3.0, 9.0] * scale, z, max_train=300)) == pytest.approx(base, abs=1e-9)
    tensor = torch.as_tensor(code * [1.0, 3.0, 9.0]).requires_grad_()
    assert all_numbers(profile(tensor, torch.as_tensor(z), max_train=300)) == pytest.approx(base, abs=1e-12)


def test_asking_for_some_classes_gives_their_scores_and_nulls_unchanged():
    z, code = mixed_code(15)
    blocks = [[0], [1, 2]]
    full = profile(code, z, blocks=blocks, max_train=300, null=True)
    for classes in (("affine",), ("permutation", "orthogonal"), ("block",), ("smooth",)):
        some = profile(code, z, blocks=blocks, max_train=300, null=True, classes=classes)
        assert some.scores == {c: full.scores[c] for c in classes}
        assert {c: some.nulls[c] for c in classes} == {c: full.nulls[c] for c in classes}
        assert set(some.reached) == set(full.reached) & set(classes)
    assert profile(code, z, max_train=300).scores.keys() == set(CLASSES) - {"block"}
