"""Known geometries through one event of the Cluster phase: clusters, directions, joins."""

from __future__ import annotations

import numpy as np
import pytest
from cluster_tracks import as_cloud, helix_points

from spyralflow.io.cluster_file import Direction
from spyralflow.phases.cluster import (
    ClusterParameters,
    ContinuityJoinParameters,
    HdbscanParameters,
    OverlapJoinParameters,
)
from spyralflow.phases.cluster.clusterize import cluster_cloud
from spyralflow.phases.cluster.joins import LabeledCluster, join_continuity, join_overlap

NO_JOIN = ClusterParameters(continuity_join=None, overlap_join=None)
OVERLAP = ClusterParameters(continuity_join=None, overlap_join=OverlapJoinParameters())


def _composition(found, labels):
    return [
        dict(zip(*np.unique(labels[cluster.parent_indices], return_counts=True), strict=True))
        for cluster in found
    ]


@pytest.mark.parametrize("parameters", [ClusterParameters(), NO_JOIN, OVERLAP])
def test_two_helices_a_beam_track_and_noise(two_helices_beam_and_noise, parameters):
    cloud, labels = two_helices_beam_and_noise
    found = cluster_cloud(cloud, parameters)
    by_track = {}
    for cluster, composition in zip(found, _composition(found, labels), strict=True):
        track = max(composition, key=composition.get)
        # Each cluster is one track (noise points may not join a track's cluster).
        assert set(composition) == {track}
        by_track[track] = cluster
    assert sorted(by_track) == [0, 1, 2]
    for track in (0, 1, 2):
        assert len(by_track[track].data) >= 0.95 * np.sum(labels == track)
    # Direction is found with or without a join (Spyral leaves it NONE without one).
    assert by_track[0].direction is Direction.FORWARD
    assert by_track[1].direction is Direction.BACKWARD
    assert by_track[2].direction is Direction.NONE
    for cluster in found:
        assert cluster.data.shape[1] == 5
        assert np.all(np.diff(cluster.data[:, 2]) >= 0.0)
        # Columns are x, y, z, integral and pad scale of the source points.
        assert cluster.data == pytest.approx(cloud[cluster.parent_indices][:, [0, 1, 2, 4, 7]])


def test_small_and_empty_clouds_have_no_clusters(two_helices_beam_and_noise):
    cloud, _ = two_helices_beam_and_noise
    assert cluster_cloud(cloud[:49], ClusterParameters(min_cloud_size=50)) == []
    assert cluster_cloud(np.empty((0, 8)), ClusterParameters()) == []


def _split_helix() -> tuple[np.ndarray, np.ndarray]:
    """One forward helix with a 40 mm gap in z: HDBSCAN finds two pieces."""
    track = helix_points((100.0, 0.0), 60.0, (100.0, 700.0), 1.5)
    gap = (track[:, 2] > 380.0) & (track[:, 2] < 420.0)
    early, late = track[~gap & (track[:, 2] <= 380.0)], track[~gap & (track[:, 2] >= 420.0)]
    return as_cloud(early, late)


def test_continuity_join_rejoins_a_split_track():
    cloud, _ = _split_helix()
    # A small epsilon, so HDBSCAN keeps the two pieces apart.
    hdbscan = HdbscanParameters(cluster_selection_epsilon=5.0)
    unjoined = cluster_cloud(
        cloud, ClusterParameters(hdbscan_parameters=hdbscan, continuity_join=None)
    )
    assert len(unjoined) == 2
    joined = cluster_cloud(cloud, ClusterParameters(hdbscan_parameters=hdbscan))
    assert len(joined) == 1
    assert len(joined[0].data) >= 0.95 * len(cloud)
    assert joined[0].direction is Direction.FORWARD


def _labeled(label, points, direction=Direction.FORWARD):
    cloud = np.zeros((len(points), 8))
    cloud[:, :3] = points
    order = np.argsort(points[:, 2], kind="stable")
    return LabeledCluster(
        label, direction, cloud[order], np.arange(len(points))[order] + 1000 * label
    )


def test_continuity_join_respects_direction_and_distance():
    first = helix_points((100.0, 0.0), 60.0, (100.0, 380.0), 1.5)
    second = helix_points((100.0, 0.0), 60.0, (420.0, 700.0), 1.5)
    elsewhere = helix_points((-100.0, 0.0), 30.0, (750.0, 900.0), 1.5)
    clusters = [_labeled(0, first), _labeled(1, second), _labeled(2, elsewhere)]
    joined = join_continuity(clusters, ContinuityJoinParameters())
    assert [cluster.label for cluster in joined] == [0, 2]
    assert len(joined[0].points) == len(first) + len(second)
    assert np.all(np.diff(joined[0].points[:, 2]) >= 0.0)
    assert sorted(joined[0].parent_indices) == sorted(
        np.concatenate([clusters[0].parent_indices, clusters[1].parent_indices])
    )
    opposite = [_labeled(0, first), _labeled(1, second, Direction.BACKWARD)]
    assert len(join_continuity(opposite, ContinuityJoinParameters())) == 2


def test_overlap_join_runs_on_multi_cluster_events():
    # Spyral 1.1.2 raises TypeError on any event with two or more clusters here.
    circle = [helix_points((80.0, 10.0), 60.0, z, 1.0) for z in ((0.0, 300.0), (500.0, 800.0))]
    other = helix_points((-120.0, 0.0), 40.0, (100.0, 400.0), 1.0)
    clusters = [_labeled(0, circle[0]), _labeled(1, other), _labeled(2, circle[1])]
    joined = join_overlap(clusters, OverlapJoinParameters())
    assert [cluster.label for cluster in joined] == [0, 1]
    assert len(joined[0].points) == len(circle[0]) + len(circle[1])
    # Different directions, or a cluster too small to join, stay apart.
    clusters[2].direction = Direction.BACKWARD
    assert len(join_overlap(clusters, OverlapJoinParameters())) == 3
    clusters[2].direction = Direction.FORWARD
    assert len(join_overlap(clusters, OverlapJoinParameters(min_cluster_size_join=10_000))) == 3


def test_overlap_join_checks_the_compared_cluster_radius():
    big = helix_points((80.0, 10.0), 60.0, (0.0, 300.0), 1.0)
    # A 5 mm circle inside the big one: Spyral re-tested the outer radius and joined it.
    small = helix_points((90.0, 15.0), 5.0, (400.0, 600.0), 3.0, spacing=1.0)
    joined = join_overlap([_labeled(0, big), _labeled(1, small)], OverlapJoinParameters())
    assert len(joined) == 2
