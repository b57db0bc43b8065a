"""Render the input contract as Markdown.

Regenerate the page with ``python -m engine.inputs.contract_doc > docs/input-contract.md``. A test
checks that the committed page matches the contract, so the page cannot drift.
"""

from __future__ import annotations

import math

from engine.inputs.contract import FREQUENCIES, TABLES, Column

_INTRO = """\
# Input contract

An input directory holds one file per table, `NAME.csv` or `NAME.parquet` (not both). Required
tables must be present; optional tables may be left out. Column names are exact; a column the
contract does not know is an error (the message lists the allowed names). Required columns must
be present and filled in every row; an optional column may be left out, or a cell left empty, and
then takes its default.

CSV: UTF-8, a header line, comma separated; dates as `YYYY-MM-DD`; booleans as `true`/`false`
(also `1`/`0`, `yes`/`no`); `inf` for unlimited capacity. Parquet: the natural column types.
Text is trimmed of surrounding spaces.

Every problem is reported at once, each as *file, row, column: expected ..., found ...*; rows are
counted from 1 at the first record, and for CSV the file line is given too. The CLI exits with
code 2 and writes nothing.

Periods: sales dates are the first day of a period. The frequency is inferred from the dates
(daily, weekly on one weekday, or month starts) or declared with `--freq` (one of
{frequencies}; `W` means weeks starting Monday).

The rules checked beyond each cell's type and range:

- unique keys (listed per table below);
- every sku, channel, region, location and lane end named in a table exists: skus in `skus`,
  channels in `channels`, locations in `locations`, and regions are the regions of `locations`;
- at least one location of kind `dc`; a `pool` names its owning channel and only pools do;
- a lane joins two different locations, and every location is reachable from a DC along lanes;
- every (channel, region) that trades in `sales` has an eligible location in `fulfilment`, and a
  pool serves only its own channel;
- shipments in `in_transit` travel on a lane; promotions end on or after they start and name a
  sku, `category:NAME` or `*`, a channel or `*`, a region or `*`.
"""


def _default(column: Column) -> str:
    if column.required:
        return "required"
    value = column.default
    if isinstance(value, float) and math.isnan(value):
        return "empty"
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    if value == "":
        return "empty"
    if isinstance(value, bool):
        return "false" if not value else "true"
    return f"`{value}`" if isinstance(value, str) else f"{value:g}"


def contract_markdown() -> str:
    """The contract page as Markdown text."""
    lines = [_INTRO.format(frequencies=", ".join(FREQUENCIES))]
    for table in TABLES.values():
        status = "required" if table.required else "optional"
        lines.append(f"## {table.name} ({status})\n")
        lines.append(table.doc + "\n")
        if table.key:
            lines.append(f"Unique key: ({', '.join(table.key)}).\n")
        lines.append("| column | type | default | allowed | meaning |")
        lines.append("|---|---|---|---|---|")
        for column in table.columns:
            name = f"**{column.name}**" if column.required else column.name
            lines.append(f"| {name} | {column.type} | {_default(column)} | "
                         f"{column.expected()} | {column.doc} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(contract_markdown(), end="")
