"""Error types of the engine: bad input is one `InputError` that lists every problem found."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MAX_ROWS_SHOWN = 5
MAX_PROBLEMS_SHOWN = 60


@dataclass(frozen=True)
class Problem:
    """One problem in the input.

    Parameters
    ----------
    table : str
        Table name (``sales``) or the input as a whole (``input``).
    file : str
        File name as found (``sales.csv``), or the table name when the file is missing.
    column : str
        Column concerned, or ``""`` for a problem of the whole table or row.
    expected : str
        What the contract requires.
    found : str
        What the input holds.
    rows : tuple of int
        First data rows concerned, 1-based (row 1 is the first record after the header).
    n_rows : int
        How many rows share this problem (may exceed ``len(rows)``).
    line_offset : int
        Added to a row number to give the file line (1 for a CSV header, 0 otherwise).
    """

    table: str
    file: str
    column: str
    expected: str
    found: str
    rows: tuple[int, ...] = ()
    n_rows: int = 0
    line_offset: int = 0

    def __str__(self) -> str:
        where = self.file
        if self.rows:
            shown = ", ".join(f"{r:,}" for r in self.rows[:MAX_ROWS_SHOWN])
            label = "row" if len(self.rows) == 1 else "rows"
            where += f" {label} {shown}"
            more = max(self.n_rows, len(self.rows)) - min(len(self.rows), MAX_ROWS_SHOWN)
            if more > 0:
                where += f" and {more:,} more"
            if self.line_offset and len(self.rows) == 1:
                where += f" (line {self.rows[0] + self.line_offset})"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: expected {self.expected}, found {self.found}"


class InputError(ValueError):
    """The input breaks the contract; ``problems`` lists every problem found.

    Raised once per load, after every check has run, so a planner fixes all problems in one pass.
    """

    def __init__(self, problems: Sequence[Problem], *, source: str = "input"):
        self.problems = list(problems)
        self.source = source
        super().__init__(self._message())

    def _message(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in {self.source}:"
        lines = [f"  {p}" for p in self.problems[:MAX_PROBLEMS_SHOWN]]
        if n > MAX_PROBLEMS_SHOWN:
            lines.append(f"  ... and {n - MAX_PROBLEMS_SHOWN} more problems")
        return "\n".join([head, *lines])
