"""Ideal simulated tracks: a positive particle's helix in the AT-TPC field, as cluster data."""

from __future__ import annotations

import numpy as np

MAGNETIC_FIELD = 2.85


def ideal_helix(
    polar: float,
    azimuthal: float,
    brho: float,
    vertex: tuple[float, float, float] = (0.0, 0.0, 400.0),
    turns: float = 1.0,
    count: int = 400,
    charge: float = 100.0,
) -> np.ndarray:
    """(n, 5) cluster data [x, y, z, integral, scale] of a charge +1 helix, sorted by z.

    Parameters
    ----------
    polar, azimuthal : float
        Initial direction in rad (polar from +z).
    brho : float
        Magnetic rigidity in T m.
    vertex : tuple
        Start point in mm.
    turns : float
        Turns of the helix to keep.
    """
    radius = brho * np.sin(polar) / MAGNETIC_FIELD * 1000.0  # mm
    path = np.linspace(0.0, turns * 2.0 * np.pi * radius / np.sin(polar), count)
    turned = path * np.sin(polar) / radius
    # Counter-clockwise seen from +z: the centre lies to the left of the initial direction.
    center_x = vertex[0] - radius * np.sin(azimuthal)
    center_y = vertex[1] + radius * np.cos(azimuthal)
    data = np.empty((count, 5))
    data[:, 0] = center_x + radius * np.sin(azimuthal + turned)
    data[:, 1] = center_y - radius * np.cos(azimuthal + turned)
    data[:, 2] = vertex[2] + path * np.cos(polar)
    data[:, 3] = charge
    data[:, 4] = 1.0
    return data[np.argsort(data[:, 2], kind="stable")]
