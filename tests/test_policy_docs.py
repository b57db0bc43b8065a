"""The examples in the docstrings of `models.policy` run and give what they show."""

from __future__ import annotations

import doctest
import importlib
import subprocess
import sys

import pytest

MODULES = ["models.policy.newsvendor", "models.policy.ss", "models.policy.rq",
           "models.policy.eoq", "models.policy.targets"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


def test_policy_library_does_not_import_the_engine():
    """models.policy is a pure library: the import direction is engine -> models only."""
    code = ("import sys, models.policy; "
            "print(any(m == 'engine' or m.startswith('engine.') for m in sys.modules))")
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout
    assert output.strip() == "False"
