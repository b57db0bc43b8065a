"""The console script's front door: ``omnistock --version`` answers without loading the engine.

Everything else goes to `engine.cli.main`, which imports the stages (statsforecast, numba, the
solvers: about 3 s); the version alone needs none of them.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line (see `engine.cli`); returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--version"]:
        from engine import __version__

        print(f"omnistock {__version__}")
        return 0
    from engine.cli import main as cli_main

    return cli_main(args)
