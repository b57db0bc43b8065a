"""The nightly run around the stages: configuration, order, partitions, executors, outputs.

- `engine.pipeline.config`: every run setting, its default and its YAML file;
- `engine.pipeline.nightly`: the stages in order, checkpoints and the atomic run directory
  (`engine.run`); `engine.pipeline.report` renders its ``report.html``,
  `engine.pipeline.summary` the console summary of a run, `engine.pipeline.write` writes result
  tables atomically;
- `engine.pipeline.partitions` (SKU partitions, `LocalExecutor`), `engine.pipeline.tasks` (the
  work sent out per partition) and `engine.pipeline.distributed` (`DaskExecutor`);
- `engine.pipeline.runlog`: progress for people and schedulers.

Imports `engine.stages`, `engine.inputs` and the root modules; `engine.scenario`, `engine.cli`
and `engine.__init__` import it. (Not ``engine/run/``: ``engine.run`` is the run function.)
"""
