"""The beam's kinetic energy at the reaction vertex: its mean energy loss in the gas.

The beam enters the gas at the window (z = 0) and travels along the axis to the vertex z; the loss
is spyral-utils' ``get_energy_loss`` (catima underneath), the call attpc_engine makes when it
samples the beam energy of simulated events.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# Step of the derivative dE/dz, in m: 1 mm, over which the stopping power barely changes.
DERIVATIVE_STEP_M = 1.0e-3


def beam_energy_at(
    gas: Any, projectile: Any, window_energy: float, distance_m: np.ndarray
) -> np.ndarray:
    """Beam kinetic energy in MeV after ``distance_m`` metres of gas (NaN where it has stopped).

    Parameters
    ----------
    gas : spyral_utils.nuclear.target.GasTarget or GasMixtureTarget
        The gas.
    projectile : spyral_utils.nuclear.NucleusData
        The beam nucleus.
    window_energy : float
        Kinetic energy at the window, MeV.
    distance_m : numpy.ndarray
        Path lengths in the gas, m (non-negative).
    """
    distance_m = np.atleast_1d(np.asarray(distance_m, dtype=np.float64))
    if distance_m.size == 0:
        return np.empty(0)
    loss = np.asarray(gas.get_energy_loss(projectile, window_energy, distance_m), dtype=float)
    energy = window_energy - loss
    return np.where(energy > 0.0, energy, np.nan)


def beam_energy_and_slope(
    gas: Any, projectile: Any, window_energy: float, distance_m: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Beam energy at ``distance_m`` (MeV) and its derivative along z (MeV/m, negative)."""
    distance_m = np.asarray(distance_m, dtype=np.float64)
    lower = np.maximum(distance_m - DERIVATIVE_STEP_M, 0.0)
    upper = distance_m + DERIVATIVE_STEP_M
    energies = beam_energy_at(
        gas, projectile, window_energy, np.concatenate([distance_m, lower, upper])
    )
    energy, below, above = np.split(energies, 3)
    return energy, (above - below) / (upper - lower)
