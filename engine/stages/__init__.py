"""The nightly run's stages, each a function that reads the planning dataset and adds to it.

- `engine.stages.forecasting`: the forecast of every series (`models.forecast`);
- `engine.stages.targets`: stock targets per sku x location (`models.policy`);
- `engine.stages.plan`: tonight's moves from the deployment LP (`solvers`), the slow movers;
- `engine.stages.simulate`: the network simulated under the plan (`engine.simulation`).

Each also makes its table of the run directory (``*_table``, columns from `engine.outputs`).
Imports `engine.inputs`, `engine.network`, `engine.outputs`, `engine.simulation` and the
libraries; never the pipeline that runs the stages.
"""
