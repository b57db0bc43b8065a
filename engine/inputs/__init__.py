"""The input side: the contract, reading and checking a directory, the planning dataset.

- `engine.inputs.contract`: every input table, column, type, default and range, defined once
  (`engine.inputs.contract_doc` writes ``docs/input-contract.md`` from it);
- `engine.inputs.tables` reads and writes directories of CSV or Parquet tables,
  `engine.inputs.coerce` and `engine.inputs.validate` check them against the contract (every
  problem at once), `engine.inputs.calendar` knows the period frequencies;
- `engine.inputs.dataset` assembles the checked tables into the planning dataset and back,
  `engine.inputs.load` is the front door (`engine.load_inputs`, `engine.write_inputs`);
- `engine.inputs.yamlfile` reads YAML files (configurations, scenarios) with line numbers for
  messages.

Imports only `engine.errors` of the engine. Kept empty of imports: the order API imports
`engine.inputs.calendar` without loading xarray.
"""
