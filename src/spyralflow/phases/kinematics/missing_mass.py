"""Relativistic two-body kinematics of the residual: missing mass and centre-of-mass angle.

The beam (kinetic energy ``beam_ke``, along +z) hits a target nucleus at rest; the ejectile leaves
with kinetic energy ``ejectile_ke`` at lab polar angle ``ejectile_polar``. Energy and momentum
conservation give the residual's invariant mass, whose excess over its ground-state mass is the
excitation energy. Everything is in MeV (energies, masses, momenta times c) and radians, on numpy
arrays of equal shape.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

# Central-difference steps of the propagation: small against any fit uncertainty, large
# against float rounding of energies of hundreds of MeV.
ENERGY_STEP_MEV = 1.0e-4
ANGLE_STEP_RAD = 1.0e-6


@dataclass(frozen=True)
class ReactionMasses:
    """Ground-state masses of the four nuclei, in MeV.

    Parameters
    ----------
    target, projectile, ejectile, residual : float
        Masses in MeV/c^2.
    """

    target: float
    projectile: float
    ejectile: float
    residual: float


def _momentum(kinetic_energy: np.ndarray, mass: float) -> np.ndarray:
    return np.sqrt(kinetic_energy * (kinetic_energy + 2.0 * mass))


def residual_invariant_mass_squared(
    beam_ke: np.ndarray,
    ejectile_ke: np.ndarray,
    ejectile_polar: np.ndarray,
    masses: ReactionMasses,
) -> np.ndarray:
    """Squared invariant mass of the residual, MeV^2 (negative when no residual can exist)."""
    beam_momentum = _momentum(beam_ke, masses.projectile)
    ejectile_momentum = _momentum(ejectile_ke, masses.ejectile)
    residual_energy = beam_ke + masses.projectile + masses.target - ejectile_ke - masses.ejectile
    residual_momentum_squared = (
        beam_momentum**2
        + ejectile_momentum**2
        - 2.0 * beam_momentum * ejectile_momentum * np.cos(ejectile_polar)
    )
    return residual_energy**2 - residual_momentum_squared


def excitation_energy(
    beam_ke: np.ndarray,
    ejectile_ke: np.ndarray,
    ejectile_polar: np.ndarray,
    masses: ReactionMasses,
) -> np.ndarray:
    """Excitation energy of the residual by missing mass, MeV (NaN where the mass is imaginary)."""
    mass_squared = residual_invariant_mass_squared(beam_ke, ejectile_ke, ejectile_polar, masses)
    with np.errstate(invalid="ignore"):
        return np.sqrt(mass_squared) - masses.residual


def centre_of_mass_polar(
    beam_ke: np.ndarray,
    ejectile_ke: np.ndarray,
    ejectile_polar: np.ndarray,
    masses: ReactionMasses,
) -> np.ndarray:
    """Polar angle of the ejectile in the centre-of-mass frame of beam and target, rad."""
    beam_momentum = _momentum(beam_ke, masses.projectile)
    total_energy = beam_ke + masses.projectile + masses.target
    beta = beam_momentum / total_energy
    gamma = 1.0 / np.sqrt(1.0 - beta**2)
    ejectile_momentum = _momentum(ejectile_ke, masses.ejectile)
    ejectile_energy = ejectile_ke + masses.ejectile
    longitudinal = gamma * (ejectile_momentum * np.cos(ejectile_polar) - beta * ejectile_energy)
    transverse = ejectile_momentum * np.sin(ejectile_polar)
    return np.arctan2(transverse, longitudinal)


def propagate(
    function: Callable[..., np.ndarray],
    values: Sequence[np.ndarray],
    sigmas: Sequence[np.ndarray],
    steps: Sequence[float],
) -> np.ndarray:
    """First-order (linear) uncertainty of ``function(*values)`` for independent inputs.

    Each partial derivative is a central difference with the given step; the input uncertainties
    are taken as uncorrelated (the fit reports no covariances).

    Parameters
    ----------
    function : callable
        Vectorised function of the values.
    values, sigmas : sequence of numpy.ndarray
        Inputs and their standard deviations (same order).
    steps : sequence of float
        Difference step of each input, in its unit.

    Returns
    -------
    numpy.ndarray
        The standard deviation of the result, per element.
    """
    variance = np.zeros(np.broadcast(*values).shape)
    for index, (sigma, step) in enumerate(zip(sigmas, steps, strict=True)):
        upper = [value + step if i == index else value for i, value in enumerate(values)]
        lower = [value - step if i == index else value for i, value in enumerate(values)]
        derivative = (function(*upper) - function(*lower)) / (2.0 * step)
        variance = variance + (derivative * sigma) ** 2
    return np.sqrt(variance)
