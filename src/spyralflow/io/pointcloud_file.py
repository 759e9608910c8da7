"""Point-cloud files in Spyral's Pointcloud layout.

Layout: group ``cloud`` with attributes ``min_event`` and ``max_event``; one dataset
``cloud/cloud_<event>`` per event, an (N, 8) float64 array with columns
[x (mm), y (mm), z (mm), amplitude, integral, pad id, time bucket, pad scale], sorted by z, and the
attributes ``orig_run``, ``orig_event``, ``ic_amplitude``, ``ic_integral``, ``ic_centroid``,
``ic_multiplicity``. attpc_engine adds ``cloud/labels_<event>`` (the particle of each point).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
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

__all__ = ["ArtifactFormatError", "PointcloudEvent", "PointcloudWriter", "iter_pointclouds"]

CLOUD_GROUP = "cloud"
CLOUD_COLUMNS = ("x", "y", "z", "amplitude", "integral", "pad", "time", "scale")
IC_ATTRIBUTES = ("ic_amplitude", "ic_integral", "ic_centroid", "ic_multiplicity")
_CLOUD_NAME = re.compile(r"cloud_(\d+)")


@dataclass
class PointcloudEvent:
    """One event of a point-cloud file.

    Parameters
    ----------
    event : int
        Event number.
    cloud : numpy.ndarray
        (N, 8) float64 points.
    attributes : dict
        The dataset attributes (orig_run, orig_event, ic_*), with their stored dtypes.
    labels : numpy.ndarray or None
        attpc_engine's per-point particle labels, when present.
    """

    event: int
    cloud: np.ndarray
    attributes: dict[str, Any] = field(default_factory=dict)
    labels: np.ndarray | None = None


class PointcloudWriter:
    """Write a point-cloud file atomically: it appears at ``path`` only when closed cleanly.

    Use as a context manager. ``min_event``/``max_event`` are written on close from the
    arguments given, or from the events written when they are None.

    Parameters
    ----------
    path : Path
        The artifact path.
    provenance : Provenance
        Stored as a root attribute.
    min_event, max_event : int, optional
        The event range of the source, stored as ``cloud`` attributes.
    report : InputReport, optional
        What was skipped reading the source; stored on close as the ``cloud`` attribute
        ``spyralflow_input_report`` (JSON).
    """

    def __init__(
        self,
        path: Path,
        provenance: Provenance,
        min_event: int | None = None,
        max_event: int | None = None,
        report: InputReport | None = None,
    ) -> None:
        self.path = Path(path)
        self.provenance = provenance
        self.min_event = min_event
        self.max_event = max_event
        self.report = report
        self._seen_min: int | None = None
        self._seen_max: int | None = None
        self._opened = atomic_hdf5(self.path, self.provenance)
        self._file: h5py.File | None = None
        self._group: h5py.Group | None = None

    def __enter__(self) -> PointcloudWriter:
        self._file = self._opened.__enter__()
        self._group = self._file.create_group(CLOUD_GROUP)
        return self

    def write(
        self,
        event: int,
        cloud: np.ndarray,
        attributes: dict[str, Any],
        labels: np.ndarray | None = None,
    ) -> None:
        """Write one event's (N, 8) cloud with its attributes."""
        assert self._group is not None, "use PointcloudWriter as a context manager"
        data = np.ascontiguousarray(cloud, dtype=np.float64).reshape(-1, len(CLOUD_COLUMNS))
        dataset = self._group.create_dataset(f"cloud_{event}", data=data)
        for key, value in attributes.items():
            dataset.attrs[key] = value
        if labels is not None:
            self._group.create_dataset(f"labels_{event}", data=np.asarray(labels))
        self._seen_min = event if self._seen_min is None else min(self._seen_min, event)
        self._seen_max = event if self._seen_max is None else max(self._seen_max, event)

    def __exit__(self, exc_type: Any, exc: Any, traceback: Any) -> None:
        assert self._file is not None and self._group is not None
        try:
            minimum = self.min_event if self.min_event is not None else (self._seen_min or 0)
            maximum = (
                self.max_event
                if self.max_event is not None
                else (self._seen_max if self._seen_max is not None else -1)
            )
            self._group.attrs["min_event"] = np.int64(minimum)
            self._group.attrs["max_event"] = np.int64(maximum)
            if self.report is not None:
                self._group.attrs[INPUT_REPORT_KEY] = self.report.to_json()
        finally:
            self._opened.__exit__(exc_type, exc, traceback)


def read_event_range(path: Path) -> tuple[int, int]:
    """The checked ``(min_event, max_event)`` attributes of a point-cloud file.

    Raises
    ------
    ArtifactFormatError
        If the file is not a point-cloud file or its range is damaged.
    """
    with open_artifact(path) as handle:
        return group_range(_cloud_group(handle, Path(path)), Path(path))


def _cloud_group(handle: h5py.File, path: Path) -> h5py.Group:
    return ranged_group(handle, path, CLOUD_GROUP, "point-cloud")


def iter_pointclouds(
    path: Path, with_labels: bool = False, report: InputReport | None = None
) -> Iterator[PointcloudEvent]:
    """Yield the events of a point-cloud file from ``min_event`` to ``max_event`` inclusive.

    Only the clouds present are visited (a range of 10**12 events costs nothing). Missing events
    are skipped, as Spyral does, and counted in ``report`` with the events outside the range;
    points with a NaN, infinite or beyond-1-km value are dropped and
    counted. Memory holds one event at a time.

    Raises
    ------
    ArtifactFormatError
        If the file lacks the ``cloud`` group or a valid range, or a cloud is unreadable, not
        (N, 8) real numbers, or has an unusable attribute (the message names event and dataset).
    """
    path = Path(path)
    report = report if report is not None else InputReport(str(path))
    with open_artifact(path) as handle:
        group = _cloud_group(handle, path)
        first, last = group_range(group, path)
        selection = select_events(first, last, numbered_members(group, _CLOUD_NAME))
        selection.record(report, "a cloud")
        for event in selection.events:
            dataset = group[f"cloud_{event}"]
            if not isinstance(dataset, h5py.Dataset):
                raise ArtifactFormatError(f"{path}: cloud/cloud_{event} is a group, not a dataset")
            cloud = read_numeric(dataset, path, event)
            if cloud.ndim != 2 or cloud.shape[1] != len(CLOUD_COLUMNS):
                raise ArtifactFormatError(
                    f"{path}: dataset cloud/cloud_{event} has shape {cloud.shape}, expected (N, 8)"
                )
            attributes = read_attributes(dataset, path, event)
            problem = attribute_problem(attributes)
            if problem is not None:
                raise ArtifactFormatError(
                    f"{path}: event {event}, dataset {dataset.name}: {problem}"
                )
            finite = usable_points(cloud)
            if not finite.all():
                report.count(
                    UNUSABLE_POINTS,
                    int((~finite).sum()),
                    f"event {event}, dataset {dataset.name}",
                )
                cloud = cloud[finite]
            labels = None
            if with_labels and f"labels_{event}" in group:
                labels = group[f"labels_{event}"][()]
                if len(labels) == len(finite):
                    labels = labels[finite]
            yield PointcloudEvent(event, cloud, attributes, labels)
