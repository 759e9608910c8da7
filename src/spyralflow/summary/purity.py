"""Cluster purity: how many of a cluster's points come from one simulated particle.

Each cluster point is labelled with the particle of the truth point on the same pad nearest in
time (within ``MAXIMUM_TIME_DISTANCE`` buckets): the pad from the point's (x, y), which the
Pointcloud phase (and the engine) set to the pad centre, the time from z through the detector's
time calibration. This works whether the clusters come from the engine's point clouds or from
point clouds of simulated traces (one point per peak). Points that land on no pad centre (for
example after the Garfield drift correction) or far from every truth point stay unlabelled.

Purity table, one row per scope (``run_NNNN`` and ``all``): ``n_events`` (events of the
cluster files with at least one cluster), ``n_clusters``,
``mean_purity`` (over clusters with labelled points), ``fraction_pure`` (purity >= 0.9),
``particle_clusters`` (clusters whose majority is the particle of interest), ``mean_labelled``
(fraction of cluster points that got a label).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from spyralflow.framework.runs import form_run_string
from spyralflow.io.cluster_file import iter_cluster_events
from spyralflow.phases.pointcloud.pads import attpc_engine_detector_file, read_pad_column

UNLABELLED = -1
PURE = 0.9
MAXIMUM_TIME_DISTANCE = 5.0  # time buckets
PAD_CENTRE_DECIMALS = 3  # mm: pad centres in the CSV have more digits than any point differs by

PURITY_SCHEMA: dict[str, pl.DataType] = {
    "scope": pl.String(),
    "run": pl.Int64(),
    "n_events": pl.Int64(),
    "n_clusters": pl.Int64(),
    "mean_purity": pl.Float64(),
    "fraction_pure": pl.Float64(),
    "particle_clusters": pl.Int64(),
    "mean_labelled": pl.Float64(),
}


@dataclass(frozen=True)
class TimeCalibration:
    """Spyral's z calibration, inverted: time bucket of a point at z (mm).

    Parameters
    ----------
    micromegas_time_bucket, window_time_bucket : float
        Time buckets of z = detector length and z = 0.
    detector_length : float
        Drift length in mm.
    """

    micromegas_time_bucket: float = 10.0
    window_time_bucket: float = 560.0
    detector_length: float = 1000.0

    def time_bucket(self, z: np.ndarray) -> np.ndarray:
        span = self.window_time_bucket - self.micromegas_time_bucket
        return self.window_time_bucket - z / self.detector_length * span


class PadLocator:
    """Pad id from a pad-centre (x, y) in mm, with attpc_engine's packaged pad geometry."""

    def __init__(self, geometry_path: Path | None = None) -> None:
        path = geometry_path or attpc_engine_detector_file("data", "padxy.csv")
        centres = np.round(read_pad_column(path, 2), PAD_CENTRE_DECIMALS)
        self._pads = {(x, y): pad for pad, (x, y) in enumerate(centres.tolist())}

    def pads(self, xy: np.ndarray) -> np.ndarray:
        """Pad ids of the (n, 2) positions; -1 where a position is no pad centre."""
        rounded = np.round(xy, PAD_CENTRE_DECIMALS).tolist()
        return np.array([self._pads.get((x, y), UNLABELLED) for x, y in rounded], dtype=np.int64)


def point_labels(
    pads: np.ndarray,
    time_buckets: np.ndarray,
    truth_pads: np.ndarray,
    truth_time_buckets: np.ndarray,
    truth_labels: np.ndarray,
) -> np.ndarray:
    """Particle label of each point: the truth point on its pad nearest in time, or -1."""
    labels = np.full(len(pads), UNLABELLED, dtype=np.int64)
    order = np.lexsort((truth_time_buckets, truth_pads))
    truth_pads, truth_time_buckets = truth_pads[order], truth_time_buckets[order]
    truth_labels = truth_labels[order]
    starts = np.searchsorted(truth_pads, pads, side="left")
    ends = np.searchsorted(truth_pads, pads, side="right")
    for index, (start, end) in enumerate(zip(starts, ends, strict=True)):
        if start == end:
            continue
        distance = np.abs(truth_time_buckets[start:end] - time_buckets[index])
        nearest = int(np.argmin(distance))
        if distance[nearest] <= MAXIMUM_TIME_DISTANCE:
            labels[index] = truth_labels[start + nearest]
    return labels


