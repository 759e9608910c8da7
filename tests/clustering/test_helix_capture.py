"""Helix capture on synthetic clusters: a helix's first turn held by a straight axis track."""

from __future__ import annotations

import numpy as np

from spyralflow.io.cluster_file import Direction
from spyralflow.phases.cluster import HelixCaptureParameters
from spyralflow.phases.cluster.helix_capture import capture_turns, fit_helix
from spyralflow.phases.cluster.joins import LabeledCluster

RADIUS = 120.0  # mm
PITCH = 150.0  # mm


def _helix(z: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rows (x, y, z, 0, 0, 0, 0, 1) of a helix leaving the axis at z = 100 mm, 1 mm noise."""
    azimuth = 2.0 * np.pi * (z - 100.0) / PITCH
    points = np.zeros((z.size, 8))
    points[:, 0] = RADIUS * (np.cos(azimuth) - 1.0) + rng.normal(0.0, 1.0, z.size)
    points[:, 1] = RADIUS * np.sin(azimuth) + rng.normal(0.0, 1.0, z.size)
    points[:, 2] = z
    points[:, 7] = 1.0
    return points


def _axis_track(z: np.ndarray) -> np.ndarray:
    points = np.zeros((z.size, 8))
    points[:, 0] = 25.0 + 0.02 * (z - 100.0)
    points[:, 2] = z
    points[:, 7] = 1.0
    return points


def _clusters():
    rng = np.random.default_rng(5)
    first_turns = _helix(np.linspace(100.0, 400.0, 600), rng)
    later_turns = _helix(np.linspace(401.0, 800.0, 800), rng)
    recoil = _axis_track(np.linspace(100.0, 1000.0, 900))
    mixed = np.concatenate([first_turns, recoil])
    order = np.argsort(mixed[:, 2], kind="stable")
    is_helix = np.r_[np.ones(600, bool), np.zeros(900, bool)][order]
    return (
        [
            LabeledCluster(0, Direction.FORWARD, mixed[order], np.arange(1500)[order]),
            LabeledCluster(1, Direction.FORWARD, later_turns, np.arange(1500, 2300)),
        ],
        is_helix,
    )


def test_helix_takes_back_its_first_turns_and_leaves_the_axis_track():
    clusters, is_helix = _clusters()
    result = capture_turns(clusters, HelixCaptureParameters())
    grown = next(cluster for cluster in result if cluster.label == 1)
    rest = next(cluster for cluster in result if cluster.label == 0)
    helix_parents = set(clusters[0].parent_indices[is_helix].tolist())
    taken = set(grown.parent_indices.tolist()) & helix_parents
    # Only the points near the axis (within axis_radius, on a short arc per turn) stay behind.
    assert len(taken) > 0.85 * len(helix_parents)
    assert grown.points[0, 2] < 110.0
    recoil_taken = len(set(grown.parent_indices.tolist()) - helix_parents) - 800
    assert recoil_taken < 20
    assert len(rest.points) >= 900 - 20
    assert np.all(np.diff(grown.points[:, 2]) >= 0.0)


def test_straight_track_is_no_helix():
    assert fit_helix(_axis_track(np.linspace(100.0, 1000.0, 900))) is None


def test_capture_off_leaves_clusters_alone():
    clusters, _ = _clusters()
    result = capture_turns(clusters, HelixCaptureParameters(min_points=10_000))
    assert [len(cluster.points) for cluster in result] == [1500, 800]
