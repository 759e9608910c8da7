"""The spectrum step: read every run's Kinematics table, fit the Ex peaks, write table and plots.

Peak table (parquet and HTML), one row per state:

====================  =======  =============================================================
column                dtype    meaning
====================  =======  =============================================================
state                 Float64  the configured Ex (MeV), or the found peak's starting energy
found                 Boolean  the state was found in the histogram (not configured)
centroid              Float64  fitted centroid, MeV
sigma_centroid        Float64  its standard deviation, MeV
width, sigma_width    Float64  sigma of the line shape's core Gaussian and its error, MeV
fwhm                  Float64  2.355 x width, MeV
tail_fraction         Float64  fraction of the peak's events in the tail Gaussian (0: none)
tail_width            Float64  sigma of the tail Gaussian (same centroid), MeV
spread                Float64  standard deviation of the whole line shape (the resolution), MeV
counts, sigma_counts  Float64  fitted events in the peak and their error
cm_polar_low_deg      Float64  1st percentile of the CM angle of the peak's events, deg
cm_polar_high_deg     Float64  99th percentile of it, deg
background_per_mev    Float64  flat background of the fit, counts per MeV
reduced_chisq         Float64  Pearson chi-square / ndf of the fit
entries               Int64    fits in the histogram range
underflow, overflow   Int64    finite Ex below / above the range
not_computed          Int64    rows of the Kinematics tables without an Ex (reason != ok)
====================  =======  =============================================================

A peak's events are those within two spreads of its centroid. The line shape is described in
``spyralflow.spectrum.peaks``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from spyralflow.framework.provenance import Provenance
from spyralflow.report_table import write_html_table
from spyralflow.simulation.truth import write_parquet
from spyralflow.spectrum import plots
from spyralflow.spectrum.peaks import (
    PeakFit,
    PeakFitError,
    find_states,
    fit_peaks,
    histogram_range,
    make_histogram,
)
from spyralflow.spectrum.settings import SpectrumSettings

log = logging.getLogger(__name__)

STEP_NAME = "Spectrum"
COLUMNS = ("ex", "cm_polar", "reason")
PEAK_WINDOW_WIDTHS = 2.0
PEAK_SCHEMA: dict[str, pl.DataType] = {
    "state": pl.Float64(),
    "found": pl.Boolean(),
    "centroid": pl.Float64(),
    "sigma_centroid": pl.Float64(),
    "width": pl.Float64(),
    "sigma_width": pl.Float64(),
    "fwhm": pl.Float64(),
    "tail_fraction": pl.Float64(),
    "tail_width": pl.Float64(),
    "spread": pl.Float64(),
    "counts": pl.Float64(),
    "sigma_counts": pl.Float64(),
    "cm_polar_low_deg": pl.Float64(),
    "cm_polar_high_deg": pl.Float64(),
    "background_per_mev": pl.Float64(),
    "reduced_chisq": pl.Float64(),
    "entries": pl.Int64(),
    "underflow": pl.Int64(),
    "overflow": pl.Int64(),
    "not_computed": pl.Int64(),
}
TABLE_TITLE = (
    "Fitted excitation-energy peaks: centroid, core Gaussian width and FWHM, tail width and "
    "line-shape spread (the resolution) in MeV, tail fraction, "
    "counts in events, CM angular range in degrees, with one-standard-deviation errors"
)


class SpectrumInputError(ValueError):
    """A Kinematics table is missing or lacks columns; the message names the file."""


@dataclass(frozen=True)
class SpectrumOutputs:
    """The files the step writes: peak table (parquet, HTML) and three PNG plots."""

    table: Path
    table_html: Path
    spectrum_plot: Path
    angle_plot: Path
    coverage_plot: Path


def read_kinematics(paths: Sequence[Path]) -> pl.DataFrame:
    """The ``ex``, ``cm_polar`` and ``reason`` columns of every Kinematics table.

    Raises
    ------
    SpectrumInputError
        If a file is missing, unreadable, or lacks a column.
    """
    frames = [pl.DataFrame(schema={"ex": pl.Float64, "cm_polar": pl.Float64, "reason": pl.String})]
    for path in map(Path, paths):
        try:
            frame = pl.read_parquet(path)
        except (OSError, pl.exceptions.PolarsError) as error:
            raise SpectrumInputError(f"cannot read Kinematics table {path}: {error}") from error
        missing = [column for column in COLUMNS if column not in frame.columns]
        if missing:
            raise SpectrumInputError(
                f"Kinematics table {path} lacks column(s) {', '.join(missing)}; rerun the "
                "Kinematics phase"
            )
        frames.append(frame.select(COLUMNS).cast({"ex": pl.Float64, "cm_polar": pl.Float64}))
    return pl.concat(frames)


def build_spectrum(
    settings: SpectrumSettings, inputs: Sequence[Path], outputs: SpectrumOutputs
) -> pl.DataFrame:
    """Histogram and fit the excitation energies of all runs; write the table and plots.

    A fit that cannot be done (no entries, too few bins) gives a table without rows and plots
    that say so, with a logged warning: the step itself does not fail on an empty spectrum.

    Returns
    -------
    polars.DataFrame
        The peak table (module docstring).
    """
    rows = read_kinematics(inputs)
    computed = rows.filter(pl.col("reason") == "ok")
    ex = computed["ex"].to_numpy().astype(float)
    cm_deg = np.rad2deg(computed["cm_polar"].to_numpy().astype(float))
    low, high = histogram_range(ex, settings.states, settings.ex_range)
    histogram = make_histogram(ex, low, high, settings.bin_width)
    found = settings.states is None
    states = find_states(histogram, settings.max_states) if found else list(settings.states)
    if found and states and settings.ex_range is None:
        # Fit around the found peaks, as around configured ones: the tails would dominate.
        low, high = histogram_range(ex, states, None)
        histogram = make_histogram(ex, low, high, settings.bin_width)
    inside = [state for state in states if low < state < high]
    if len(inside) < len(states):
        log.warning("states %s MeV lie outside the histogram range; not fitted", states)
    fit: PeakFit | None = None
    try:
        fit = fit_peaks(histogram, inside)
    except PeakFitError as error:
        log.warning("no peak fit of %d excitation energies: %s", ex.size, error)
    records, coverage = [], {}
    for state, peak in zip(inside, fit.peaks if fit else [], strict=False):
        selected = np.abs(ex - peak.centroid) < PEAK_WINDOW_WIDTHS * peak.spread
        angles = cm_deg[selected & np.isfinite(cm_deg)]
        coverage[f"E$_x$ = {peak.centroid:.2f} MeV"] = angles
        low_angle, high_angle = np.percentile(angles, [1, 99]) if angles.size else (np.nan,) * 2
        records.append(
            {
                "state": state,
                "found": found,
                "centroid": peak.centroid,
                "sigma_centroid": peak.sigma_centroid,
                "width": peak.width,
                "sigma_width": peak.sigma_width,
                "fwhm": peak.fwhm,
                "tail_fraction": peak.tail_fraction,
                "tail_width": peak.tail_width,
                "spread": peak.spread,
                "counts": peak.counts,
                "sigma_counts": peak.sigma_counts,
                "cm_polar_low_deg": float(low_angle),
                "cm_polar_high_deg": float(high_angle),
                "background_per_mev": fit.background,
                "reduced_chisq": fit.reduced_chisq,
                "entries": int(histogram.counts.sum()),
                "underflow": histogram.underflow,
                "overflow": histogram.overflow,
                "not_computed": rows.height - computed.height,
            }
        )
        log.info(
            "peak at %.4f +- %.4f MeV (state %.3f): width %.4f MeV, %.1f +- %.1f counts",
            peak.centroid,
            peak.sigma_centroid,
            state,
            peak.width,
            peak.counts,
            peak.sigma_counts,
        )
    table = pl.DataFrame(records, schema=PEAK_SCHEMA)
    provenance = Provenance(
        phase=STEP_NAME,
        phase_class=f"{__name__}.build_spectrum",
        parameters={"settings": repr(settings), "kinematics": [str(path) for path in inputs]},
    )
    write_parquet(table, outputs.table, provenance)
    write_html_table(table, outputs.table_html, TABLE_TITLE)
    plots.spectrum_plot(histogram, fit, outputs.spectrum_plot)
    plots.angle_plot(ex, cm_deg, (low, high), outputs.angle_plot)
    plots.coverage_plot(coverage, outputs.coverage_plot)
    return table