def _truth_points(truth: pl.DataFrame) -> dict[tuple[int, int], tuple[np.ndarray, ...]]:
    """(run, event) to (pads, time buckets, labels) of all the event's truth points."""
    found: dict[tuple[int, int], tuple[np.ndarray, ...]] = {}
    exploded = truth.select("run", "event", "particle", "point_pad", "point_time_bucket").explode(
        "point_pad", "point_time_bucket"
    )
    exploded = exploded.drop_nulls("point_pad")
    for (run, event), rows in exploded.group_by("run", "event"):
        found[(int(run), int(event))] = (
            rows["point_pad"].to_numpy(),
            rows["point_time_bucket"].to_numpy(),
            rows["particle"].to_numpy(),
        )
    return found


def cluster_purities(
    cluster_paths: Sequence[Path],
    truth: pl.DataFrame,
    particle_rows: Sequence[int],
    calibration: TimeCalibration,
    locator: PadLocator | None = None,
) -> pl.DataFrame:
    """One row per cluster: run, event, cluster label, purity, majority particle (truth row
    index), labelled fraction."""
    locator = locator or PadLocator()
    truth_points = _truth_points(truth)
    empty = (np.empty(0, np.int64), np.empty(0), np.empty(0, np.int64))
    records = []
    for path in cluster_paths:
        for cluster_event in iter_cluster_events(Path(path)):
            run = int(cluster_event.attributes["orig_run"])
            event = int(cluster_event.attributes["orig_event"])
            truth_pads, truth_times, truth_labels = truth_points.get((run, event), empty)
            for cluster in cluster_event.clusters:
                data = cluster.data
                labels = point_labels(
                    locator.pads(data[:, :2]),
                    calibration.time_bucket(data[:, 2]),
                    truth_pads,
                    truth_times,
                    truth_labels,
                )
                labelled = labels[labels != UNLABELLED]
                majority, purity = UNLABELLED, float("nan")
                if labelled.size:
                    values, counts = np.unique(labelled, return_counts=True)
                    majority = int(values[np.argmax(counts)])
                    purity = float(counts.max() / labelled.size)
                records.append(
                    {
                        "run": run,
                        "event": event,
                        "cluster_label": int(cluster.label),
                        "n_points": len(data),
                        "purity": purity,
                        "majority": majority,
                        "is_particle": majority in particle_rows,
                        "labelled": labelled.size / len(data) if len(data) else float("nan"),
                    }
                )
    schema = {
        "run": pl.Int64,
        "event": pl.Int64,
        "cluster_label": pl.Int64,
        "n_points": pl.Int64,
        "purity": pl.Float64,
        "majority": pl.Int64,
        "is_particle": pl.Boolean,
        "labelled": pl.Float64,
    }
    return pl.DataFrame(records, schema=schema)


def purity_table(clusters: pl.DataFrame, runs: Sequence[int]) -> pl.DataFrame:
    """The purity table (module docstring) of every run and of all runs together."""
    scopes: list[tuple[str, int | None]] = [(form_run_string(run), run) for run in sorted(runs)]
    scopes.append(("all", None))
    records = []
    for scope, run in scopes:
        rows = clusters if run is None else clusters.filter(pl.col("run") == run)
        purity = rows["purity"].drop_nans().drop_nulls().to_numpy()
        records.append(
            {
                "scope": scope,
                "run": run,
                "n_events": rows.select("run", "event").unique().height,
                "n_clusters": rows.height,
                "mean_purity": float(purity.mean()) if purity.size else float("nan"),
                "fraction_pure": float((purity >= PURE).mean()) if purity.size else float("nan"),
                "particle_clusters": int(rows["is_particle"].sum()),
                "mean_labelled": float(rows["labelled"].mean()) if rows.height else float("nan"),
            }
        )
    return pl.DataFrame(records, schema=PURITY_SCHEMA)
