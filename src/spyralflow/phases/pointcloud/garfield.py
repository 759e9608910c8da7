"""The optional Garfield electron-drift correction (spyral.md 3.7).

The correction grid is a one-time asset built from a Garfield drift table (``create_assets``),
named by a hash of the table's bytes and the detector parameters it uses, so a changed table or
calibration gives a new asset instead of silently reusing a stale one.

Garfield table: whitespace-separated, 6 columns in cm and ns: [x_initial, y_initial, x_final,
y_final, z_final, time], where Garfield's x is the drift axis (our z), y is rho, and z is the
transverse direction. 98 blocks (initial z from 30 to 1000 mm) of 55 rows (initial rho from -270
to 270 mm).

Grid: for rho = 0 ... 275 mm and z = 0 ... 1000 mm in 1 mm steps, [rho correction, transverse
correction, z correction] in mm.

Differences from Spyral, on purpose: the interpolation is a correct bilinear one on the node
grid (``scipy.interpolate.RegularGridInterpolator``): Spyral's divides each axis into ``bins``
cells instead of ``bins - 1``, and its edge-cell formulas are wrong. Kept as Spyral does, though
suspicious (spyral.md 11, item 7): the transverse and time corrections are looked up at
(z_garfield, rho_correction), i.e. at the *correction* instead of a radius, and the z correction
is clamped to [0, 1000] mm when applied.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from spyralflow.framework.atomic import atomic_output
from spyralflow.phases.detector import DetectorParameters
from spyralflow.phases.pointcloud.cloud import X, Y, Z

GARFIELD_Z_MM = np.linspace(30.0, 1000.0, 98)
"""Initial drift-axis positions of the Garfield table blocks."""
GARFIELD_RHO_MM = np.linspace(-270.0, 270.0, 55)
"""Initial rho of the rows inside a block."""
GARFIELD_MIDPOINT_ROW = 27
"""The rho = 0 row, whose time is the reference of its block."""
GRID_RHO_MM = np.linspace(0.0, 275.0, 276)
GRID_Z_MM = np.linspace(0.0, 1000.0, 1001)
Z_CORRECTION_LIMITS_MM = (0.0, 1000.0)
ASSET_FORMAT = "garfield-grid-1"
"""Changes whenever the grid construction changes, so old assets are not reused."""


class GarfieldError(ValueError):
    """The Garfield table or the correction settings are unusable; the message says why."""


def garfield_table_path(detector: DetectorParameters) -> Path:
    """The configured Garfield table, checked to exist.

    Raises
    ------
    GarfieldError
        If the correction is enabled without a table, or the table does not exist.
    """
    if detector.garfield_file_path is None:
        raise GarfieldError(
            "DetectorParameters.do_garfield_correction is true but garfield_file_path is not set"
        )
    path = Path(detector.garfield_file_path)
    if not path.is_file():
        raise GarfieldError(f"the Garfield table {path} (garfield_file_path) does not exist")
    return path


def correction_asset_name(table_path: Path, detector: DetectorParameters) -> str:
    """``garfield-<hash>.npy``: the hash covers the table's bytes and the calibration used."""
    digest = hashlib.sha256(Path(table_path).read_bytes())
    settings = {
        "format": ASSET_FORMAT,
        "detector_length": detector.detector_length,
        "window_time_bucket": detector.window_time_bucket,
        "micromegas_time_bucket": detector.micromegas_time_bucket,
        "get_frequency": detector.get_frequency,
    }
    digest.update(json.dumps(settings, sort_keys=True).encode())
    return f"garfield-{digest.hexdigest()[:16]}.npy"


def read_garfield_table(path: Path) -> np.ndarray:
    """The table as (98 z blocks, 55 rho rows, 6 columns).

    Raises
    ------
    GarfieldError
        If the file cannot be parsed or does not hold 98 x 55 rows of at least 6 columns.
    """
    try:
        table = np.loadtxt(path, dtype=np.float64, ndmin=2)
    except ValueError as error:
        raise GarfieldError(f"cannot read the Garfield table {path}: {error}") from error
    blocks, rows = len(GARFIELD_Z_MM), len(GARFIELD_RHO_MM)
    if table.shape[0] != blocks * rows or table.shape[1] < 6:
        raise GarfieldError(
            f"the Garfield table {path} has shape {table.shape}; expected {blocks * rows} rows "
            f"({blocks} z blocks of {rows} rho rows) of 6 columns"
        )
    return table[:, :6].reshape(blocks, rows, 6)


