"""Branch split on synthetic clusters: a recoil's straight track beside a helix from one vertex
becomes its own cluster; a single track, whatever its shape near the axis, stays whole."""

from __future__ import annotations

import math

import numpy as np
import pytest
from cluster_tracks import as_cloud, helix_points

from spyralflow.io.cluster_file import Direction
from spyralflow.phases.cluster import BranchSplitParameters
from spyralflow.phases.cluster.branch_split import split_branches, straight_branch
from spyralflow.phases.cluster.joins import LabeledCluster

VERTEX_Z = 300.0  # mm


def _helix_from_axis(radius: float, polar_deg: float, z_end: float) -> np.ndarray:
    """A helix leaving the beam axis at VERTEX_Z with polar angle ``polar_deg``."""
    turns_per_metre = 1000.0 * math.tan(math.radians(polar_deg)) / (2.0 * math.pi * radius)
    phase = math.pi - 2.0 * math.pi * turns_per_metre * VERTEX_Z / 1000.0
    return helix_points((radius, 0.0), radius, (VERTEX_Z, z_end), turns_per_metre, phase)


def _straight_from_axis(polar_deg: float, z_end: float) -> np.ndarray:
    z = np.arange(VERTEX_Z, z_end, 1.8)
    slope = math.tan(math.radians(polar_deg))
    return np.column_stack([-0.6 * slope * (z - VERTEX_Z), 0.8 * slope * (z - VERTEX_Z), z])


def _cluster(*tracks: np.ndarray, seed: int = 3) -> tuple[LabeledCluster, np.ndarray]:
    rng = np.random.default_rng(seed)
    noisy = [track + rng.normal(0.0, [1.0, 1.0, 0.5], track.shape) for track in tracks]
    cloud, labels = as_cloud(*noisy)
    return LabeledCluster(4, Direction.FORWARD, cloud, np.arange(len(cloud))), labels


def test_a_recoil_beside_the_ejectile_becomes_its_own_cluster():
    cluster, labels = _cluster(
        _helix_from_axis(150.0, 55.0, 800.0), _straight_from_axis(5.0, 1000.0)
    )
    result = split_branches([cluster], BranchSplitParameters())
    assert len(result) == 2
    rest, branch = result
    assert (rest.label, branch.label) == (4, 5)
    assert rest.direction == branch.direction == Direction.FORWARD
    # Only the vertex's few centimetres are shared: the branch takes the points of the helix
    # within the tolerance of the recoil's line there.
    assert np.mean(labels[rest.parent_indices] == 0) == 1.0
    assert np.mean(labels[branch.parent_indices] == 1) > 0.97
    assert np.sum(labels[rest.parent_indices] == 0) > 0.95 * np.sum(labels == 0)
    assert np.sum(labels[branch.parent_indices] == 1) == np.sum(labels == 1)
    for part in result:
        assert np.all(np.diff(part.points[:, 2]) >= 0.0)


@pytest.mark.parametrize(
    "track",
    [
        # A forward helix: straight and near the axis for 124 mm, then away from it (without
        # the test of a rest alongside, its start would be split off).
        _helix_from_axis(100.0, 20.0, 1000.0),
        # A multi-turn helix that comes back to the axis every 111 mm of z.
        _helix_from_axis(100.0, 80.0, 800.0),
        # A lone recoil.
        _straight_from_axis(5.0, 1000.0),
    ],
    ids=["forward helix", "multi-turn helix", "straight track"],
)
def test_a_single_track_is_not_split(track):
    cluster, _ = _cluster(track)
    assert straight_branch(cluster.points, BranchSplitParameters()) is None
    assert split_branches([cluster], BranchSplitParameters()) == [cluster]


def test_a_straight_track_beyond_the_helix_is_no_branch_beside_it():
    # The recoil's visible part starts where the helix's cluster ends: nothing runs alongside.
    helix = _helix_from_axis(150.0, 55.0, 600.0)
    recoil = _straight_from_axis(5.0, 1000.0)
    cluster, _ = _cluster(helix, recoil[recoil[:, 2] > 620.0])
    assert straight_branch(cluster.points, BranchSplitParameters()) is None
