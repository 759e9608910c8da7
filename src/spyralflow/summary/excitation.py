"""The Kinematics phase against truth: Ex residual per state, and pulls of the fitted quantities.

Kinematics rows are matched to the truth of the ejectile by event (orig_run, orig_event = run,
event), the row nearest in polar angle and kinetic energy kept (``match_kinematics``). The true
excitation is the residual's (kinematics row 3).

Ex table, one row per true state: ``state`` (MeV), ``n_truth`` (simulated ejectiles of the
state), ``n_reconstructed`` (matched with a finite Ex), ``efficiency``, ``centroid`` (median
reconstructed Ex, MeV), ``bias_median`` (median reconstructed - true, MeV), ``resolution_robust``
(1.4826 x MAD, MeV), ``std`` (MeV).

Pull table, one row per quantity (vertex_z, polar, ke, ex): ``n``, ``pull_mean``, ``pull_std``,
``pull_robust`` of (reconstructed - true) / sigma, over rows with a finite positive sigma; a pull
spread of 1 means the sigma columns are right.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from spyralflow.summary.kinematics import RESIDUAL_ROW
from spyralflow.summary.matching import (
    EJECTILE_ROW,
    Particle,
    nearest_per_truth_row,
    polar_and_relative_distance,
)
from spyralflow.summary.metrics import robust_sigma

KINEMATICS_COLUMNS = (
    "orig_run",
    "orig_event",
    "vertex_z",
    "sigma_vz",
    "polar",
    "sigma_polar",
    "ke",
    "sigma_ke",
    "ex",
    "sigma_ex",
    "redchisq",
    "reason",
)
STATE_GROUPING_MEV = 0.1
PULL_QUANTITIES = {
    # quantity: (reconstructed column, sigma column, true column, scale of reconstructed to true)
    "vertex_z": ("vertex_z", "sigma_vz", "true_vertex_z", 1000.0),
    "polar": ("polar", "sigma_polar", "true_polar", 1.0),
    "ke": ("ke", "sigma_ke", "true_kinetic_energy", 1.0),
    "ex": ("ex", "sigma_ex", "true_excitation", 1.0),
}
EX_SCHEMA: dict[str, pl.DataType] = {
    "state": pl.Float64(),
    "n_truth": pl.Int64(),
    "n_reconstructed": pl.Int64(),
    "efficiency": pl.Float64(),
    "centroid": pl.Float64(),
    "bias_median": pl.Float64(),
    "resolution_robust": pl.Float64(),
    "std": pl.Float64(),
}
PULL_SCHEMA: dict[str, pl.DataType] = {
    "quantity": pl.String(),
    "n": pl.Int64(),
    "pull_mean": pl.Float64(),
    "pull_std": pl.Float64(),
    "pull_robust": pl.Float64(),
}


def ejectile_truth(truth: pl.DataFrame, particle: Particle) -> pl.DataFrame:
    """Per simulated ejectile of the particle of interest: its truth and the event's true Ex."""
    excitation = truth.filter(pl.col("particle") == RESIDUAL_ROW).select(
        "run", "event", pl.col("excitation").alias("true_excitation")
    )
    ejectile = truth.filter(
        (pl.col("particle") == EJECTILE_ROW)
        & pl.col("simulated")
        & (pl.col("Z") == particle.proton_number)
        & (pl.col("A") == particle.mass_number)
    ).select(
        "run",
        "event",
        pl.col("polar").alias("true_polar"),
        pl.col("vertex_z").alias("true_vertex_z"),
        pl.col("kinetic_energy").alias("true_kinetic_energy"),
    )
    return ejectile.join(excitation, on=["run", "event"], how="left")


def match_kinematics(truth_rows: pl.DataFrame, kinematics: pl.DataFrame) -> pl.DataFrame:
    """Each truth row with its event's Kinematics row nearest in polar angle and kinetic energy
    (inner join): the least |polar difference| (rad) + |KE difference| / (2 true KE).

    The weight of one half makes a relative KE difference count as the relative Brho difference
    it amounts to (KE grows as Brho squared), as in ``matching.match``: kinetic energy alone
    takes the recoil's fit under the ejectile's hypothesis where it lands nearer the true KE.
    """
    rows = kinematics.rename({"orig_run": "run", "orig_event": "event"})
    distance = polar_and_relative_distance(
        "polar", "true_polar", "ke", "true_kinetic_energy", weight=0.5
    )
    return nearest_per_truth_row(truth_rows, rows, distance, keys=("run", "event"))


def ex_table(truth_rows: pl.DataFrame, matched: pl.DataFrame) -> pl.DataFrame:
    """The Ex table (module docstring) of every true state.

    True excitations within ``STATE_GROUPING_MEV`` of each other are one state (a state's
    simulated width spreads them), labelled by their mean.
    """
    group = (pl.col("true_excitation") / STATE_GROUPING_MEV).round().alias("group")
    truth_states = truth_rows.filter(pl.col("true_excitation").is_not_null()).with_columns(group)
    matched_states = matched.with_columns(group)
    records = []
    for key in sorted(truth_states["group"].unique().to_list()):
        in_state = truth_states.filter(pl.col("group") == key)
        rows = matched_states.filter((pl.col("group") == key) & pl.col("ex").is_finite())
        ex = rows["ex"].to_numpy().astype(float)
        residual = ex - rows["true_excitation"].to_numpy().astype(float)
        n_truth = in_state.height
        records.append(
            {
                "state": float(in_state["true_excitation"].mean()),
                "n_truth": n_truth,
                "n_reconstructed": ex.size,
                "efficiency": ex.size / n_truth if n_truth else float("nan"),
                "centroid": float(np.median(ex)) if ex.size else float("nan"),
                "bias_median": float(np.median(residual)) if ex.size else float("nan"),
                "resolution_robust": robust_sigma(residual),
                "std": float(residual.std(ddof=1)) if ex.size > 1 else float("nan"),
            }
        )
    return pl.DataFrame(records, schema=EX_SCHEMA)


def pulls(matched: pl.DataFrame) -> dict[str, np.ndarray]:
    """(reconstructed - true) / sigma per quantity, over rows with a finite positive sigma."""
    result = {}
    for quantity, (column, sigma_column, true_column, scale) in PULL_QUANTITIES.items():
        reconstructed = matched[column].to_numpy().astype(float) * scale
        sigma = matched[sigma_column].to_numpy().astype(float) * scale
        true = matched[true_column].to_numpy().astype(float)
        usable = np.isfinite(reconstructed) & np.isfinite(true) & np.isfinite(sigma) & (sigma > 0)
        result[quantity] = (reconstructed[usable] - true[usable]) / sigma[usable]
    return result


def pull_table(pull_values: dict[str, np.ndarray]) -> pl.DataFrame:
    """The pull table (module docstring)."""
    records = [
        {
            "quantity": quantity,
            "n": values.size,
            "pull_mean": float(values.mean()) if values.size else float("nan"),
            "pull_std": float(values.std(ddof=1)) if values.size > 1 else float("nan"),
            "pull_robust": robust_sigma(values),
        }
        for quantity, values in pull_values.items()
    ]
    return pl.DataFrame(records, schema=PULL_SCHEMA)
