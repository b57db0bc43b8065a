"""The contract page is generated from the contract and matches it; the contract is coherent."""

from __future__ import annotations

from pathlib import Path

from engine.inputs.contract import TABLES
from engine.inputs.contract_doc import contract_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_the_committed_contract_page_matches_the_contract():
    page = (ROOT / "docs" / "input-contract.md").read_text()
    assert page == contract_markdown(), (
        "docs/input-contract.md is stale: run python -m engine.inputs.contract_doc > "
        "docs/input-contract.md")


def test_every_table_and_column_is_documented():
    page = contract_markdown()
    for table in TABLES.values():
        assert f"## {table.name} (" in page
        for column in table.columns:
            assert column.doc, f"{table.name}.{column.name} has no description"
            assert f"| {column.name} |" in page or f"| **{column.name}** |" in page


def test_keys_and_required_columns():
    for table in TABLES.values():
        for name in table.key:
            assert table.column(name).required, f"{table.name}.{name} is a key but optional"
        for column in table.columns:
            assert column.required == (column.default is None), (table.name, column.name)
