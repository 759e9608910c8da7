"""What the fits with gross polar errors are, on the physics matrix.

The polar-angle std of spyralflow's fits is about Spyral's on every sample while its robust sigma
is 8x smaller: a few fits per sample are off by tens of degrees. For every sample of
``physics_matrix.py`` analysed in ``--workspace`` (run it first), each fit whose polar error
exceeds ``--limit`` degrees is printed with its true and fitted polar angle, errors in vertex z
and kinetic energy, true and fitted Brho, and its cluster: the share of the cluster's points that
belong to the ejectile (purity, from attpc_engine's point labels), the share of the ejectile's
points the cluster holds (completeness) and the number of clusters in the event. A pure,
complete cluster with a wrong fit is the fit's fault; a cluster of mixed tracks is clustering's.

Usage:
    python benchmarks/diagnose_polar_outliers.py --events 200 --workspace /tmp/physics_matrix2
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import h5py
import numpy as np
import polars as pl

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY / "benchmarks"))

from diagnose_clusters import EJECTILE_LABEL, point_keys  # noqa: E402
from physics_matrix import RUN, analysed_samples, solver_output  # noqa: E402

from spyralflow.summary.matching import (  # noqa: E402
    match,
    particle_of_interest,
    residuals,
    solver_rows,
    truth_of_particle,
)

# Purity below this: the cluster holds a second track's points in earnest.
MIXED = 0.8


def outliers(folder: Path, limit: float) -> tuple[int, pl.DataFrame]:
    """(number of matched fits, the fits with |polar error| > ``limit`` deg and their
    clusters)."""
    truth = pl.read_parquet(folder / "truth.parquet")
    ejectile_truth = truth_of_particle(truth, particle_of_interest(truth, None))
    solver = pl.read_parquet(solver_output(folder))
    matched = match(ejectile_truth, solver_rows(solver))
    errors = residuals(matched).join(matched, on=["run", "event", "particle"])
    gross = errors.filter(pl.col("polar").abs() > limit)
    rows = []
    with (
        h5py.File(folder / "pointcloud" / f"run_{RUN:04d}.h5", "r") as clouds,
        h5py.File(folder / "spyralflow" / "Cluster" / f"run_{RUN:04d}.h5", "r") as clusters,
    ):
        for fit in gross.iter_rows(named=True):
            event = fit["event"]
            event_fits = solver.filter(pl.col("orig_event") == event)
            # The fit the match took: the event's fit with the matched polar angle and Brho.
            taken = (event_fits["polar"] == fit["reco_polar"]) & (
                event_fits["brho"] == fit["reco_brho"]
            )
            cluster_index = int(event_fits.filter(taken)["cluster_index"][0])
            labels = clouds["cloud"][f"labels_{event}"][()]
            cloud = clouds["cloud"][f"cloud_{event}"][()]
            ejectile = point_keys(cloud[labels == EJECTILE_LABEL])
            group = clusters["cluster"][f"event_{event}"]
            mine = point_keys(group[f"cluster_{cluster_index}"]["cloud"][()])
            shared = len(ejectile & mine)
            rows.append(
                (
                    event,
                    float(np.degrees(fit["true_polar"])),
                    float(np.degrees(fit["reco_polar"])),
                    fit["vertex_z"],
                    fit["kinetic_energy"],
                    fit["true_brho"],
                    fit["reco_brho"],
                    shared / max(len(mine), 1),
                    shared / max(len(ejectile), 1),
                    len(group),
                )
            )
    schema = [
        "event",
        "true_polar",
        "fitted_polar",
        "dz_mm",
        "dke_mev",
        "true_brho",
        "fitted_brho",
        "purity",
        "completeness",
        "clusters",
    ]
    return matched.height, pl.DataFrame(rows, schema=schema, orient="row")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--workspace", type=Path, default=Path("/tmp/physics_matrix2"))
    parser.add_argument("--limit", type=float, default=3.0, help="polar error, deg")
    arguments = parser.parse_args()
    for sample, folder in analysed_samples(arguments.workspace, arguments.events):
        fits, table = outliers(folder, arguments.limit)
        mixed = int((table["purity"] < MIXED).sum()) if table.height else 0
        print(
            f"\n## {sample[0]}: {table.height} of {fits} fits with |polar error| > "
            f"{arguments.limit:g} deg, {mixed} of them from a cluster under {MIXED:g} pure"
        )
        if table.height:
            with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_width_chars=160, float_precision=3):
                print(table.sort("event"))


if __name__ == "__main__":
    main()
