"""Tripclust in our ClusterPhase: the labels of Spyral's own tripclust clustering on the same
clouds, the tracks found through the phase, and a clear error when the module is missing."""

from __future__ import annotations

import dataclasses
import sys

import numpy as np
import pytest
from cluster_tracks import as_cloud, helix_points

from spyralflow.phases.cluster import ClusterParameters, ClusterPhase, TripclustParameters
from spyralflow.phases.cluster.clusterize import cluster_cloud
from spyralflow.phases.cluster.tripclust import TripclustUnavailable, tripclust_labels
from spyralflow.phases.detector import DetectorParameters

TRIPCLUST_ONLY = ClusterParameters(
    hdbscan_parameters=None, tripclust_parameters=TripclustParameters()
)


def _clouds() -> list[np.ndarray]:
    clouds = []
    for seed in range(4):
        rng = np.random.default_rng(seed)
        first = helix_points((100.0, 40.0), rng.uniform(45.0, 70.0), (100.0, 600.0), 2.0)
        second = helix_points((-90.0, -60.0), 70.0, (150.0, 520.0), -1.5, phase=seed)
        noise = np.column_stack(
            [rng.uniform(-250, 250, 20), rng.uniform(-250, 250, 20), rng.uniform(0, 1000, 20)]
        )
        clouds.append(as_cloud(first, second, noise)[0])
    return clouds


@pytest.mark.spyral
def test_labels_equal_spyrals_tripclust_on_the_same_clouds() -> None:
    clusterize = pytest.importorskip("spyral.core.clusterize")
    from spyral import ClusterParameters as SpyralClusterParameters
    from spyral import TripclustParameters as SpyralTripclustParameters
    from spyral.core.point_cloud import PointCloud

    settings = dataclasses.asdict(TripclustParameters())
    spyral_parameters = SpyralClusterParameters(
        min_cloud_size=50,
        hdbscan_parameters=None,
        tripclust_parameters=SpyralTripclustParameters(**settings),
        overlap_join=None,
        continuity_join=None,
        direction_threshold=0.5,
        outlier_scale_factor=0.1,
    )
    found = 0
    for event, cloud in enumerate(_clouds()):
        _, theirs = clusterize.tripclust_clusters(
            PointCloud(event, cloud.copy()), spyral_parameters
        )
        ours = tripclust_labels(cloud, TripclustParameters())
        np.testing.assert_array_equal(ours, theirs)
        found += len(set(ours.tolist()) - {-1})
    assert found >= 4  # the comparison is on real clusterings, not on all-noise labels


def test_cluster_phase_finds_both_tracks_with_tripclust() -> None:
    pytest.importorskip("tripclust")
    ClusterPhase(TRIPCLUST_ONLY, DetectorParameters())
    cloud, truth = as_cloud(
        helix_points((100.0, 40.0), 55.0, (100.0, 600.0), 2.0),
        helix_points((-90.0, -60.0), 70.0, (150.0, 520.0), -1.5, phase=1.0),
    )
    clusters = cluster_cloud(cloud, TRIPCLUST_ONLY)
    assert len(clusters) >= 2
    for cluster in clusters:
        members = truth[cluster.parent_indices]
        assert np.mean(members == np.bincount(members).argmax()) > 0.95


def test_missing_tripclust_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tripclust", None)
    with pytest.raises(TripclustUnavailable, match=r"spyralflow\[spyral\]"):
        ClusterPhase(TRIPCLUST_ONLY, DetectorParameters())
