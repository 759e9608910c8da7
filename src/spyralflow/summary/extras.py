"""The summary's report pages beyond the main table: HTML tables, Ex against truth, pulls, the
reduced chi-square and the solver against true polar angle and vertex z.

Written into one folder with fixed names (``EXTRA_FILES``), which the summary rule declares:

- ``summary.html``, ``purity.html``: the summary and purity tables for the report;
- ``ex_truth.parquet`` / ``.html``: Ex residual per true state (:mod:`.excitation`), from the
  Kinematics tables (zero rows without them);
- ``pulls.html``: pull mean and spread per quantity, from the Kinematics tables;
- ``binned.parquet``: the solver against true polar angle and vertex z (:mod:`.binned`);
- ``pulls.png``, ``binned.png``: their plots.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import polars as pl

from spyralflow.framework.provenance import Provenance
from spyralflow.report_table import write_html_table
from spyralflow.simulation.truth import write_parquet
from spyralflow.summary import diagnostic_plots
from spyralflow.summary.binned import binned_table
from spyralflow.summary.excitation import (
    EX_SCHEMA,
    KINEMATICS_COLUMNS,
    ejectile_truth,
    ex_table,
    match_kinematics,
    pull_table,
    pulls,
)
from spyralflow.summary.inputs import read_tables
from spyralflow.summary.matching import Particle

EXTRA_FILES = (
    "summary.html",
    "purity.html",
    "ex_truth.parquet",
    "ex_truth.html",
    "pulls.html",
    "binned.parquet",
    "pulls.png",
    "binned.png",
)
SUMMARY_TITLE = (
    "Reconstruction against truth per run and overall: efficiency (fraction of simulated "
    "particles matched), bias (mean, median) and resolution (1.4826 MAD, std) of reconstructed "
    "minus true, in the unit column's units (deg, mm, T m, MeV)"
)
PURITY_TITLE = (
    "Cluster purity per run: fraction of each cluster's points that belong to its majority "
    "particle, from the simulation's point labels (dimensionless)"
)
EXCITATION_TITLE = (
    "Excitation energy against truth per true state (MeV): centroid = median reconstructed Ex, "
    "bias = median of reconstructed - true, resolution = 1.4826 MAD and std of it; efficiency = "
    "fraction of simulated ejectiles of the state with an Ex"
)
PULLS_TITLE = (
    "Pulls (reconstructed - true) / sigma of the Kinematics table's quantities (vertex z, lab "
    "polar angle, ejectile kinetic energy, Ex; dimensionless): a spread of 1 means the sigma "
    "columns are right, above 1 that they are too small"
)


def write_extras(
    folder: Path,
    summary: pl.DataFrame,
    purity: pl.DataFrame | None,
    truth: pl.DataFrame,
    particle: Particle,
    truth_rows: pl.DataFrame,
    solver_residuals: pl.DataFrame,
    kinematics: Sequence[Path],
    provenance: Provenance,
) -> None:
    """Write ``EXTRA_FILES`` into ``folder`` (module docstring)."""
    folder = Path(folder)
    write_html_table(summary, folder / "summary.html", SUMMARY_TITLE)
    write_html_table(
        purity if purity is not None else pl.DataFrame({"note": ["no cluster files given"]}),
        folder / "purity.html",
        PURITY_TITLE,
    )
    rows = read_tables(kinematics, KINEMATICS_COLUMNS, "Kinematics", required=False)
    truth_of_ejectile = ejectile_truth(truth, particle)
    matched = match_kinematics(truth_of_ejectile, rows)
    excitation = (
        ex_table(truth_of_ejectile, matched) if rows.height else pl.DataFrame(schema=EX_SCHEMA)
    )
    write_parquet(excitation, folder / "ex_truth.parquet", provenance)
    write_html_table(excitation, folder / "ex_truth.html", EXCITATION_TITLE)
    pull_values = pulls(matched)
    write_html_table(pull_table(pull_values), folder / "pulls.html", PULLS_TITLE)
    redchisq = rows["redchisq"].to_numpy().astype(float) if rows.height else np.empty(0)
    diagnostic_plots.pulls_plot(pull_values, redchisq, folder / "pulls.png")
    binned = binned_table(truth_rows, solver_residuals)
    write_parquet(binned, folder / "binned.parquet", provenance)
    diagnostic_plots.binned_plot(binned, folder / "binned.png")
