"""Quality of Cluster and Estimation output against attpc_engine truth.

Works on any file in Spyral's layouts (ours or Spyral's own), so both are judged alike:
cluster points are matched to the engine's labelled cloud points on exact (x, y, z), which the
Cluster phase copies unchanged.

- Clusters: purity (fraction of a cluster's points from its majority particle) and, per
  particle, the fraction of the event's points of that particle inside its cluster.
- Estimates of deuteron-majority clusters against the kinematics truth: bias (median) and
  resolution (1.4826 x MAD, robust) and mean/std (tails) of polar angle, vertex and Brho.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import polars as pl

DEUTERON_LABEL = 2
RESIDUAL_LABEL = 3
MAD_TO_SIGMA = 1.4826


def _label_points(cloud: np.ndarray, labels: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Engine label of each cluster point, found by exact (x, y, z) in the z-sorted cloud."""
    z = cloud[:, 2]
    order = np.argsort(z, kind="stable")
    sorted_z = z[order]
    found = np.full(points.shape[0], -1, dtype=np.int64)
    start = np.searchsorted(sorted_z, points[:, 2], side="left")
    for row, position in enumerate(start):
        while position < sorted_z.shape[0] and sorted_z[position] == points[row, 2]:
            source = order[position]
            if cloud[source, 0] == points[row, 0] and cloud[source, 1] == points[row, 1]:
                found[row] = labels[source]
                break
            position += 1
    return found


def cluster_table(run: int, cloud_path: Path, cluster_path: Path) -> pl.DataFrame:
    """One row per cluster: run, event, cluster_index, size, majority label, purity and the
    fraction of the event's points of that label inside the cluster."""
    rows: dict[str, list] = {
        key: []
        for key in (
            "run",
            "event",
            "cluster_index",
            "size",
            "majority_label",
            "purity",
            "label_fraction",
        )
    }
    with h5py.File(cloud_path, "r") as clouds, h5py.File(cluster_path, "r") as clusters:
        group = clusters["cluster"]
        for name in group:
            event = int(name.split("_")[1])
            if f"labels_{event}" not in clouds["cloud"]:
                continue
            cloud = clouds["cloud"][f"cloud_{event}"][()]
            labels = clouds["cloud"][f"labels_{event}"][()]
            event_group = group[name]
            for index in range(int(event_group.attrs["nclusters"])):
                data = event_group[f"cluster_{index}"]["cloud"][()]
                if data.shape[0] == 0:
                    continue
                point_labels = _label_points(cloud, labels, data)
                values, counts = np.unique(point_labels, return_counts=True)
                majority = int(values[np.argmax(counts)])
                rows["run"].append(run)
                rows["event"].append(event)
                rows["cluster_index"].append(index)
                rows["size"].append(int(data.shape[0]))
                rows["majority_label"].append(majority)
                rows["purity"].append(float(counts.max() / data.shape[0]))
                rows["label_fraction"].append(float(counts.max() / np.sum(labels == majority)))
    return pl.DataFrame(rows)


def truth_table(truth_path: Path) -> pl.DataFrame:
    """The simulation's per-event truth (benchmarks/cluster_simulate.py)."""
    return pl.read_parquet(truth_path)


@dataclass(frozen=True)
class Residual:
    """Summary of reco - truth for one quantity."""

    quantity: str
    count: int
    mean: float
    std: float
    median: float
    robust_sigma: float

    def row(self) -> str:
        return (
            f"{self.quantity:<18} {self.count:>6} {self.median:>9.4f} {self.robust_sigma:>9.4f} "
            f"{self.mean:>9.4f} {self.std:>9.4f}"
        )


def _summarise(quantity: str, values: np.ndarray) -> Residual:
    values = values[np.isfinite(values)]
    if values.size == 0:
        return Residual(quantity, 0, np.nan, np.nan, np.nan, np.nan)
    median = float(np.median(values))
    return Residual(
        quantity,
        int(values.size),
        float(values.mean()),
        float(values.std()),
        median,
        MAD_TO_SIGMA * float(np.median(np.abs(values - median))),
    )


def estimate_residuals(
    estimates: pl.DataFrame, clusters: pl.DataFrame, truth: pl.DataFrame
) -> list[Residual]:
    """Residuals of the estimates of deuteron-majority clusters.

    Parameters
    ----------
    estimates : polars.DataFrame
        Estimation rows with an extra ``run`` column.
    clusters : polars.DataFrame
        ``cluster_table`` rows of the same runs.
    truth : polars.DataFrame
        ``truth_table``; joined on ``orig_event``.
    """
    deuterons = (
        estimates.join(clusters, on=["run", "event", "cluster_index"], how="inner")
        .filter(pl.col("majority_label") == DEUTERON_LABEL)
        .join(
            truth.rename({name: f"true_{name}" for name in truth.columns if name != "event"}),
            left_on="orig_event",
            right_on="event",
            how="inner",
        )
    )
    polar = np.degrees(deuterons["polar"].to_numpy() - deuterons["true_polar"].to_numpy())
    azimuth = np.degrees(
        np.angle(
            np.exp(
                1j * (deuterons["azimuthal"].to_numpy() - deuterons["true_azimuthal"].to_numpy())
            )
        )
    )
    return [
        _summarise("polar [deg]", polar),
        _summarise("azimuthal [deg]", azimuth),
        _summarise(
            "vertex_x [mm]", (deuterons["vertex_x"] - deuterons["true_vertex_x"]).to_numpy()
        ),
        _summarise(
            "vertex_y [mm]", (deuterons["vertex_y"] - deuterons["true_vertex_y"]).to_numpy()
        ),
        _summarise(
            "vertex_z [mm]", (deuterons["vertex_z"] - deuterons["true_vertex_z"]).to_numpy()
        ),
        _summarise(
            "brho rel [%]",
            100.0 * (deuterons["brho"] / deuterons["true_brho"] - 1.0).to_numpy(),
        ),
    ]


@dataclass(frozen=True)
class ClusterQuality:
    """Cluster purity and per-particle containment."""

    clusters: int
    mean_purity: float
    deuteron_fraction: float
    residual_fraction: float
    deuteron_events_split: float

    @classmethod
    def from_table(cls, table: pl.DataFrame) -> ClusterQuality:
        deuterons = table.filter(pl.col("majority_label") == DEUTERON_LABEL)
        residuals = table.filter(pl.col("majority_label") == RESIDUAL_LABEL)
        per_event = deuterons.group_by(["run", "event"]).len()
        split = float((per_event["len"] > 1).mean()) if per_event.height else np.nan
        return cls(
            clusters=table.height,
            mean_purity=float(table["purity"].mean()) if table.height else np.nan,
            deuteron_fraction=float(deuterons["label_fraction"].mean())
            if deuterons.height
            else np.nan,
            residual_fraction=float(residuals["label_fraction"].mean())
            if residuals.height
            else np.nan,
            deuteron_events_split=split,
        )
