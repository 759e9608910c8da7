"""The summary's PNG plots: particle identification, kinematics, residuals.

Each function writes one figure atomically; an empty input gives a figure that says so, so the
workflow's declared outputs always exist. Figures are built without pyplot (no global state, no
display backend needed).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import polars as pl
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from spyralflow.framework.atomic import atomic_output
from spyralflow.summary.kinematics import KinematicLine
from spyralflow.summary.matching import QUANTITIES, UNITS
from spyralflow.summary.metrics import robust_sigma
from spyralflow.summary.settings import PidGate

HISTOGRAM_BINS = 60
LABELS = {
    "polar": "polar angle",
    "vertex_z": "vertex z",
    "brho": "B\u03c1",
    "kinetic_energy": "kinetic energy",
}
DPI = 110


def _save(figure: Figure, path: Path) -> None:
    with atomic_output(path) as temporary:
        # Fixed metadata keeps equal figures byte-equal (no software version or date).
        figure.savefig(temporary, format="png", dpi=DPI, metadata={"Software": None})


def _note_empty(axes, text: str) -> None:
    axes.text(0.5, 0.5, text, ha="center", va="center", transform=axes.transAxes)


def pid_plot(
    estimation: pl.DataFrame,
    path: Path,
    gate: PidGate | None = None,
    solver_gate: tuple[str, Sequence[tuple[float, float]]] | None = None,
) -> None:
    """dE/dx against Brho of every Estimation row (log colour scale), with the summary's PID
    rectangle and the particle-ID polygon the solver applied (``solver_gate``: its name and
    (dEdx, Brho) vertices)."""
    figure = Figure(figsize=(7, 5))
    axes = figure.subplots()
    rows = estimation.filter(
        pl.col("dEdx").is_finite() & pl.col("brho").is_finite() & (pl.col("dEdx") > 0.0)
    )
    if rows.height:
        dedx, brho = rows["dEdx"].to_numpy(), rows["brho"].to_numpy()
        n_bins = int(np.clip(np.sqrt(rows.height), 20, 150))
        # Light and heavy particles lie decades apart in dE/dx: log-spaced bins show both.
        low, high = dedx.min(), dedx.max()
        dedx_bins = np.geomspace(low, high * 1.001, n_bins) if high > low else n_bins
        _, _, _, image = axes.hist2d(
            brho, dedx, bins=(n_bins, dedx_bins), norm=LogNorm(), cmap="viridis"
        )
        axes.set_yscale("log")
        figure.colorbar(image, ax=axes, label="clusters")
    else:
        _note_empty(axes, "no Estimation rows")
    if gate is not None:
        (low_dedx, high_dedx), (low_brho, high_brho) = gate.dedx, gate.brho
        axes.plot(
            [low_brho, high_brho, high_brho, low_brho, low_brho],
            [low_dedx, low_dedx, high_dedx, high_dedx, low_dedx],
            color="red",
            label="PID gate",
        )
    if solver_gate is not None:
        name, vertices = solver_gate
        dedx_vertices, brho_vertices = np.array(vertices, dtype=float).T
        if rows.height:
            inside = _inside(rows["dEdx"].to_numpy(), rows["brho"].to_numpy(), vertices)
            name = f"{name} ({int(inside.sum())} inside)"
        axes.plot(
            np.append(brho_vertices, brho_vertices[0]),
            np.append(dedx_vertices, dedx_vertices[0]),
            color="orange",
            linewidth=1.5,
            label=f"solver gate {name}",
        )
        if rows.height:
            # The polygon may reach far beyond the data: keep the axes on the data.
            axes.set_xlim(*_padded(rows["brho"].to_numpy()))
            axes.set_ylim(*_padded(rows["dEdx"].to_numpy(), log=True))
    if gate is not None or solver_gate is not None:
        axes.legend(loc="upper right")
    axes.set_xlabel("B\u03c1 (T m)")
    axes.set_ylabel("dE/dx (arbitrary units)")
    axes.set_title(f"Particle identification ({rows.height} clusters)")
    _save(figure, path)


def _inside(x: np.ndarray, y: np.ndarray, vertices: Sequence[tuple[float, float]]) -> np.ndarray:
    from matplotlib.path import Path as PolygonPath

    return PolygonPath(np.asarray(vertices, float)).contains_points(np.column_stack([x, y]))


def _padded(values: np.ndarray, log: bool = False) -> tuple[float, float]:
    """The data's range widened by 5 % (of the decades on a log axis)."""
    low, high = float(np.min(values)), float(np.max(values))
    if log:
        ratio = (high / low) ** 0.05 if high > low else 2.0
        return low / ratio, high * ratio
    pad = 0.05 * (high - low) if high > low else 1.0
    return low - pad, high + pad


