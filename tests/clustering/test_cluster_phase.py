"""ClusterPhase end to end on a small point-cloud file."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from cluster_tracks import as_cloud, helix_points

from spyralflow.framework.parameters import build_constructor_arguments
from spyralflow.framework.phase import PhaseResult
from spyralflow.framework.provenance import PROVENANCE_KEY, Provenance
from spyralflow.framework.status import StatusMessage
from spyralflow.io.cluster_file import Direction, iter_cluster_events
from spyralflow.io.pointcloud_file import PointcloudWriter
from spyralflow.phases.cluster import (
    ClusterParameters,
    ClusterPhase,
    OverlapJoinParameters,
)
from spyralflow.phases.detector import DetectorParameters
from spyralflow.phases.schemas import cluster_schema, pointcloud_schema

ENGINE_ATTRIBUTES = {
    "orig_run": np.int64(3),
    "ic_amplitude": -1.0,
    "ic_integral": -1.0,
    "ic_centroid": -1.0,
    "ic_multiplicity": -1.0,
}


class ListQueue(list):
    def put(self, message):
        self.append(message)


@pytest.fixture
def cloud_file(tmp_path, two_helices_beam_and_noise):
    """Events 10-14 in engine style: tracks, an empty (0, 8) cloud, a small cloud, a cloud
    with z out of order; event 13 is missing."""
    cloud, labels = two_helices_beam_and_noise
    path = tmp_path / "run_0003.h5"
    unsorted = cloud[::-1].copy()
    events = {10: cloud, 11: np.empty((0, 8)), 12: cloud[:20], 14: unsorted}
    with PointcloudWriter(path, Provenance(phase="Pointcloud"), 10, 14) as writer:
        for event, data in events.items():
            writer.write(
                event,
                data,
                {**ENGINE_ATTRIBUTES, "orig_event": np.int64(event)},
                labels[: len(data)],
            )
    return path


def test_run_writes_spyral_layout(tmp_path, cloud_file):
    phase = ClusterPhase(ClusterParameters(), DetectorParameters())
    workspace = tmp_path / "workspace"
    queue = ListQueue()
    result = phase.run(PhaseResult({"pointcloud": cloud_file}, True, 3), workspace, queue, None)
    path = workspace / "Cluster" / "run_0003.h5"
    assert result.artifacts == {"cluster": path}
    assert result == phase.construct_artifact(PhaseResult({}, True, 3), workspace)
    with h5py.File(path, "r") as handle:
        assert PROVENANCE_KEY in handle.attrs
        group = handle["cluster"]
        assert (group.attrs["min_event"], group.attrs["max_event"]) == (10, 14)
        assert sorted(group) == ["event_10", "event_11", "event_12", "event_14"]
        assert [group[name].attrs["nclusters"] for name in ("event_11", "event_12")] == [0, 0]
        event = group["event_10"]
        assert event.attrs["nclusters"] == 3
        assert event.attrs["orig_event"] == 10
        assert event.attrs["ic_amplitude"] == -1.0
    events = {event.event: event for event in iter_cluster_events(path)}
    directions = sorted(cluster.direction for cluster in events[10].clusters)
    assert directions == [Direction.NONE, Direction.FORWARD, Direction.BACKWARD]
    # The out-of-order cloud is sorted and clustered, not dropped as Spyral does.
    assert [len(c.data) for c in events[14].clusters] == [len(c.data) for c in events[10].clusters]
    assert queue and all(isinstance(message, StatusMessage) for message in queue)
    assert sum(message.increment for message in queue) == queue[0].total


def test_an_event_whose_clustering_fails_numerically_is_counted_not_fatal(
    tmp_path, cloud_file, monkeypatch, caplog
):
    from spyralflow.phases.cluster import phase as phase_module

    real = phase_module.cluster_cloud

    def failing_on_event_14(cloud, parameters):
        failing_on_event_14.calls += 1
        if failing_on_event_14.calls == 4:  # events 10, 11, 12, then 14
            raise ZeroDivisionError("division by zero")
        return real(cloud, parameters)

    failing_on_event_14.calls = 0
    monkeypatch.setattr(phase_module, "cluster_cloud", failing_on_event_14)
    phase = ClusterPhase(ClusterParameters(), DetectorParameters())
    with caplog.at_level("INFO", logger="spyralflow.phases.cluster.phase"):
        result = phase.run(
            PhaseResult({"pointcloud": cloud_file}, True, 3), tmp_path, ListQueue(), None
        )
    events = {event.event: event for event in iter_cluster_events(result.artifacts["cluster"])}
    assert sorted(events) == [10, 11, 12, 14]
    assert len(events[10].clusters) == 3 and events[14].clusters == []
    messages = [record.getMessage() for record in caplog.records]
    assert (
        "run 3 event 14: clustering failed (ZeroDivisionError: division by zero); written "
        "without clusters" in messages
    )
    assert any("events whose clustering failed: 1" in message for message in messages)


def test_unsuccessful_input_gives_an_invalid_result(tmp_path, cloud_file):
    phase = ClusterPhase(ClusterParameters(), DetectorParameters())
    result = phase.run(
        PhaseResult({"pointcloud": cloud_file}, False, 3), tmp_path, ListQueue(), None
    )
    assert not result.successful


def test_schemas_and_names():
    phase = ClusterPhase(ClusterParameters(), DetectorParameters())
    assert phase.name == "Cluster"
    assert phase.incoming_schema == pointcloud_schema()
    assert phase.outgoing_schema == cluster_schema()
    assert phase.create_assets(None) is True


def test_built_from_config_values():
    arguments = build_constructor_arguments(
        ClusterPhase,
        {
            "cluster_params": {
                "min_cloud_size": 40,
                "hdbscan_parameters": {"min_points": 5, "cluster_selection_epsilon": 13.0},
                "continuity_join": None,
                "overlap_join": {"circle_overlap_ratio": 0.3},
            },
            "det_params": {"magnetic_field": 3.0},
        },
    )
    phase = ClusterPhase(**arguments)
    parameters = phase.cluster_params
    assert parameters.min_cloud_size == 40
    assert parameters.hdbscan_parameters.min_points == 5
    assert parameters.hdbscan_parameters.min_size_lower_cutoff == 10  # README default
    assert parameters.continuity_join is None
    assert parameters.overlap_join.circle_overlap_ratio == 0.3
    assert parameters.overlap_join.min_cluster_size_join == 15


def test_no_clustering_algorithm_is_refused_clearly():
    with pytest.raises(ValueError, match="hdbscan_parameters"):
        ClusterPhase(ClusterParameters(hdbscan_parameters=None), DetectorParameters())


def test_overlap_join_phase_on_multi_cluster_events(tmp_path):
    """The overlap join runs through a file of multi-cluster events (Spyral 1.1.2 raises)."""
    cloud, _ = as_cloud(
        helix_points((100.0, 40.0), 55.0, (100.0, 600.0), 2.0),
        helix_points((-90.0, -60.0), 70.0, (150.0, 520.0), -1.5),
    )
    path = tmp_path / "run_0001.h5"
    with PointcloudWriter(path, Provenance(phase="Pointcloud"), 0, 1) as writer:
        writer.write(0, cloud, {**ENGINE_ATTRIBUTES, "orig_event": np.int64(0)})
        writer.write(1, cloud, {**ENGINE_ATTRIBUTES, "orig_event": np.int64(1)})
    parameters = ClusterParameters(continuity_join=None, overlap_join=OverlapJoinParameters())
    phase = ClusterPhase(parameters, DetectorParameters())
    phase.run(PhaseResult({"pointcloud": path}, True, 1), tmp_path, ListQueue(), None)
    events = list(iter_cluster_events(tmp_path / "Cluster" / "run_0001.h5"))
    assert [len(event.clusters) for event in events] == [2, 2]


def test_a_file_without_events(tmp_path):
    path = tmp_path / "run_0009.h5"
    with PointcloudWriter(path, Provenance(phase="Pointcloud")):
        pass
    phase = ClusterPhase(ClusterParameters(), DetectorParameters())
    queue = ListQueue()
    result = phase.run(PhaseResult({"pointcloud": path}, True, 9), tmp_path, queue, None)
    assert list(iter_cluster_events(result.artifacts["cluster"])) == []
    assert queue == []