def _initial_rho(contours: object, final_rho: float, z_mm: np.ndarray) -> np.ndarray:
    """Initial rho along the iso-line 'final rho = final_rho', at each z (0 without a line)."""
    lines = contours.lines(final_rho)  # type: ignore[attr-defined]
    if len(lines) == 0:
        return np.zeros_like(z_mm)
    line = lines[0][np.argsort(lines[0][:, 0])]
    return np.interp(z_mm, line[:, 0], line[:, 1])


def build_correction_grid(table: np.ndarray, detector: DetectorParameters) -> np.ndarray:
    """The correction grid (276 rho x 1001 z x 3) from a Garfield table (98 x 55 x 6).

    Parameters
    ----------
    table : numpy.ndarray
        The table from ``read_garfield_table``.
    detector : DetectorParameters
        Gives the drift speed in mm per ns: L / (t_window - t_micromegas) * f * 0.001.
    """
    # Imported here: both cost most of a second and only this optional correction needs them.
    from contourpy import contour_generator
    from scipy.interpolate import RegularGridInterpolator

    final = table[:, :, 2:5] * 10.0  # cm -> mm: final z, final rho, final transverse
    time_ns = table[:, :, 5] - table[:, GARFIELD_MIDPOINT_ROW : GARFIELD_MIDPOINT_ROW + 1, 5]
    time_mm = time_ns * detector.mm_per_time_bucket * detector.get_frequency * 0.001
    values = np.stack([final[:, :, 0], final[:, :, 2], time_mm], axis=-1)
    drift = RegularGridInterpolator(
        (GARFIELD_Z_MM, GARFIELD_RHO_MM), values, bounds_error=False, fill_value=np.nan
    )
    rho_initial_grid, z_initial_grid = np.meshgrid(GARFIELD_RHO_MM, GARFIELD_Z_MM)
    contours = contour_generator(z_initial_grid, rho_initial_grid, final[:, :, 1])
    z_garfield = (1.0 - GRID_Z_MM * 0.001) * 970.0 + 30.0
    grid = np.empty((len(GRID_RHO_MM), len(GRID_Z_MM), 3), dtype=np.float64)
    for index, rho in enumerate(GRID_RHO_MM):
        rho_correction = _initial_rho(contours, rho, GRID_Z_MM) - rho
        others = drift(np.column_stack([z_garfield, rho_correction]))
        grid[index, :, 0] = rho_correction
        grid[index, :, 1] = others[:, 1]
        grid[index, :, 2] = others[:, 2]
    return grid


def write_correction_grid(path: Path, grid: np.ndarray) -> None:
    """Save the grid as ``.npy``, atomically."""
    with atomic_output(path) as temporary, open(temporary, "wb") as handle:
        np.save(handle, grid)


class DriftCorrection:
    """Apply a correction grid to point clouds.

    Parameters
    ----------
    grid : numpy.ndarray
        (276, 1001, 3) from ``build_correction_grid``.
    """

    def __init__(self, grid: np.ndarray) -> None:
        expected = (len(GRID_RHO_MM), len(GRID_Z_MM), 3)
        if grid.shape != expected:
            raise GarfieldError(f"a correction grid has shape {expected}, got {grid.shape}")
        from scipy.interpolate import RegularGridInterpolator

        self._interpolator = RegularGridInterpolator(
            (GRID_RHO_MM, GRID_Z_MM), grid, bounds_error=False, fill_value=np.nan
        )

    @classmethod
    def load(cls, path: Path) -> DriftCorrection:
        """The correction stored at ``path``."""
        return cls(np.load(path))

    def apply(self, cloud: np.ndarray) -> None:
        """Correct x, y and z of a calibrated cloud in place.

        Points outside the grid (radius above 275 mm, z outside [0, 1000] mm) become NaN and are
        dropped later. Other columns are unchanged.
        """
        if len(cloud) == 0:
            return
        radius = np.sqrt(cloud[:, X] ** 2 + cloud[:, Y] ** 2)
        azimuth = np.arctan2(cloud[:, Y], cloud[:, X])
        correction = self._interpolator(np.column_stack([radius, cloud[:, Z]]))
        shifted = radius + correction[:, 0]
        new_radius = np.sqrt(shifted**2 + correction[:, 1] ** 2)
        new_azimuth = azimuth + np.arctan2(correction[:, 1], shifted)
        cloud[:, X] = new_radius * np.cos(new_azimuth)
        cloud[:, Y] = new_radius * np.sin(new_azimuth)
        cloud[:, Z] -= np.clip(correction[:, 2], *Z_CORRECTION_LIMITS_MM)
