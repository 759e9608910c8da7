"""HDBSCAN, local outlier factor and direction kernels of the Cluster phase."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
from cluster_tracks import as_cloud, helix_points, noise_points
from sklearn.cluster import HDBSCAN
from sklearn.neighbors import LocalOutlierFactor

from spyralflow.io.cluster_file import Direction
from spyralflow.phases.cluster import HdbscanParameters
from spyralflow.phases.cluster.direction import rotation_fractions, track_direction
from spyralflow.phases.cluster.hdbscan import (
    Z_SCALE,
    core_distances,
    hdbscan_labels,
    min_cluster_size,
    mutual_reachability_tree,
)
from spyralflow.phases.cluster.hdbscan_tree import condense_tree, single_linkage
from spyralflow.phases.cluster.outliers import (
    inlier_mask,
    k_nearest_neighbours,
    local_outlier_factors,
    outlier_neighbour_count,
)

ENGINE_EVENTS = Path(__file__).resolve().parents[1] / "physics" / "data" / "multi_turn_protons.h5"


def _sklearn_labels(xyz: np.ndarray, parameters: HdbscanParameters) -> np.ndarray:
    features = xyz * [1.0, 1.0, Z_SCALE]
    return (
        HDBSCAN(
            min_cluster_size=min_cluster_size(len(xyz), parameters),
            min_samples=parameters.min_points,
            cluster_selection_epsilon=parameters.cluster_selection_epsilon,
            copy=True,
        )
        .fit(features)
        .labels_
    )


def _clouds() -> list[np.ndarray]:
    rng = np.random.default_rng(11)
    tracks = as_cloud(
        helix_points((100.0, 40.0), 55.0, (100.0, 600.0), 2.0),
        helix_points((-90.0, -60.0), 70.0, (150.0, 520.0), -1.5),
        noise_points(40),
    )[0][:, :3]
    blobs = np.concatenate([rng.normal(centre, 8.0, (150, 3)) for centre in (0.0, 60.0, 150.0)])
    # Points on an integer grid: many equal distances, so Prim's tie-breaking is exercised.
    grid = rng.integers(0, 12, (300, 3)).astype(float) * [4.0, 4.0, 7.0]
    return [tracks, blobs, grid, rng.uniform(0.0, 100.0, (60, 3))]


@pytest.mark.parametrize(
    "parameters",
    [
        HdbscanParameters(),
        HdbscanParameters(
            min_points=5,
            min_size_scale_factor=0.0,
            min_size_lower_cutoff=5,
            cluster_selection_epsilon=13.0,
        ),
        HdbscanParameters(min_points=3, min_size_scale_factor=0.05, cluster_selection_epsilon=0.0),
    ],
)
def test_hdbscan_labels_equal_scikit_learn(parameters):
    for xyz in _clouds():
        assert np.array_equal(hdbscan_labels(xyz, parameters), _sklearn_labels(xyz, parameters))


def _engine_clouds() -> list[np.ndarray]:
    """Two attpc_engine events of the physics fixtures (a short track and a 4400-point one)."""
    with h5py.File(ENGINE_EVENTS, "r") as handle:
        return [
            handle[name]["xyz"][()].astype(np.float64) for name in ("control_33", "failing_1717")
        ]


@pytest.mark.parametrize("epsilon", [0.0, 10.0])
def test_hdbscan_labels_equal_scikit_learn_on_engine_events(epsilon):
    parameters = HdbscanParameters(cluster_selection_epsilon=epsilon)
    for xyz in _engine_clouds():
        labels = hdbscan_labels(xyz, parameters)
        assert labels.max() >= 1
        assert np.array_equal(labels, _sklearn_labels(xyz, parameters))


def test_tree_stages_equal_scikit_learn_row_for_row():
    """The single-linkage and condensed trees themselves, against scikit-learn's (private)
    ``make_single_linkage`` and ``_condense_tree``, on clouds with many tied distances."""
    linkage = pytest.importorskip("sklearn.cluster._hdbscan._linkage")
    tree = pytest.importorskip("sklearn.cluster._hdbscan._tree")
    for xyz in _clouds():
        features = xyz * [1.0, 1.0, Z_SCALE]
        sources, targets, distances = mutual_reachability_tree(
            features, core_distances(features, 3)
        )
        edges = np.empty(len(sources), dtype=linkage.MST_edge_dtype)
        edges["current_node"], edges["next_node"], edges["distance"] = sources, targets, distances
        theirs = linkage.make_single_linkage(edges[np.argsort(edges["distance"])])
        ours = single_linkage(sources, targets, distances, np.argsort(distances).astype(np.int64))
        for field, column in zip(
            ("left_node", "right_node", "value", "cluster_size"), ours, strict=True
        ):
            assert np.array_equal(theirs[field], column), field
        condensed = tree._condense_tree(theirs, 10)
        for field, column in zip(
            ("parent", "child", "value", "cluster_size"), condense_tree(*ours, 10), strict=True
        ):
            assert np.array_equal(condensed[field], column), field


def test_hdbscan_tiny_clouds_are_noise():
    assert np.all(hdbscan_labels(np.zeros((3, 3)), HdbscanParameters(min_points=3)) == -1)


def test_min_cluster_size_rule():
    parameters = HdbscanParameters(min_size_scale_factor=0.03, min_size_lower_cutoff=10)
    assert min_cluster_size(100, parameters) == 10
    assert min_cluster_size(1000, parameters) == 30
    assert min_cluster_size(10, HdbscanParameters(min_size_lower_cutoff=1)) == 2


@pytest.mark.parametrize("factor", [0.05, 0.1, 0.3])
def test_local_outlier_factor_equals_scikit_learn(factor):
    # With ties at the k-th distance the two searches may keep different, equally distant
    # neighbours (documented), so the regular synthetic helices get a little jitter and the
    # integer grid is left out; measured point clouds have no such ties.
    tracks, blobs, _, uniform = _clouds()
    jitter = np.random.default_rng(2).normal(0.0, 0.01, tracks.shape)
    for xyz in (tracks + jitter, blobs, uniform):
        k = outlier_neighbour_count(len(xyz), factor)
        reference = -LocalOutlierFactor(n_neighbors=k).fit(xyz).negative_outlier_factor_
        assert local_outlier_factors(np.ascontiguousarray(xyz), k) == pytest.approx(
            reference, rel=1e-9
        )


def test_k_nearest_neighbours_equal_brute_force():
    xyz = _clouds()[1]
    squared, neighbours = k_nearest_neighbours(xyz, 7)
    distances = np.linalg.norm(xyz[:, None, :] - xyz[None, :, :], axis=2)
    np.fill_diagonal(distances, np.inf)
    expected = np.sort(distances, axis=1)[:, :7]
    assert np.sort(np.sqrt(squared), axis=1) == pytest.approx(expected, rel=1e-12)
    found = np.take_along_axis(distances, neighbours, axis=1)
    assert np.sort(found, axis=1) == pytest.approx(expected, rel=1e-12)


def test_inlier_mask_drops_a_stray_point_and_keeps_the_track():
    track = helix_points((0.0, 80.0), 80.0, (0.0, 400.0), 1.0)
    stray = np.array([[60.0, -40.0, 200.0]])
    points = np.concatenate([track, stray])
    keep = inlier_mask(points, 0.1)
    assert not keep[-1]
    assert keep[:-1].mean() > 0.97
    assert outlier_neighbour_count(len(points), 0.1) == int(0.1 * len(points))
    assert outlier_neighbour_count(2, 0.1) == 1  # scikit-learn caps at n - 1
    assert inlier_mask(points[:1], 0.1).tolist() == [True]


def test_direction_follows_the_sense_of_rotation():
    forward = helix_points((50.0, 0.0), 50.0, (100.0, 700.0), 2.5)
    assert track_direction(forward, 0.5) is Direction.FORWARD
    backward = helix_points((50.0, 0.0), 50.0, (100.0, 700.0), -2.5)
    assert track_direction(backward, 0.5) is Direction.BACKWARD


def test_direction_unwraps_full_turns():
    # Five points per turn over four turns: Spyral's [0, 2 pi) angles give one backwards step
    # per turn (a positive fraction of 0.79); unwrapped, every step is forwards.
    z = np.arange(0.0, 20.0) * 25.0
    angle = 2.0 * np.pi * np.arange(20) / 5.0 + 0.3
    points = np.column_stack([40.0 * np.cos(angle), 40.0 * np.sin(angle), z])
    positive, negative = rotation_fractions(points)
    assert (positive, negative) == (1.0, 0.0)
    assert track_direction(points, 0.9) is Direction.FORWARD


def test_direction_of_a_cluster_with_nearly_tied_z():
    """An alpha cluster of a simulated 16C(a,a') event (physics matrix, 1000 events, event 266)
    with two points 2.2e-10 mm apart in z: its smoothing divided by zero and the Cluster phase
    crashed on the run."""
    with np.load(Path(__file__).parent / "data" / "near_tied_z_alpha.npz") as data:
        points = data["xyz"]
    assert np.diff(points[:, 2]).min() < 1e-9
    positive, negative = rotation_fractions(points)
    assert positive + negative == pytest.approx(1.0)
    assert track_direction(points, 0.5) is not None


def test_direction_of_degenerate_tracks_is_none():
    z = np.arange(0.0, 300.0, 1.8)
    beam = np.column_stack([np.full(len(z), 0.5), np.full(len(z), -0.5), z])
    assert track_direction(beam, 0.5) is Direction.NONE
    assert track_direction(beam[:2], 0.5) is Direction.NONE


def test_direction_survives_repeated_z():
    track = helix_points((50.0, 0.0), 50.0, (100.0, 500.0), 2.0)
    track[1::2, 2] = track[0::2, 2][: len(track[1::2])]  # pairs of points share a z
    order = np.argsort(track[:, 2], kind="stable")
    assert track_direction(track[order], 0.5) is Direction.FORWARD
