"""Efficiency, bias and resolution of the solver against the true polar angle and vertex z.

Binned table, one row per (variable, bin, quantity): ``variable`` (``true_polar`` in deg or
``true_vertex_z`` in mm), ``low``, ``high`` (the bin), ``quantity`` and ``unit`` (of the
residual), and the columns of :func:`spyralflow.summary.metrics.describe` (``n_truth``,
``n_matched``, ``efficiency``, bias and resolution).
"""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl

from spyralflow.summary.matching import KEYS, QUANTITIES, UNITS
from spyralflow.summary.metrics import describe

BINS = {
    "true_polar": np.arange(0.0, 181.0, 10.0),  # deg
    "true_vertex_z": np.arange(0.0, 1001.0, 100.0),  # mm
}
VARIABLE_UNITS = {"true_polar": "deg", "true_vertex_z": "mm"}


def binned_table(truth_rows: pl.DataFrame, residuals: pl.DataFrame) -> pl.DataFrame:
    """The binned table (module docstring) of one stage's residuals.

    Parameters
    ----------
    truth_rows : polars.DataFrame
        Truth rows of the particle of interest (keys, polar in rad, vertex_z in mm).
    residuals : polars.DataFrame
        The stage's residuals (keys and one column per quantity).
    """
    truth = truth_rows.select(
        *KEYS,
        (pl.col("polar") * (180.0 / np.pi)).alias("true_polar"),
        pl.col("vertex_z").alias("true_vertex_z"),
    )
    joined = truth.join(residuals, on=list(KEYS), how="left")
    records = []
    for variable, edges in BINS.items():
        values = joined[variable].to_numpy().astype(float)
        for low, high in itertools.pairwise(edges):
            in_bin = (values >= low) & (values < high)
            if not in_bin.any():
                continue
            rows = joined.filter(pl.Series(in_bin))
            for quantity in QUANTITIES:
                records.append(
                    {
                        "variable": variable,
                        "low": float(low),
                        "high": float(high),
                        "quantity": quantity,
                        "unit": UNITS[quantity],
                        **describe(rows[quantity].to_numpy().astype(float), int(in_bin.sum())),
                    }
                )
    return pl.DataFrame(records)
