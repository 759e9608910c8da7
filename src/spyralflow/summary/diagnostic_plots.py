"""The summary's plots of the fit's self-consistency and of its dependence on the truth: pulls,
reduced chi-square, and efficiency/bias/resolution against true polar angle and vertex z."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
from matplotlib.figure import Figure

from spyralflow.summary.plots import _note_empty, _save

PULL_RANGE = 5.0
PULL_BINS = 50
REDCHISQ_QUANTILE = 99.0
PULL_LABELS = {
    "vertex_z": "vertex z",
    "polar": "polar angle",
    "ke": "kinetic energy",
    "ex": "excitation energy",
}
BINNED_QUANTITIES = ("polar", "kinetic_energy")
VARIABLE_LABELS = {"true_polar": "true polar angle (deg)", "true_vertex_z": "true vertex z (mm)"}


def _tail_text(values: np.ndarray, low: float, high: float) -> str:
    return f"below {int((values < low).sum())}, above {int((values > high).sum())}"


def pulls_plot(pulls: dict[str, np.ndarray], redchisq: np.ndarray, path: Path) -> None:
    """Pull histograms ((reco - true) / sigma) with a unit normal, and the reduced chi-square."""
    figure = Figure(figsize=(4 * (len(pulls) + 1), 3.4))
    grid = figure.subplots(1, len(pulls) + 1, squeeze=False)[0]
    edges = np.linspace(-PULL_RANGE, PULL_RANGE, PULL_BINS + 1)
    for axes, (quantity, values) in zip(grid, pulls.items(), strict=False):
        axes.set_title(f"pull of {PULL_LABELS[quantity]}", fontsize=10)
        axes.set_xlabel("(reconstructed - true) / \u03c3")
        if values.size == 0:
            _note_empty(axes, "no rows with a sigma")
            continue
        axes.hist(values, bins=edges)
        width = edges[1] - edges[0]
        centres = 0.5 * (edges[1:] + edges[:-1])
        normal = values.size * width * np.exp(-0.5 * centres**2) / np.sqrt(2.0 * np.pi)
        axes.plot(centres, normal, color="red", linewidth=1.0, label="unit normal")
        axes.text(
            0.02,
            0.95,
            f"N = {values.size}\nmean {values.mean():.2f}, std {values.std():.2f}\n"
            + _tail_text(values, -PULL_RANGE, PULL_RANGE),
            transform=axes.transAxes,
            va="top",
            fontsize=8,
        )
        axes.legend(loc="upper right", fontsize=8)
    axes = grid[-1]
    axes.set_title("fit reduced \u03c7\u00b2", fontsize=10)
    axes.set_xlabel("reduced \u03c7\u00b2 (mm\u00b2 units of the fit)")
    redchisq = redchisq[np.isfinite(redchisq)]
    if redchisq.size:
        high = float(np.percentile(redchisq, REDCHISQ_QUANTILE))
        high = high if high > 0 else 1.0
        axes.hist(redchisq, bins=PULL_BINS, range=(0.0, high))
        axes.text(
            0.98,
            0.95,
            f"N = {redchisq.size}\nmedian {np.median(redchisq):.3g}\n"
            + _tail_text(redchisq, 0.0, high),
            transform=axes.transAxes,
            va="top",
            ha="right",
            fontsize=8,
        )
    else:
        _note_empty(axes, "no fits")
    figure.tight_layout()
    _save(figure, path)


def binned_plot(table: pl.DataFrame, path: Path) -> None:
    """Efficiency, median bias and robust resolution of the solver against true polar and z."""
    variables = list(VARIABLE_LABELS)
    figure = Figure(figsize=(11, 9))
    grid = figure.subplots(3, len(variables), squeeze=False)
    for column, variable in enumerate(variables):
        rows = table.filter(pl.col("variable") == variable) if table.height else table
        for row, (statistic, label) in enumerate(
            (
                ("efficiency", "efficiency"),
                ("bias_median", "median bias"),
                ("resolution_robust", "robust resolution"),
            )
        ):
            axes = grid[row][column]
            axes.set_xlabel(VARIABLE_LABELS[variable])
            if rows.height == 0:
                _note_empty(axes, "no matched rows")
                continue
            quantities = ["polar"] if statistic == "efficiency" else list(BINNED_QUANTITIES)
            for quantity in quantities:
                selected = rows.filter(pl.col("quantity") == quantity)
                centres = 0.5 * (selected["low"].to_numpy() + selected["high"].to_numpy())
                unit = "" if statistic == "efficiency" else f" ({selected['unit'][0]})"
                axes.plot(
                    centres,
                    selected[statistic].to_numpy(),
                    marker="o",
                    label=("solver" if statistic == "efficiency" else quantity) + unit,
                )
            axes.set_ylabel(label)
            axes.legend(fontsize=8)
    figure.tight_layout()
    _save(figure, path)
