"""Batch runs: every input file mapped to one result row or one error row, in parallel.

The modules follow a run's data flow:

1. :mod:`~pipeline.run.inputs` lists the inputs (a folder tree or a CSV list)
   as :class:`~pipeline.run.inputs.Item` and cuts them into chunks;
2. :mod:`~pipeline.run.tasks` says what becomes of one chunk: a
   :class:`~pipeline.run.tasks.Task` (extract features, score with a model)
   turns each item into a typed :class:`~pipeline.run.tasks.Row`, its values
   or its error; :mod:`~pipeline.run.cache` keeps feature vectors on disk;
3. :mod:`~pipeline.run.engines` decides where chunks run (this process, a
   pool of worker processes, a Dask cluster), chosen by name from one
   registry, and gives their rows back in input order;
4. :mod:`~pipeline.run.journal` writes the rows to the output being written,
   resumes an interrupted run from it and renames it into place (CSV or
   Parquet); :mod:`~pipeline.run.summary` counts and reports them, and
   :mod:`~pipeline.run.file_warnings` says the warnings about files that
   came back with them (a grey image in colour mode) once per run.

:mod:`pipeline.batch` holds the entry points that tie the four together:
:func:`~pipeline.batch.run_batch` and :func:`~pipeline.batch.feature_matrix`.

This package's ``__init__`` imports nothing: the command line checks its
engine options (:func:`pipeline.run.engines.option_error`) before it imports
the numeric libraries.
"""
