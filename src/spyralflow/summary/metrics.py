"""Efficiency, bias and resolution of reconstructed quantities, per run and overall.

Summary table, one row per (scope, stage, quantity):

=================  =======  ==================================================================
column             dtype    meaning
=================  =======  ==================================================================
scope              String   ``run_NNNN`` or ``all``
run                Int64    the run number; null for ``all``
stage              String   ``estimation`` or ``solver``
quantity           String   ``polar``, ``vertex_z``, ``brho``, ``kinetic_energy``
unit               String   deg, mm, T m, MeV (of the residuals)
n_truth            Int64    truth rows of the particle of interest in the scope
n_matched          Int64    of those, matched to a reconstructed row with a finite value
efficiency         Float64  n_matched / n_truth (NaN without truth rows)
bias_mean          Float64  mean of reconstructed - true
bias_median        Float64  median of reconstructed - true
resolution_robust  Float64  1.4826 x median absolute deviation (sigma of a normal core)
std                Float64  standard deviation (ddof 1), sensitive to tails
=================  =======  ==================================================================
"""

from __future__ import annotations

import numpy as np
import polars as pl

from spyralflow.framework.runs import form_run_string
from spyralflow.summary.matching import QUANTITIES, UNITS

MAD_TO_SIGMA = 1.4826
OVERALL_SCOPE = "all"

SUMMARY_SCHEMA: dict[str, pl.DataType] = {
    "scope": pl.String(),
    "run": pl.Int64(),
    "stage": pl.String(),
    "quantity": pl.String(),
    "unit": pl.String(),
    "n_truth": pl.Int64(),
    "n_matched": pl.Int64(),
    "efficiency": pl.Float64(),
    "bias_mean": pl.Float64(),
    "bias_median": pl.Float64(),
    "resolution_robust": pl.Float64(),
    "std": pl.Float64(),
}


def robust_sigma(values: np.ndarray) -> float:
    """1.4826 x the median absolute deviation: the sigma of a normal core, tails ignored."""
    if values.size == 0:
        return float("nan")
    return float(MAD_TO_SIGMA * np.median(np.abs(values - np.median(values))))


def describe(residual: np.ndarray, n_truth: int) -> dict[str, float | int]:
    """Efficiency and residual statistics of one quantity in one scope."""
    residual = residual[np.isfinite(residual)]
    n = residual.size
    return {
        "n_truth": n_truth,
        "n_matched": n,
        "efficiency": n / n_truth if n_truth else float("nan"),
        "bias_mean": float(residual.mean()) if n else float("nan"),
        "bias_median": float(np.median(residual)) if n else float("nan"),
        "resolution_robust": robust_sigma(residual),
        "std": float(residual.std(ddof=1)) if n > 1 else float("nan"),
    }


def summary_table(
    truth_rows: pl.DataFrame, residuals_by_stage: dict[str, pl.DataFrame]
) -> pl.DataFrame:
    """The summary table (module docstring) of every run and of all runs together.

    Parameters
    ----------
    truth_rows : polars.DataFrame
        Truth rows of the particle of interest (``run`` column).
    residuals_by_stage : dict
        Stage name to its residuals (``run`` and one column per quantity).
    """
    runs = sorted(truth_rows["run"].unique().to_list())
    scopes: list[tuple[str, int | None]] = [(form_run_string(run), run) for run in runs]
    scopes.append((OVERALL_SCOPE, None))
    records = []
    for scope, run in scopes:
        in_scope = pl.lit(True) if run is None else pl.col("run") == run
        n_truth = truth_rows.filter(in_scope).height
        for stage, residuals in residuals_by_stage.items():
            stage_rows = residuals.filter(in_scope)
            for quantity in QUANTITIES:
                values = stage_rows[quantity].to_numpy().astype(float)
                records.append(
                    {
                        "scope": scope,
                        "run": run,
                        "stage": stage,
                        "quantity": quantity,
                        "unit": UNITS[quantity],
                        **describe(values, n_truth),
                    }
                )
    return pl.DataFrame(records, schema=SUMMARY_SCHEMA)
