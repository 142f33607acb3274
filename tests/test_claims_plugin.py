"""The pytest plugin, run by pytest itself (``pytester``): a claim that holds passes, one that does not
fails with its numbers and the process Hypothesis shrank to, and the budget is chosen per run."""

import pytest

pytest_plugins = ["pytester"]

CLAIM_TESTS = '''
from hypothesis import strategies as st
from sklearn.decomposition import PCA
from identifiability.claims import Fitted, assert_holds
from identifiability.claims.library import LINEAR_ICA, problems

SOURCES = problems("ica", latent_dim=st.integers(3, 4), law="laplace", mixing_layers=1, autoregression=0.0)

def test_fastica_recovers_the_sources(claims_budget):
    assert_holds(LINEAR_ICA, SOURCES, claims_budget)

def test_pca_recovers_the_sources(claims_budget):  # it does not: whitening leaves a rotation
    pca = Fitted("PCA", lambda seed: PCA(whiten=True, random_state=seed), fast_samples=4000, full_samples=4000)
    assert_holds(LINEAR_ICA.but(recipe=pca), SOURCES, claims_budget)
'''


def test_a_claim_that_holds_passes_and_one_that_fails_reports_its_numbers(pytester):
    pytester.makepyfile(test_ica=CLAIM_TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*ClaimFailed: the claim does not hold:*",
        # the process Hypothesis shrank to, in the verdict's own words (latent_dim=3: the smallest
        # drawn); Hypothesis's report of the example is its own and its wording changes between releases
        "*data       ica(autoregression=0.0, latent_dim=3, law=laplace, mixing_layers=1) has every assumption",
        "*budget     fast: seeds 101, PCA, fitted on 4000 samples",
        "*permutation 0.* threshold 0.95: DOES NOT HOLD",
        "*checks     threshold: NO*",
        "*baselines  null (95%) 0.0* | raw x 0.* | supervised reference 1.000",
    ])


def test_the_budget_is_chosen_per_run(pytester):
    pytester.makepyfile(test_budget="def test_budget(claims_budget):\n    print('BUDGET', claims_budget)\n")
    for flags, budget in (((), "fast"), (("--claims-budget=full",), "full")):
        result = pytester.runpytest("-s", *flags)
        result.assert_outcomes(passed=1)
        result.stdout.fnmatch_lines([f"*BUDGET {budget}*"])
    pytester.runpytest("--claims-budget=huge").stderr.fnmatch_lines(["*invalid choice: 'huge'*"])


@pytest.mark.slow
def test_the_readme_claim_test_runs_as_written(pytester):
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    block = next(b for b in readme.split("```python\n")[1:] if "def test_simclr" in b).split("```")[0]
    pytester.makepyfile(test_readme_claim=block)
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
