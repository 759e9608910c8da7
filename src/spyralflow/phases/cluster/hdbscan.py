"""HDBSCAN of a point cloud, equal to scikit-learn's, with Spyral's scaling and size rule.

Spyral calls ``sklearn.cluster.HDBSCAN(min_cluster_size, min_samples,
cluster_selection_epsilon).fit(x, y, 0.584 z)``. Three quarters of that call is scikit-learn's
Prim's algorithm for the minimum spanning tree of mutual-reachability distances, which calls a
virtual distance function for each of the ~N^2/2 point pairs. Here that stage runs as an exact
numba copy of scikit-learn's ``mst_from_data_matrix`` (same core distances, same visiting order,
same strict comparisons, so the same tree edge for edge), and the rest (single-linkage tree,
condensed tree, excess-of-mass selection with epsilon) as the copy in
:mod:`~spyralflow.phases.cluster.hdbscan_tree`. scikit-learn is not imported in a job: its
import alone took 3 s of a 4 s Cluster job. Labels equal ``HDBSCAN.fit``'s (tested on tracks,
blobs, tied grids and engine events).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from spyralflow.phases.cluster.hdbscan_tree import NOISE_LABEL, tree_labels
from spyralflow.phases.cluster.outliers import k_nearest_neighbours
from spyralflow.phases.cluster.parameters import HdbscanParameters

# Spyral rescales z by 584/1000 so the 1 m drift length spans about the pad-plane diameter and
# tracks do not break up along z.
Z_SCALE = 584.0 / 1000.0


def min_cluster_size(cloud_size: int, parameters: HdbscanParameters) -> int:
    """Spyral's ``max(int(min_size_scale_factor * N), min_size_lower_cutoff)``, at least 2
    (scikit-learn rejects smaller values)."""
    return max(
        2,
        int(parameters.min_size_scale_factor * cloud_size),
        parameters.min_size_lower_cutoff,
    )


@njit(cache=True)
def core_distances(features: np.ndarray, min_samples: int) -> np.ndarray:
    """Distance of each point to its ``min_samples``-th nearest point, itself included (as
    scikit-learn's ``NearestNeighbors.kneighbors(X, min_samples)``)."""
    count = features.shape[0]
    result = np.zeros(count)
    if min_samples <= 1:
        return result
    squared, _ = k_nearest_neighbours(features, min_samples - 1)
    for point in range(count):
        result[point] = math.sqrt(squared[point].max())
    return result


@njit(cache=True)
def mutual_reachability_tree(
    features: np.ndarray, core: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Prim's minimum spanning tree of mutual-reachability distances, edge for edge as
    scikit-learn's ``mst_from_data_matrix`` (Euclidean, alpha = 1).

    scikit-learn grows the tree from point 0; at each step it lowers every outside point's
    best reachability to the newest tree point (strictly smaller values only) and adds the
    outside point of smallest best reachability, the lowest index among equals. The same
    rule is applied here to a compacted list of outside points, in two passes that the
    compiler can vectorise, with the tie broken on the point index explicitly.

    Parameters
    ----------
    features : numpy.ndarray
        (n, 3) clustering coordinates.
    core : numpy.ndarray
        (n,) core distances.

    Returns
    -------
    tuple of numpy.ndarray
        Source node, next node and distance of each of the n - 1 edges, in Prim's order.
    """
    count = features.shape[0]
    xs = features[:, 0].copy()
    ys = features[:, 1].copy()
    zs = features[:, 2].copy()
    cores = core.copy()
    best_reach = np.full(count, np.inf)
    best_source = np.ones(count, dtype=np.int64)
    ids = np.arange(count)
    sources = np.empty(count - 1, dtype=np.int64)
    targets = np.empty(count - 1, dtype=np.int64)
    distances = np.empty(count - 1)
    remaining = count
    position = 0
    for step in range(count - 1):
        current = ids[position]
        # Remove the newest tree point by moving the last outside point into its slot.
        remaining -= 1
        xs[position] = xs[remaining]
        ys[position] = ys[remaining]
        zs[position] = zs[remaining]
        cores[position] = cores[remaining]
        best_reach[position] = best_reach[remaining]
        best_source[position] = best_source[remaining]
        ids[position] = ids[remaining]
        current_x = features[current, 0]
        current_y = features[current, 1]
        current_z = features[current, 2]
        current_core = core[current]
        for slot in range(remaining):
            dx = current_x - xs[slot]
            dy = current_y - ys[slot]
            dz = current_z - zs[slot]
            reach = max(current_core, cores[slot], math.sqrt(dx * dx + dy * dy + dz * dz))
            lower = reach < best_reach[slot]
            best_reach[slot] = reach if lower else best_reach[slot]
            best_source[slot] = current if lower else best_source[slot]
        position = 0
        for slot in range(1, remaining):
            if best_reach[slot] < best_reach[position] or (
                best_reach[slot] == best_reach[position] and ids[slot] < ids[position]
            ):
                position = slot
        sources[step] = best_source[position]
        targets[step] = ids[position]
        distances[step] = best_reach[position]
    return sources, targets, distances


def hdbscan_labels(xyz: np.ndarray, parameters: HdbscanParameters) -> np.ndarray:
    """HDBSCAN label of every point (-1 = noise) on (x, y, 0.584 z).

    Parameters
    ----------
    xyz : numpy.ndarray
        (N, 3) positions in mm.
    parameters : HdbscanParameters
        Spyral's settings; every other HDBSCAN argument is scikit-learn's default
        (euclidean, 'eom', alpha 1.0, no single cluster, no maximum size).

    Returns
    -------
    numpy.ndarray
        (N,) int64 labels. All noise when the cloud has no more points than ``min_points``
        (scikit-learn needs more points than neighbours).
    """
    count = xyz.shape[0]
    if count <= parameters.min_points:
        return np.full(count, NOISE_LABEL, dtype=np.int64)
    features = np.array(xyz[:, :3], dtype=np.float64, order="C")
    features[:, 2] *= Z_SCALE
    sources, targets, distances = mutual_reachability_tree(
        features, core_distances(features, parameters.min_points)
    )
    size = min_cluster_size(count, parameters)
    return tree_labels(
        sources, targets, distances, size, float(parameters.cluster_selection_epsilon)
    )
