"""Write the test fixture of ejectiles whose cluster also holds the recoil's track.

From the seeded samples of the physics matrix (``benchmarks/physics_matrix.py --skip-spyral``,
run first into ``--workspace``): every event whose final clusters, with the shipped Cluster
settings but without the branch split, include one holding at least 50 points and 20 % of its
points of each of the ejectile and the recoil (attpc_engine's point labels), and whose estimate
nearest the ejectile's truth (the summary's match) is over 3 deg off in polar angle: the
population of results/polar_outliers_200.txt. At most ``--per-sample`` per sample. The
ejectile's truth, the field and the point labels are stored with each cloud. Regenerate with
``python tests/physics/make_linked_recoil_fixture.py --workspace /tmp/physics_matrix
--per-sample 2`` (seconds, after the matrix).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import h5py
import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from failure_populations import (
    LINKED_RECOIL_FIXTURE,
    nearest_estimate,
    shipped_cluster_parameters,
    write_cloud,
)
from physics_matrix import RUN, SAMPLES

from spyralflow.phases.cluster.clusterize import cluster_cloud

EJECTILE, RECOIL = 2, 3
MIN_SHARE, MIN_POINTS = 0.2, 50
MIN_POLAR_ERROR = 3.0  # deg
WITHOUT_SPLIT = shipped_cluster_parameters(branch_split=False)
FIELDS = {sample[0]: sample[6] for sample in SAMPLES}  # T


def mixed(cloud: np.ndarray, labels: np.ndarray) -> bool:
    """Whether a final cluster without the branch split holds both tracks in earnest."""
    for cluster in cluster_cloud(cloud, WITHOUT_SPLIT):
        held = labels[cluster.parent_indices]
        ejectile, recoil = (held == EJECTILE).sum(), (held == RECOIL).sum()
        if min(ejectile, recoil) >= max(MIN_POINTS, MIN_SHARE * len(held)):
            return True
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, required=True)
    parser.add_argument("--per-sample", type=int, default=2)
    arguments = parser.parse_args()
    LINKED_RECOIL_FIXTURE.parent.mkdir(exist_ok=True)
    written = 0
    with h5py.File(LINKED_RECOIL_FIXTURE, "w") as output:
        for folder in sorted(path for path in arguments.workspace.iterdir() if path.is_dir()):
            truth = pl.read_parquet(folder / "truth.parquet").filter(pl.col("particle") == EJECTILE)
            kept = 0
            with h5py.File(folder / "pointcloud" / f"run_{RUN:04d}.h5", "r") as clouds:
                events = sorted(
                    int(name.split("_")[1]) for name in clouds["cloud"] if name.startswith("cloud_")
                )
                for event in events:
                    cloud = clouds["cloud"][f"cloud_{event}"][()]
                    labels = clouds["cloud"][f"labels_{event}"][()]
                    order = np.argsort(cloud[:, 2], kind="stable")
                    cloud, labels = cloud[order], labels[order]
                    if kept == arguments.per_sample or not mixed(cloud, labels):
                        continue
                    row = truth.filter(pl.col("event") == event).row(0, named=True)
                    field = FIELDS[folder.name.rsplit("_", 1)[0]]
                    polar_deg = float(np.degrees(row["polar"]))
                    estimate = nearest_estimate(cloud, WITHOUT_SPLIT, field, polar_deg, row["brho"])
                    if estimate is not None and abs(estimate[1] - polar_deg) < MIN_POLAR_ERROR:
                        continue
                    group = output.create_group(f"{folder.name}_{event}")
                    write_cloud(group, cloud, labels=labels.astype(np.int8))
                    group.attrs["vertex_z"] = row["vertex_z"]
                    group.attrs["brho"] = row["brho"]
                    group.attrs["polar_deg"] = polar_deg
                    group.attrs["magnetic_field"] = field
                    kept += 1
            written += kept
    print(f"{written} events in {LINKED_RECOIL_FIXTURE}")


if __name__ == "__main__":
    main()
