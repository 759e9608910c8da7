"""Matching reconstructed rows to the truth of the particle of interest.

A reconstructed row belongs to the event (orig_run, orig_event) of the truth row (run, event).
Among the rows of an event (clusters), those outside the PID gate are dropped (Estimation only),
and the one nearest the truth in polar angle and Brho together is kept (``match``). Every stage
is brought to the same columns and units: polar (rad), vertex_z (mm), brho (T·m),
kinetic_energy (MeV).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from spyralflow.simulation.truth import BRHO_TO_MOMENTUM
from spyralflow.summary.settings import PidGate

EJECTILE_ROW = 2
QUANTITIES = ("polar", "vertex_z", "brho", "kinetic_energy")
UNITS = {"polar": "deg", "vertex_z": "mm", "brho": "T m", "kinetic_energy": "MeV"}
"""Units of the residuals (reconstructed - true) of each quantity."""
KEYS = ("run", "event", "particle")


@dataclass(frozen=True)
class Particle:
    """The particle of interest.

    Parameters
    ----------
    proton_number, mass_number : int
        Z and A.
    mass : float
        Ground-state mass in MeV.
    """

    proton_number: int
    mass_number: int
    mass: float

    def kinetic_energy_from_brho(self, brho: pl.Expr) -> pl.Expr:
        """Kinetic energy in MeV of this particle with magnetic rigidity ``brho`` (T·m)."""
        momentum = brho * (BRHO_TO_MOMENTUM * self.proton_number)
        return (momentum**2 + self.mass**2).sqrt() - self.mass


def particle_of_interest(truth: pl.DataFrame, particle: tuple[int, int] | None) -> Particle:
    """The particle to compare: ``particle`` (Z, A), or the ejectile of the simulated reaction."""
    from spyralflow.simulation.engine import nucleus

    if particle is None:
        ejectile = truth.filter(pl.col("particle") == EJECTILE_ROW).select("Z", "A").unique()
        if ejectile.height != 1:
            raise ValueError(
                "the truth tables do not name one ejectile (kinematics row 2); give "
                "summary.particle as [Z, A]"
            )
        particle = (int(ejectile["Z"][0]), int(ejectile["A"][0]))
    z, a = particle
    return Particle(z, a, float(nucleus(z, a).mass))


def truth_of_particle(truth: pl.DataFrame, particle: Particle) -> pl.DataFrame:
    """Truth rows of the simulated particle of interest: run, event, particle, quantities."""
    return truth.filter(
        pl.col("simulated")
        & (pl.col("Z") == particle.proton_number)
        & (pl.col("A") == particle.mass_number)
    ).select(*KEYS, *QUANTITIES)


def estimation_rows(
    estimation: pl.DataFrame, particle: Particle, gate: PidGate | None
) -> pl.DataFrame:
    """Estimation rows in the common columns; KE follows from Brho for the particle."""
    rows = estimation
    if gate is not None:
        rows = rows.filter(
            pl.col("dEdx").is_between(*gate.dedx) & pl.col("brho").is_between(*gate.brho)
        )
    return rows.select(
        pl.col("orig_run").alias("run"),
        pl.col("orig_event").alias("event"),
        "polar",
        "vertex_z",
        "brho",
        particle.kinetic_energy_from_brho(pl.col("brho")).alias("kinetic_energy"),
    )


def solver_rows(solver: pl.DataFrame) -> pl.DataFrame:
    """InterpSolver rows in the common columns (its vertex is in metres)."""
    return solver.select(
        pl.col("orig_run").alias("run"),
        pl.col("orig_event").alias("event"),
        "polar",
        (pl.col("vertex_z") * 1000.0).alias("vertex_z"),
        "brho",
        pl.col("ke").alias("kinetic_energy"),
    )


def nearest_per_truth_row(
    truth_rows: pl.DataFrame,
    reconstructed: pl.DataFrame,
    distance: pl.Expr,
    keys: tuple[str, ...] = KEYS,
) -> pl.DataFrame:
    """Each truth row joined to the reconstructed row of its event (run, event) at the least
    ``distance``, an expression over the joined columns.

    Truth rows without a reconstructed row in their event are absent; rows whose distance is
    null come last, so they are kept only when nothing else is there.
    """
    joined = truth_rows.join(reconstructed, on=["run", "event"], how="inner")
    return (
        joined.with_columns(distance.alias("distance"))
        .sort([*keys, "distance"], nulls_last=True)
        .unique(subset=list(keys), keep="first", maintain_order=True)
        .drop("distance")
    )


def polar_and_relative_distance(
    reco_polar: str, true_polar: str, reco: str, true: str, weight: float = 1.0
) -> pl.Expr:
    """|polar difference| (rad) + ``weight`` x |relative difference of ``reco`` to ``true``|."""
    return (pl.col(reco_polar) - pl.col(true_polar)).abs() + weight * (
        (pl.col(reco) - pl.col(true)) / pl.col(true)
    ).abs()


def match(truth_rows: pl.DataFrame, reconstructed: pl.DataFrame) -> pl.DataFrame:
    """For each truth row, the reconstructed row of its event nearest to it in polar angle and
    Brho: the least |polar difference| (rad) + |Brho difference| / true Brho.

    Brho alone is not enough: an event's other track, fitted under the ejectile's hypothesis,
    can land nearer the true Brho than the ejectile's own fit. On the physics matrix's 200-event
    samples, 7 of the 17 fits more than 3 deg off in polar angle were the recoil's fit taken
    instead of the ejectile's accurate one, 0 to 3 per sample
    (``benchmarks/diagnose_polar_outliers.py``). One degree weighs as much as 1.7 % of Brho.

    Returns
    -------
    polars.DataFrame
        One row per matched truth row: the keys, ``true_<quantity>`` and ``reco_<quantity>``.
        Truth rows without a reconstructed row in their event are absent.
    """
    truth_named = truth_rows.rename({name: f"true_{name}" for name in QUANTITIES})
    reco_named = reconstructed.rename({name: f"reco_{name}" for name in QUANTITIES})
    distance = polar_and_relative_distance("reco_polar", "true_polar", "reco_brho", "true_brho")
    return nearest_per_truth_row(truth_named, reco_named, distance)


def residuals(matched: pl.DataFrame) -> pl.DataFrame:
    """Reconstructed minus true value of each quantity, in reporting units.

    Polar angles in degrees, vertex z in mm, Brho in T·m, kinetic energy in MeV.
    """
    return matched.select(
        *KEYS,
        (np.rad2deg(1.0) * (pl.col("reco_polar") - pl.col("true_polar"))).alias("polar"),
        (pl.col("reco_vertex_z") - pl.col("true_vertex_z")).alias("vertex_z"),
        (pl.col("reco_brho") - pl.col("true_brho")).alias("brho"),
        (pl.col("reco_kinetic_energy") - pl.col("true_kinetic_energy")).alias("kinetic_energy"),
    )
