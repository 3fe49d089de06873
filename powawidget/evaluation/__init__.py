"""Run an agent over many prompts: bounded concurrency, checkpoints, comparisons, Dask.

`evaluate()` (powawidget.evaluation.api) returns an `Evaluation` at once; runs stream
through the same client, reader and fold as the chat panel (`session.run.start_run`).
"""
