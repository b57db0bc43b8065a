"""omnistock engine: the front door and the numeric core.

Public API
----------
load_inputs
    Read, check and assemble an input directory into the planning dataset.
write_inputs
    Write a planning dataset back as an input directory.
demo_inputs, demo_tables
    The bundled demo network, any size from 50 to 100,000 SKUs.
InputError, Problem
    Bad input: every problem with its table, row, column, expected and found.
"""

from engine.demo import demo_inputs, demo_tables
from engine.errors import InputError, Problem
from engine.inputs import load_inputs, write_inputs

__all__ = ["InputError", "Problem", "demo_inputs", "demo_tables", "load_inputs", "write_inputs"]

__version__ = "0.1.0"
