"""Cluster files in Spyral's Cluster layout, so they move both ways with Spyral.

Layout: group ``cluster`` with attributes ``min_event`` and ``max_event`` (copied from the
point-cloud file); one group ``cluster/event_<N>`` per clustered cloud, even with no clusters,
with attributes ``nclusters``, ``orig_run``, ``orig_event``, ``ic_amplitude``, ``ic_centroid``,
``ic_integral``, ``ic_multiplicity``; inside it one group ``cluster_<K>`` per cluster
(K = 0 .. nclusters - 1) with attributes ``label`` (int64) and ``direction`` (int64: -1 none,
0 forward, 1 backward) and the dataset ``cloud``: an (n, 5) float64 array with columns
[x (mm), y (mm), z (mm), integral, pad scale], sorted by z.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from spyralflow.framework.provenance import Provenance
from spyralflow.io.checks import (
    INPUT_REPORT_KEY,
    UNUSABLE_POINTS,
    InputReport,
    attribute_problem,
    event_number,
    numbered_members,
    select_events,
    usable_points,
)
from spyralflow.io.hdf5 import (
    ArtifactFormatError,
    atomic_hdf5,
    group_range,
    open_artifact,
    ranged_group,
    read_attributes,
    read_numeric,
)

CLUSTER_GROUP = "cluster"
CLUSTER_COLUMNS = ("x", "y", "z", "integral", "scale")
EVENT_ATTRIBUTES = (
    "orig_run",
    "orig_event",
    "ic_amplitude",
    "ic_centroid",
    "ic_integral",
    "ic_multiplicity",
)
# Written when a source cloud lacks an attribute: Spyral's invalid value.
_MISSING_ATTRIBUTE = {
    "orig_run": np.int64(-1),
    "orig_event": np.int64(-1),
    "ic_amplitude": -1.0,
    "ic_centroid": -1.0,
    "ic_integral": -1.0,
    "ic_multiplicity": -1.0,
}


_EVENT_NAME = re.compile(r"event_(\d+)")
_CLUSTER_NAME = re.compile(r"cluster_(\d+)")


class Direction(IntEnum):
    """Direction of a track along z (Spyral's enum and values)."""

    NONE = -1
    FORWARD = 0  # towards +z, the micromegas
    BACKWARD = 1  # towards the window


@dataclass
class ClusterRecord:
    """One cluster of an event.

    Parameters
    ----------
    index : int
        K in ``cluster_<K>``.
    label : int
        Clustering label after the joins.
    direction : Direction
        Direction along z.
    data : numpy.ndarray
        (n, 5) float64 [x, y, z, integral, scale], sorted by z.
    """

    index: int
    label: int
    direction: Direction
    data: np.ndarray


@dataclass
class ClusterEvent:
    """One event of a cluster file: its attributes and its clusters in file order."""

    event: int
    attributes: dict[str, Any] = field(default_factory=dict)
    clusters: list[ClusterRecord] = field(default_factory=list)


class ClusterWriter:
    """Write a cluster file atomically: it appears at ``path`` only when closed cleanly.

    Use as a context manager.

    Parameters
    ----------
    path : Path
        The artifact path.
    provenance : Provenance
        Stored as a root attribute.
    min_event, max_event : int
        The event range of the source point-cloud file.
    report : InputReport, optional
        What was skipped reading the source; stored on close as the ``cluster`` attribute
        ``spyralflow_input_report`` (JSON).
    """

    def __init__(
        self,
        path: Path,
        provenance: Provenance,
        min_event: int,
        max_event: int,
        report: InputReport | None = None,
    ) -> None:
        self.path = Path(path)
        self.provenance = provenance
        self.min_event = min_event
        self.max_event = max_event
        self.report = report
        self._opened = atomic_hdf5(self.path, self.provenance)
        self._file: h5py.File | None = None
        self._group: h5py.Group | None = None

    def __enter__(self) -> ClusterWriter:
        self._file = self._opened.__enter__()
        self._group = self._file.create_group(CLUSTER_GROUP)
        self._group.attrs["min_event"] = np.int64(self.min_event)
        self._group.attrs["max_event"] = np.int64(self.max_event)
        return self

    def write(
        self,
        event: int,
        attributes: dict[str, Any],
        clusters: Sequence[tuple[int, int, np.ndarray]],
    ) -> None:
        """Write one event.

        Parameters
        ----------
        event : int
            Event number.
        attributes : dict
            The source cloud's attributes; orig_run, orig_event and ic_* are copied with their
            dtypes (-1 when absent).
        clusters : sequence of (label, direction, data)
            The clusters in file order; data is (n, 5).
        """
        assert self._group is not None, "use ClusterWriter as a context manager"
        group = self._group.create_group(f"event_{event}")
        group.attrs["nclusters"] = np.int64(len(clusters))
        for key in EVENT_ATTRIBUTES:
            group.attrs[key] = attributes.get(key, _MISSING_ATTRIBUTE[key])
        for index, (label, direction, data) in enumerate(clusters):
            cluster_group = group.create_group(f"cluster_{index}")
            cluster_group.attrs["label"] = np.int64(label)
            cluster_group.attrs["direction"] = np.int64(int(direction))
            cluster_group.create_dataset(
                "cloud", data=np.ascontiguousarray(data, dtype=np.float64).reshape(-1, 5)
            )

    def __exit__(self, exc_type: Any, exc: Any, traceback: Any) -> None:
        assert self._file is not None and self._group is not None
        try:
            if self.report is not None:
                self._group.attrs[INPUT_REPORT_KEY] = self.report.to_json()
        finally:
            self._opened.__exit__(exc_type, exc, traceback)


def cluster_group(handle: h5py.File, path: Path) -> h5py.Group:
    """The ``cluster`` group of an open cluster file, its layout checked."""
    return ranged_group(handle, path, CLUSTER_GROUP, "cluster")


def read_cluster_range(path: Path) -> tuple[int, int]:
    """The checked ``(min_event, max_event)`` attributes of a cluster file."""
    with open_artifact(path) as handle:
        return group_range(cluster_group(handle, Path(path)), Path(path))


def iter_cluster_events(path: Path, report: InputReport | None = None) -> Iterator[ClusterEvent]:
    """Yield the events of a cluster file from ``min_event`` to ``max_event`` inclusive.

    Only the events present are visited. Missing events, events outside the range and missing
    ``cluster_<K>`` groups are skipped, as Spyral does, and counted in ``report``; cluster points
    with a NaN, infinite or beyond-1-km value are dropped and
    counted. Memory holds one event at a time.

    Raises
    ------
    ArtifactFormatError
        If the file lacks the ``cluster`` group or a valid range, an event lacks a valid
        ``nclusters`` or has an unusable attribute, a cluster lacks ``label``/``direction``/
        ``cloud``, a direction is not -1/0/1, or a cloud is not (n, 5) real numbers.
    """
    path = Path(path)
    report = report if report is not None else InputReport(str(path))
    with open_artifact(path) as handle:
        group = cluster_group(handle, path)
        first, last = group_range(group, path)
        selection = select_events(first, last, numbered_members(group, _EVENT_NAME))
        selection.record(report, "a cluster group")
        for event in selection.events:
            event_group = group[f"event_{event}"]
            if not isinstance(event_group, h5py.Group):
                raise ArtifactFormatError(f"{path}: cluster/event_{event} is not a group")
            attributes = read_attributes(event_group, path, event)
            if "nclusters" not in attributes:
                raise ArtifactFormatError(f"{path}: event_{event} lacks attribute 'nclusters'")
            try:
                count = event_number(attributes.pop("nclusters"))
            except ValueError as error:
                raise ArtifactFormatError(
                    f"{path}: event_{event}: attribute 'nclusters' {error}"
                ) from None
            problem = attribute_problem(attributes)
            if problem is not None:
                raise ArtifactFormatError(f"{path}: event_{event}: {problem}")
            present = sorted(numbered_members(event_group, _CLUSTER_NAME))
            named = [index for index in present if index < count]
            report.count(
                "clusters named by nclusters but absent", count - len(named), event_group.name
            )
            report.count(
                "cluster groups beyond nclusters, not read",
                len(present) - len(named),
                event_group.name,
            )
            clusters = [_read_cluster(event_group, index, path, event, report) for index in named]
            yield ClusterEvent(event, attributes, clusters)


def _read_cluster(
    event_group: h5py.Group, index: int, path: Path, event: int, report: InputReport
) -> ClusterRecord:
    item = f"event_{event}/cluster_{index}"
    cluster_group = event_group[f"cluster_{index}"]
    dataset = cluster_group.get("cloud") if isinstance(cluster_group, h5py.Group) else None
    attributes = read_attributes(cluster_group, path, event)
    if not isinstance(dataset, h5py.Dataset) or not {"label", "direction"} <= attributes.keys():
        raise ArtifactFormatError(
            f"{path}: {item} is incomplete (needs attributes label, direction and a dataset cloud)"
        )
    try:
        label = event_number(attributes["label"])
        direction_value = event_number(attributes["direction"])
    except ValueError as error:
        raise ArtifactFormatError(f"{path}: {item}: label or direction {error}") from None
    try:
        direction = Direction(direction_value)
    except ValueError:
        raise ArtifactFormatError(
            f"{path}: {item} has direction {direction_value}, expected -1, 0 or 1"
        ) from None
    data = read_numeric(dataset, path, event)
    if data.ndim != 2 or data.shape[1] != len(CLUSTER_COLUMNS):
        raise ArtifactFormatError(f"{path}: {item}/cloud has shape {data.shape}, expected (n, 5)")
    finite = usable_points(data)
    if not finite.all():
        report.count(UNUSABLE_POINTS, int((~finite).sum()), item)
        data = data[finite]
    return ClusterRecord(index, label, direction, data)
