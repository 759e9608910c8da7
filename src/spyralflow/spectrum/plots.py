"""The spectrum's PNG plots: Ex histogram with the fit, Ex against CM angle, CM coverage.

Figures are built without pyplot; an empty input gives a figure that says so, so the declared
outputs always exist. Axis ranges follow the data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from spyralflow.framework.atomic import atomic_output
from spyralflow.spectrum.peaks import Histogram, PeakFit

DPI = 110
COVERAGE_BIN_DEG = 2.0


def _save(figure: Figure, path: Path) -> None:
    figure.tight_layout()
    with atomic_output(path) as temporary:
        figure.savefig(temporary, format="png", dpi=DPI, metadata={"Software": None})


def _note(axes, text: str) -> None:
    axes.text(0.5, 0.5, text, ha="center", va="center", transform=axes.transAxes)


def spectrum_plot(histogram: Histogram, fit: PeakFit | None, path: Path) -> None:
    """The Ex histogram (counts with Poisson errors), the fitted total and each peak."""
    figure = Figure(figsize=(8, 5))
    axes = figure.subplots()
    centres, counts = histogram.centres, histogram.counts
    entries = int(counts.sum())
    if entries:
        axes.stairs(counts, histogram.edges, color="black", label=f"data ({entries} fits)")
        axes.errorbar(centres, counts, yerr=np.sqrt(counts), fmt="none", ecolor="gray", lw=0.8)
    else:
        _note(axes, "no excitation energies")
    if fit is not None:
        fine = np.linspace(histogram.edges[0], histogram.edges[-1], 800)
        axes.plot(fine, fit.model(fine, histogram.bin_width), color="red", label="fit")
        for peak in fit.peaks:
            single = PeakFit([peak], 0.0, 0.0, 0.0, 0)
            axes.plot(
                fine,
                single.model(fine, histogram.bin_width),
                linestyle="--",
                linewidth=1.0,
                label=(
                    f"{peak.centroid:.3f} \u00b1 {peak.sigma_centroid:.3f} MeV, "
                    f"core FWHM {peak.fwhm:.2f} MeV, "
                    f"{peak.counts:.0f} \u00b1 {peak.sigma_counts:.0f}"
                ),
            )
        axes.set_title(
            f"Excitation energy, {len(fit.peaks)} peak(s), "
            f"\u03c7\u00b2/ndf = {fit.chisq:.1f}/{fit.ndf}"
        )
    else:
        axes.set_title("Excitation energy (no peak fit)")
    axes.text(
        0.99,
        0.6,
        f"underflow {histogram.underflow}\noverflow {histogram.overflow}",
        transform=axes.transAxes,
        ha="right",
        fontsize=9,
    )
    axes.set_xlim(histogram.edges[0], histogram.edges[-1])
    axes.set_xlabel("excitation energy E$_x$ (MeV)")
    axes.set_ylabel(f"fits / {histogram.bin_width * 1000:.0f} keV")
    if entries or fit is not None:
        axes.legend(loc="upper right", fontsize=8)
    _save(figure, path)


def angle_plot(ex: np.ndarray, cm_polar_deg: np.ndarray, ex_range: tuple[float, float], path: Path):
    """Ex against the ejectile's CM polar angle (2D histogram)."""
    figure = Figure(figsize=(8, 5))
    axes = figure.subplots()
    inside = np.isfinite(ex) & np.isfinite(cm_polar_deg)
    inside &= (ex >= ex_range[0]) & (ex < ex_range[1])
    if inside.any():
        angles = cm_polar_deg[inside]
        low, high = np.floor(angles.min()), np.ceil(angles.max())
        bins = (max(int((high - low) / COVERAGE_BIN_DEG), 1), 60)
        _, _, _, image = axes.hist2d(
            angles, ex[inside], bins=bins, range=[(low, max(high, low + 1)), ex_range], cmin=1
        )
        figure.colorbar(image, ax=axes, label="fits")
    else:
        _note(axes, "no excitation energies")
    axes.set_xlabel("centre-of-mass polar angle of the ejectile (deg)")
    axes.set_ylabel("excitation energy E$_x$ (MeV)")
    axes.set_title(f"E$_x$ against CM angle ({int(inside.sum())} fits)")
    _save(figure, path)


def coverage_plot(coverage: dict[str, np.ndarray], path: Path) -> None:
    """Counts per CM angle bin of the events of each peak (within two spreads of its centroid)."""
    figure = Figure(figsize=(8, 4.5))
    axes = figure.subplots()
    everything = np.concatenate([*coverage.values(), np.empty(0)])
    if everything.size:
        low = COVERAGE_BIN_DEG * np.floor(everything.min() / COVERAGE_BIN_DEG)
        high = COVERAGE_BIN_DEG * np.ceil(everything.max() / COVERAGE_BIN_DEG)
        edges = np.arange(low, max(high, low + COVERAGE_BIN_DEG) + 1e-9, COVERAGE_BIN_DEG)
        for label, angles in coverage.items():
            counts, _ = np.histogram(angles, bins=edges)
            axes.stairs(counts, edges, label=f"{label} ({angles.size} fits)")
        axes.set_xlim(edges[0], edges[-1])
        axes.legend(loc="upper right", fontsize=8)
    else:
        _note(axes, "no fitted peak")
    axes.set_xlabel("centre-of-mass polar angle of the ejectile (deg)")
    axes.set_ylabel(f"fits / {COVERAGE_BIN_DEG:.0f} deg")
    axes.set_title("CM angular coverage per state")
    _save(figure, path)
