"""The examples in the docstrings of `solvers` run, and `solvers` stays a pure library."""

from __future__ import annotations

import doctest
import importlib
import subprocess
import sys

import pytest

MODULES = ["solvers.deployment"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


def test_solvers_import_neither_the_engine_nor_the_models_but_their_check_kit():
    """The import direction is engine -> models, solvers; of models, solvers imports only the
    argument-check kit `models.checks`."""
    code = ("import sys, solvers, solvers.rounding; print(sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('engine', 'models')))")
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout
    assert output.strip().splitlines()[-1] == "['models', 'models.checks']"


def test_public_api():
    """Everything public is in __all__, and every class and function there is documented."""
    import solvers

    modules = {"decomposition", "deployment", "formulation", "lp", "phased", "problem",
               "rounding"}
    public = {name for name in dir(solvers) if not name.startswith("_")} - modules
    assert sorted(solvers.__all__) == sorted(public)
    for name in solvers.__all__:
        value = getattr(solvers, name)
        if isinstance(value, type) or callable(value) and hasattr(value, "__code__"):
            assert value.__doc__, name


def test_solving_writes_nothing_to_standard_output():
    """HiGHS prints a log header unless told not to first; a library must stay quiet."""
    code = ("from solvers import DeploymentProblem, solve_deployment\n"
            "problem = DeploymentProblem(n_skus=1, n_locations=2, lane_origin=[0], "
            "lane_destination=[1], lane_cost=[1.0], on_hand=[[10.0, 0.0]], stream_sku=[0], "
            "pair_stream=[0], pair_location=[1], segment_width=[[4.0, 4.0]], "
            "segment_value=[[10.0, 3.0]])\n"
            "for backend in ('highs', 'pulp'):\n"
            "    assert solve_deployment(problem, backend=backend).success\n")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               check=True)
    assert completed.stdout == ""
