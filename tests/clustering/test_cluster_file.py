"""Cluster files in Spyral's layout: writer, reader, and a file laid out by hand as Spyral does."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from spyralflow.framework.provenance import PROVENANCE_KEY, Provenance
from spyralflow.io.cluster_file import (
    ClusterWriter,
    Direction,
    iter_cluster_events,
    read_cluster_range,
)
from spyralflow.io.pointcloud_file import ArtifactFormatError

ATTRIBUTES = {
    "orig_run": np.int64(7),
    "orig_event": np.int64(70),
    "ic_amplitude": np.float64(950.0),
    "ic_centroid": np.float64(1200.5),
    "ic_integral": np.float64(3.0e4),
    "ic_multiplicity": np.float64(1.0),
}


def _data(count: int, seed: int) -> np.ndarray:
    data = np.random.default_rng(seed).uniform(0.0, 100.0, (count, 5))
    return data[np.argsort(data[:, 2])]


def test_round_trip(tmp_path):
    path = tmp_path / "run_0007.h5"
    first, second = _data(40, 1), _data(12, 2)
    with ClusterWriter(path, Provenance(phase="Cluster"), 3, 6) as writer:
        writer.write(3, ATTRIBUTES, [(4, Direction.FORWARD, first), (9, Direction.NONE, second)])
        writer.write(5, ATTRIBUTES, [])
    assert read_cluster_range(path) == (3, 6)
    events = list(iter_cluster_events(path))
    assert [event.event for event in events] == [3, 5]
    assert events[0].attributes == ATTRIBUTES
    assert [(c.index, c.label, c.direction) for c in events[0].clusters] == [
        (0, 4, Direction.FORWARD),
        (1, 9, Direction.NONE),
    ]
    assert np.array_equal(events[0].clusters[0].data, first)
    assert events[1].clusters == []
    with h5py.File(path, "r") as handle:
        assert PROVENANCE_KEY in handle.attrs
        group = handle["cluster/event_3"]
        assert group.attrs["nclusters"] == 2
        assert group["cluster_0"].attrs["label"].dtype == np.int64
        assert group["cluster_0"].attrs["direction"].dtype == np.int64
        assert group["cluster_1/cloud"].dtype == np.float64
        for key, value in ATTRIBUTES.items():
            assert group.attrs[key].dtype == value.dtype


def test_a_failed_writer_leaves_no_file(tmp_path):
    path = tmp_path / "run_0001.h5"
    with pytest.raises(RuntimeError), ClusterWriter(path, Provenance(phase="Cluster"), 0, 1):
        raise RuntimeError("interrupted")
    assert not path.exists()


def _write_spyral_layout(path, events):
    """A cluster file laid out exactly as Spyral's ClusterPhase writes it (spyral.md 4.9)."""
    with h5py.File(path, "w") as handle:
        group = handle.create_group("cluster")
        group.attrs["min_event"] = 0
        group.attrs["max_event"] = 4
        for event, clusters in events.items():
            event_group = group.create_group(f"event_{event}")
            event_group.attrs["nclusters"] = len(clusters)
            for key, value in ATTRIBUTES.items():
                event_group.attrs[key] = value
            for index, (label, direction, data) in enumerate(clusters):
                cluster_group = event_group.create_group(f"cluster_{index}")
                cluster_group.attrs["label"] = label
                cluster_group.attrs["direction"] = direction
                cluster_group.create_dataset("cloud", data=data)


def test_reads_spyral_layout(tmp_path):
    path = tmp_path / "run_0002.h5"
    _write_spyral_layout(
        path, {0: [(np.int64(1), 1, _data(30, 3))], 2: [], 4: [(np.int16(0), -1, _data(5, 4))]}
    )
    events = list(iter_cluster_events(path))
    assert [event.event for event in events] == [0, 2, 4]
    assert events[0].clusters[0].direction is Direction.BACKWARD
    assert events[2].clusters[0].label == 0
    assert events[2].clusters[0].direction is Direction.NONE


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ({0: [(1, 5, _data(3, 1))]}, "direction 5"),
        ({0: [(1, 0, np.zeros((3, 4)))]}, r"expected \(n, 5\)"),
    ],
)
def test_bad_content_is_named(tmp_path, events, message):
    path = tmp_path / "run_0003.h5"
    _write_spyral_layout(path, events)
    with pytest.raises(ArtifactFormatError, match=message) as caught:
        list(iter_cluster_events(path))
    assert str(path) in str(caught.value)


def test_not_a_cluster_file(tmp_path):
    path = tmp_path / "run_0004.h5"
    with h5py.File(path, "w") as handle:
        handle.create_group("cloud")
    with pytest.raises(ArtifactFormatError, match="no 'cluster' group"):
        read_cluster_range(path)