def kinematics_plot(
    solver: pl.DataFrame, lines: Sequence[KinematicLine], path: Path, particle_name: str
) -> None:
    """Kinetic energy against lab polar angle of the solver's fits, with the expected lines."""
    figure = Figure(figsize=(7, 5))
    axes = figure.subplots()
    rows = solver.filter(pl.col("polar").is_finite() & pl.col("ke").is_finite())
    if rows.height:
        axes.scatter(np.rad2deg(rows["polar"].to_numpy()), rows["ke"].to_numpy(), s=4, alpha=0.6)
    else:
        _note_empty(axes, "no InterpSolver rows")
    for line in lines:
        axes.plot(
            np.rad2deg(line.polar),
            line.kinetic_energy,
            linewidth=1.0,
            label=f"E$_x$ = {round(line.excitation, 3) + 0.0:.3f} MeV",
        )
    if lines:
        axes.legend(loc="upper right")
    if rows.height:
        polar = np.rad2deg(rows["polar"].to_numpy())
        axes.set_xlim(max(0.0, polar.min() - 5.0), min(180.0, polar.max() + 5.0))
        axes.set_ylim(0.0, 1.1 * float(rows["ke"].max()))
    axes.set_xlabel("lab polar angle (deg)")
    axes.set_ylabel("kinetic energy (MeV)")
    axes.set_title(f"Kinematics of {particle_name} ({rows.height} fits)")
    _save(figure, path)


def residuals_plot(
    residuals_by_stage: dict[str, pl.DataFrame], path: Path, range_sigmas: float
) -> None:
    """Histograms of reconstructed - true, one row per stage and one column per quantity."""
    stages = list(residuals_by_stage)
    figure = Figure(figsize=(4 * len(QUANTITIES), 3.2 * len(stages)))
    grid = figure.subplots(len(stages), len(QUANTITIES), squeeze=False)
    for row, stage in enumerate(stages):
        for column, quantity in enumerate(QUANTITIES):
            axes = grid[row][column]
            values = residuals_by_stage[stage][quantity].to_numpy().astype(float)
            values = values[np.isfinite(values)]
            axes.set_title(f"{stage}: {LABELS[quantity]}", fontsize=10)
            axes.set_xlabel(f"reconstructed - true ({UNITS[quantity]})")
            if values.size == 0:
                _note_empty(axes, "no matched rows")
                continue
            median, sigma = float(np.median(values)), robust_sigma(values)
            half_width = range_sigmas * sigma if sigma > 0 else max(abs(median), 1.0)
            low, high = median - half_width, median + half_width
            axes.hist(values, bins=HISTOGRAM_BINS, range=(low, high))
            axes.axvline(0.0, color="black", linewidth=0.8)
            underflow, overflow = int((values < low).sum()), int((values > high).sum())
            axes.text(
                0.02,
                0.95,
                f"N = {values.size}\nmedian {median:.3g}\n\u03c3$_{{robust}}$ {sigma:.3g}"
                f"\nbelow {underflow}, above {overflow}",
                transform=axes.transAxes,
                va="top",
                fontsize=8,
            )
    figure.tight_layout()
    _save(figure, path)
