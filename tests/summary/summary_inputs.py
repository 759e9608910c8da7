"""Small synthetic truth and reconstruction tables for the summary tests.

The truth describes 16C(d,d') events: rows 0 target d, 1 beam 16C, 2 ejectile d, 3 residual 16C,
with the ejectile's Brho consistent with its kinetic energy. Reconstructed tables are made from
the truth with known offsets and spreads, so the summary's numbers can be predicted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from spyralflow.simulation.engine import nucleus
from spyralflow.simulation.truth import BRHO_TO_MOMENTUM

NUCLEI = ((1, 2), (6, 16), (1, 2), (6, 16))
SIMULATED = (False, False, True, True)


def ejectile_brho(kinetic_energy: np.ndarray) -> np.ndarray:
    """Brho (T m) of a deuteron with this kinetic energy (MeV)."""
    mass = nucleus(1, 2).mass
    return np.sqrt(kinetic_energy**2 + 2.0 * kinetic_energy * mass) / BRHO_TO_MOMENTUM


def truth_table(run: int, n_events: int, rng: np.random.Generator) -> pl.DataFrame:
    """Truth rows of ``n_events`` events of run ``run`` (no point lists)."""
    records = []
    for event in range(n_events):
        kinetic = rng.uniform(2.0, 60.0)
        polar = rng.uniform(0.2, 1.4)
        vertex_z = rng.uniform(0.0, 1000.0)
        excitation = rng.choice([0.0, 1.766])
        for particle, ((z, a), simulated) in enumerate(zip(NUCLEI, SIMULATED, strict=True)):
            is_ejectile = particle == 2
            records.append(
                {
                    "run": run,
                    "event": event,
                    "particle": particle,
                    "Z": z,
                    "A": a,
                    "simulated": simulated,
                    "kinetic_energy": kinetic if is_ejectile else 150.0 * (particle == 1),
                    "polar": polar if is_ejectile else 0.01,
                    "azimuthal": 1.0,
                    "brho": float(ejectile_brho(np.array(kinetic))) if is_ejectile else 3.0,
                    "excitation": excitation if particle == 3 else 0.0,
                    "vertex_x": 0.0,
                    "vertex_y": 0.0,
                    "vertex_z": vertex_z,
                }
            )
    return pl.DataFrame(records)


@dataclass(frozen=True)
class Offsets:
    """What the fake reconstruction does to the truth of the ejectile."""

    polar: float = 0.01  # rad
    vertex_z: float = 2.0  # mm
    brho_sigma: float = 0.005  # T m
    vertex_z_sigma: float = 3.0  # mm


def estimation_table(
    truth: pl.DataFrame, keep: np.ndarray, rng: np.random.Generator, offsets: Offsets
) -> pl.DataFrame:
    """Estimation rows of the kept ejectiles, plus one heavy decoy cluster per event."""
    ejectiles = truth.filter(pl.col("particle") == 2).filter(pl.Series(keep))
    n = ejectiles.height
    base = {
        "event": ejectiles["event"],
        "cluster_index": np.zeros(n, dtype=np.int64),
        "cluster_label": np.zeros(n, dtype=np.int64),
        "orig_run": ejectiles["run"],
        "orig_event": ejectiles["event"],
        "vertex_z": ejectiles["vertex_z"]
        + offsets.vertex_z
        + rng.normal(0.0, offsets.vertex_z_sigma, n),
        "polar": ejectiles["polar"] + offsets.polar,
        "brho": ejectiles["brho"] + rng.normal(0.0, offsets.brho_sigma, n),
        "dEdx": rng.uniform(100.0, 300.0, n),
    }
    decoys = {
        **base,
        "cluster_index": np.ones(n, dtype=np.int64),
        "polar": np.full(n, 0.05),
        "brho": ejectiles["brho"] + 2.0,
        "dEdx": np.full(n, 15000.0),
    }
    return pl.concat([pl.DataFrame(base), pl.DataFrame(decoys)])


def solver_table(truth: pl.DataFrame, keep: np.ndarray, offsets: Offsets) -> pl.DataFrame:
    """InterpSolver rows (vertex in metres) equal to the truth but for a polar offset."""
    ejectiles = truth.filter(pl.col("particle") == 2).filter(pl.Series(keep))
    return pl.DataFrame(
        {
            "orig_run": ejectiles["run"],
            "orig_event": ejectiles["event"],
            "vertex_z": ejectiles["vertex_z"] / 1000.0,
            "polar": ejectiles["polar"] - offsets.polar,
            "brho": ejectiles["brho"],
            "ke": ejectiles["kinetic_energy"],
        }
    )


def write(frame: pl.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(path)
    return path
