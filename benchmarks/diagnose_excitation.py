"""Where each state's Ex offset comes from: per 15 deg bin of true polar angle, the median Ex
residual of spyralflow's fits, and again with one fitted input replaced by its truth.

For every sample of ``physics_matrix.py`` analysed in ``--workspace`` (run it first, e.g. with
``--skip-spyral``): the Kinematics phase on the sample's fits (``matrix_excitation``), each fit
matched to its event's simulated ejectile, the fits within 1.7 deg of the true polar angle kept
(the core, as the peak is), and per state and bin the medians of

- ``reco``: Ex - true Ex with the fitted inputs;
- ``polar``, ``ke``, ``beam``: the same with the true polar angle, the true ejectile kinetic
  energy or the true beam energy at the vertex in place of the fitted one (the missing-mass
  kernel of the Kinematics phase);
- ``dpolar`` (deg), ``dKE`` (MeV), ``dbeam`` (MeV): the fitted minus true inputs.

An input whose truth takes ``reco`` to zero is where a bin's offset comes from.

Each state also gets an ``all`` row (every bin, backward ones included), and every row the
standard error of its ``reco`` median (sqrt(pi/2) x robust sigma / sqrt(fits)). The ``all`` row
is the reconstruction's own Ex offset of the state, free of the line shape that
``matrix_excitation.py``'s peak fit puts on the spectrum: where the resolution differs from bin
to bin, the core Gaussian of that fit follows the best-resolved bins, and its centroid can sit
away from the median of all fits.

Usage:
    python benchmarks/diagnose_excitation.py --events 1000 --workspace /tmp/physics_matrix_ex
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np
import polars as pl

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY / "benchmarks"))

from matrix_excitation import kinematics_phase, kinematics_table  # noqa: E402
from physics_matrix import POLAR_BIN_DEG, analysed_samples  # noqa: E402

from spyralflow.phases.kinematics.missing_mass import excitation_energy  # noqa: E402
from spyralflow.summary.metrics import robust_sigma  # noqa: E402

EJECTILE_ROW, RESIDUAL_ROW, BEAM_ROW = 2, 3, 1  # attpc_engine's truth rows of two-body events
CORE_POLAR_RAD = 0.03
MIN_FITS = 10
MEDIAN_ERROR_FACTOR = float(np.sqrt(np.pi / 2.0))
BIN_LOWS = np.arange(0.0, 180.0, POLAR_BIN_DEG)


def matched(sample: tuple, folder: Path) -> pl.DataFrame:
    """The sample's fits with Ex, joined to their event's truth (true_* columns)."""
    truth = pl.read_parquet(folder / "truth.parquet")

    def row(particle: int, **columns: str) -> pl.DataFrame:
        chosen = truth.filter(pl.col("particle") == particle)
        return chosen.select("event", *(pl.col(c).alias(a) for a, c in columns.items()))

    fits = kinematics_table(sample, folder).filter(pl.col("ex").is_finite())
    return (
        fits.join(row(EJECTILE_ROW, true_polar="polar", true_ke="kinetic_energy"), on="event")
        .join(row(RESIDUAL_ROW, true_ex="excitation"), on="event")
        .join(row(BEAM_ROW, true_beam="kinetic_energy"), on="event")
        .filter((pl.col("polar") - pl.col("true_polar")).abs() < CORE_POLAR_RAD)
    )


def print_sample(sample: tuple, folder: Path) -> None:
    table = matched(sample, folder)
    masses = kinematics_phase(sample, folder).masses()

    def column(name: str) -> np.ndarray:
        return table[name].to_numpy()

    beam, ke, polar = column("beam_ke"), column("ke"), column("polar")
    true_beam, true_ke, true_polar = column("true_beam"), column("true_ke"), column("true_polar")
    variants = {
        "reco": excitation_energy(beam, ke, polar, masses),
        "polar": excitation_energy(beam, ke, true_polar, masses),
        "ke": excitation_energy(beam, true_ke, polar, masses),
        "beam": excitation_energy(true_beam, ke, polar, masses),
    }
    true_ex, degrees = column("true_ex"), np.degrees(true_polar)
    for state in sample[3]:
        of_state = np.abs(true_ex - state) < 0.05
        scopes = [
            (f"{low:3.0f}-{low + POLAR_BIN_DEG:<3.0f}", (degrees >= low) & (degrees < high))
            for low, high in zip(BIN_LOWS, BIN_LOWS + POLAR_BIN_DEG, strict=True)
        ]
        for label, in_scope in [*scopes, ("all    ", np.ones_like(of_state))]:
            chosen = of_state & in_scope
            if chosen.sum() < MIN_FITS:
                continue
            residuals = {name: (v - true_ex)[chosen] for name, v in variants.items()}
            inputs = (
                np.degrees(np.median((polar - true_polar)[chosen])),
                np.median((ke - true_ke)[chosen]),
                np.median((beam - true_beam)[chosen]),
            )
            # Standard error of a median: sqrt(pi/2) x sigma / sqrt(n) (robust sigma).
            error = MEDIAN_ERROR_FACTOR * robust_sigma(residuals["reco"]) / np.sqrt(chosen.sum())
            print(
                f"{sample[0]:16} {state:6.3f} {label} {chosen.sum():5d} "
                + " ".join(f"{np.median(r):+7.3f}" for r in residuals.values())
                + " "
                + " ".join(f"{m:+7.3f}" for m in inputs)
                + f" {error:6.3f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--workspace", type=Path, default=Path("/tmp/physics_matrix_ex"))
    arguments = parser.parse_args()
    logging.disable(logging.WARNING)
    print(
        f"{'sample':16} {'state':>6} {'bin':7} {'fits':>5} {'reco':>7} {'polar':>7} {'ke':>7} "
        f"{'beam':>7} {'dpolar':>7} {'dKE':>7} {'dbeam':>7} {'error':>6}"
    )
    for sample, folder in analysed_samples(arguments.workspace, arguments.events):
        print_sample(sample, folder)


if __name__ == "__main__":
    main()
