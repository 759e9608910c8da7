"""Reconstruction against simulation truth: efficiency, bias and resolution, as a table and plots.

:func:`spyralflow.summary.report.summarize` reads the truth tables of simulated runs
(:mod:`spyralflow.simulation.truth`), the Estimation and InterpSolver tables, and optionally the
Cluster files, and writes ``summary.parquet`` and PNG plots. The command line entry is
``spyralflow summary`` (:mod:`.cli`).

Kept free of imports on purpose: ``spyralflow --help`` imports :mod:`.cli` through this package.
"""
