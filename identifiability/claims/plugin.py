"""The pytest plugin (entry point ``pytest11``): ``--claims-budget`` and the ``claims_budget`` fixture."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("identifiability").addoption(
        "--claims-budget", choices=("fast", "full"), default="fast",
        help="budget of claim tests: fast (the default: one held-back seed, one drawn process, short training) or full "
             "(five held-back seeds, three drawn processes, the measured budget)",
    )


@pytest.fixture
def claims_budget(request: pytest.FixtureRequest) -> str:
    """The budget claim tests run at: "fast" or "full" (``--claims-budget``)."""
    return request.config.getoption("--claims-budget")
