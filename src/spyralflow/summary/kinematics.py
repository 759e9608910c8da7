"""Expected kinetic energy against lab polar angle for each populated state (two-body lines).

The reaction and the beam energy come from the truth: the nuclei of kinematics rows 0-3 and the
median beam energy at the vertex. The states are the given excitation energies, or those the
truth populates. The lines are attpc_engine's relativistic two-body kinematics
(``Reaction.calculate``) over the centre-of-mass angle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

TARGET_ROW, PROJECTILE_ROW, EJECTILE_ROW, RESIDUAL_ROW = 0, 1, 2, 3
STATE_RESOLUTION = 0.01  # MeV: states closer than this are one state
MINIMUM_STATE_SHARE = 0.02  # a state must hold 2 % of the events to get a line
MAXIMUM_STATES = 8
CENTRE_OF_MASS_STEPS = 181


@dataclass(frozen=True)
class KinematicLine:
    """One state's line.

    Parameters
    ----------
    excitation : float
        Excitation energy of the residual in MeV.
    polar : numpy.ndarray
        Lab polar angle of the particle in rad.
    kinetic_energy : numpy.ndarray
        Its kinetic energy in MeV.
    """

    excitation: float
    polar: np.ndarray
    kinetic_energy: np.ndarray


def populated_states(truth: pl.DataFrame) -> list[float]:
    """Excitation energies (MeV) of the residual the truth populates, most populated first."""
    residual = truth.filter(pl.col("particle") == RESIDUAL_ROW)["excitation"].to_numpy()
    if residual.size == 0:
        return []
    _, members, counts = np.unique(
        np.round(residual / STATE_RESOLUTION), return_inverse=True, return_counts=True
    )
    order = np.argsort(-counts, kind="stable")
    keep = [i for i in order if counts[i] >= MINIMUM_STATE_SHARE * residual.size]
    return [float(residual[members == i].mean()) for i in keep[:MAXIMUM_STATES]]


def kinematic_lines(
    truth: pl.DataFrame, particle_row: int, excitations: Sequence[float] | None = None
) -> list[KinematicLine]:
    """Kinetic energy against lab polar angle of kinematics row ``particle_row``, per state.

    Parameters
    ----------
    truth : polars.DataFrame
        Truth rows (all particles) of the simulated runs.
    particle_row : int
        Kinematics row of the particle to draw (2 ejectile, 3 residual).
    excitations : sequence of float, optional
        Residual excitation energies in MeV; default: the states the truth populates.
    """
    from attpc_engine.kinematics import Reaction

    from spyralflow.simulation.engine import nucleus

    def row_nucleus(row: int):
        values = truth.filter(pl.col("particle") == row).select("Z", "A").row(0)
        return nucleus(*values)

    if truth.filter(pl.col("particle") == PROJECTILE_ROW).height == 0:
        return []
    reaction = Reaction(
        target=row_nucleus(TARGET_ROW),
        projectile=row_nucleus(PROJECTILE_ROW),
        ejectile=row_nucleus(EJECTILE_ROW),
    )
    beam_energy = float(
        truth.filter(pl.col("particle") == PROJECTILE_ROW)["kinetic_energy"].median()
    )
    states = populated_states(truth) if excitations is None else list(excitations)
    angles = np.linspace(0.0, np.pi, CENTRE_OF_MASS_STEPS)
    lines = []
    for excitation in states:
        if not reaction.is_excitation_allowed(beam_energy, excitation):
            continue
        polar, kinetic = [], []
        for angle in angles:
            vectors = reaction.calculate(beam_energy, angle, 0.0, excitation)
            lab = vectors[particle_row]
            polar.append(lab.theta)
            kinetic.append(lab.E - lab.mass)
        lines.append(KinematicLine(excitation, np.array(polar), np.array(kinetic)))
    return lines
