"""How whole the fitted ejectile tracks are: the share of the ejectile's points in the cluster
that was fitted, on the physics matrix, and what a missing part costs the fit.

For every sample of ``physics_matrix.py`` analysed in ``--workspace`` (run it first): each
event's ejectile points (attpc_engine's labels of the point cloud), the InterpSolver fits of the
event's clusters, and for the fit whose cluster holds most ejectile points, its completeness
(the fraction of the ejectile's points in that cluster) and where the missing points are (in
another cluster, or in none). Printed per sample: fits, the fraction of them with completeness
below 0.95, the share of the missing points found in another cluster (a split track), and the
robust sigma of fitted / true kinetic energy - 1 (%) for the whole and the incomplete tracks.
Then, per sample, where the simulated events without a fit were lost: no point cloud, a cloud
below the Cluster phase's ``min_cloud_size`` (with the median true vertex z of those), no
cluster, no estimate, or no fit.

Usage:
    python benchmarks/diagnose_clusters.py --events 1000 --workspace /tmp/physics_matrix_ex
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

from physics_matrix import CLUSTER, RUN, analysed_samples, solver_output  # noqa: E402

from spyralflow.summary.metrics import robust_sigma  # noqa: E402

EJECTILE_LABEL = EJECTILE_ROW = 2
WHOLE = 0.95


def point_keys(points: np.ndarray) -> set[tuple]:
    """Points by their rounded coordinates (a cluster copies its cloud's x, y, z)."""
    return set(map(tuple, np.round(points[:, :3], 4)))


def completeness(folder: Path) -> pl.DataFrame:
    """Per event with a fit: the best fit's completeness, missing points elsewhere, dKE %."""
    truth = pl.read_parquet(folder / "truth.parquet").filter(pl.col("particle") == EJECTILE_ROW)
    true_ke = dict(zip(truth["event"].to_list(), truth["kinetic_energy"].to_list(), strict=True))
    fits = pl.read_parquet(solver_output(folder))
    rows = []
    with (
        h5py.File(folder / "pointcloud" / f"run_{RUN:04d}.h5", "r") as clouds,
        h5py.File(folder / "spyralflow" / "Cluster" / f"run_{RUN:04d}.h5", "r") as clusters,
    ):
        for (event,), event_fits in fits.group_by(["event"]):
            labels = clouds["cloud"][f"labels_{event}"][()]
            ejectile = point_keys(clouds["cloud"][f"cloud_{event}"][()][labels == EJECTILE_LABEL])
            if not ejectile or event not in true_ke:
                continue
            group = clusters["cluster"][f"event_{event}"]
            members = {name: point_keys(group[name]["cloud"][()]) for name in group}
            best = max(
                event_fits.iter_rows(named=True),
                key=lambda fit: len(ejectile & members[f"cluster_{fit['cluster_index']}"]),
            )
            mine = members[f"cluster_{best['cluster_index']}"]
            missing = ejectile - mine
            others = set().union(*(keys for name, keys in members.items() if keys is not mine))
            rows.append(
                (
                    event,
                    len(ejectile & mine) / len(ejectile),
                    len(missing & others) / len(missing) if missing else np.nan,
                    100.0 * (best["ke"] / true_ke[event] - 1.0),
                )
            )
    return pl.DataFrame(
        rows, schema=["event", "completeness", "missing_elsewhere", "dke_percent"], orient="row"
    )


def losses(folder: Path) -> dict[str, list[float]]:
    """The simulated events of a sample by the stage that lost them (true vertex z, mm)."""
    truth = pl.read_parquet(folder / "truth.parquet").filter(pl.col("particle") == EJECTILE_ROW)
    fitted = set(pl.read_parquet(solver_output(folder))["event"].to_list())
    estimated = set(
        pl.read_parquet(folder / "spyralflow" / "Estimation" / f"run_{RUN:04d}.parquet")[
            "event"
        ].to_list()
    )
    stages: dict[str, list[float]] = {
        name: [] for name in ("fitted", "no cloud", "small", "no cluster", "no estimate", "no fit")
    }
    with (
        h5py.File(folder / "pointcloud" / f"run_{RUN:04d}.h5", "r") as clouds,
        h5py.File(folder / "spyralflow" / "Cluster" / f"run_{RUN:04d}.h5", "r") as clusters,
    ):
        for event, vertex_z in zip(truth["event"], truth["vertex_z"], strict=True):
            name = f"cloud_{event}"
            points = clouds["cloud"][name].shape[0] if name in clouds["cloud"] else 0
            found = clusters["cluster"].get(f"event_{event}")
            if event in fitted:
                stage = "fitted"
            elif points == 0:
                stage = "no cloud"
            elif points < CLUSTER.min_cloud_size:
                stage = "small"
            elif found is None or len(found) == 0:
                stage = "no cluster"
            elif event not in estimated:
                stage = "no estimate"
            else:
                stage = "no fit"
            stages[stage].append(float(vertex_z))
    return stages


def print_losses(name: str, folder: Path) -> None:
    stages = losses(folder)
    small_z = np.median(stages["small"]) if stages["small"] else np.nan
    print(
        f"{name:16} {sum(len(v) for v in stages.values()):6d} {len(stages['fitted']):6d} "
        f"{len(stages['no cloud']):8d} {len(stages['small']):6d} {small_z:10.0f} "
        f"{len(stages['no cluster']):10d} {len(stages['no estimate']):11d} "
        f"{len(stages['no fit']):6d}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--workspace", type=Path, default=Path("/tmp/physics_matrix_ex"))
    arguments = parser.parse_args()
    print(
        f"{'sample':16} {'fits':>5} {'incomplete':>10} {'in a 2nd':>8} "
        f"{'dKE% whole':>10} {'incomplete':>10}"
    )
    analysed = analysed_samples(arguments.workspace, arguments.events)
    for sample, folder in analysed:
        table = completeness(folder)
        whole = table["completeness"].to_numpy() >= WHOLE
        elsewhere = table["missing_elsewhere"].to_numpy()[~whole]
        dke = table["dke_percent"].to_numpy()
        print(
            f"{sample[0]:16} {table.height:5d} {1.0 - whole.mean():10.3f} "
            f"{np.nanmean(elsewhere):8.2f} {robust_sigma(dke[whole]):10.2f} "
            f"{robust_sigma(dke[~whole]):10.2f}"
        )
    print(
        f"\n{'sample':16} {'events':>6} {'fitted':>6} {'no cloud':>8} {'small':>6} "
        f"{'(vertex z)':>10} {'no cluster':>10} {'no estimate':>11} {'no fit':>6}"
    )
    for sample, folder in analysed:
        print_losses(sample[0], folder)


if __name__ == "__main__":
    main()
