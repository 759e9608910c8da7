"""Local outlier factor cleaning of a cluster, as scikit-learn's ``LocalOutlierFactor``.

Spyral runs ``LocalOutlierFactor(n_neighbors=k).fit_predict(xyz)`` (Euclidean distance,
contamination 'auto') on every cluster, twice per event. This computes the same factor:
k-distance, reachability distance max(d(p, o), k-distance(o)), local reachability density
1 / (mean reachability + 1e-10), factor = mean neighbour density / own density, and a point is
an outlier when its factor exceeds 1.5 (scikit-learn's fixed offset for 'auto'). Ties at the
k-th neighbour may pick a different, equally distant neighbour than scikit-learn's trees.

The neighbour search only examines points near along the coordinate of largest extent, so the
cost is about n * k for a track instead of n^2.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# scikit-learn's LocalOutlierFactor: offset_ = -1.5 for contamination="auto".
OUTLIER_FACTOR_LIMIT = 1.5
_DENSITY_REGULARISATION = 1.0e-10
# Visited points whose k-distance bounds the next point's search radius.
_BOUND_CANDIDATES = 3
# Above this many points per neighbour in the bounded slab, the outward walk is cheaper.
_SLAB_FACTOR = 8


def outlier_neighbour_count(cluster_size: int, outlier_scale_factor: float) -> int:
    """Spyral's ``n_neighbors = max(2, int(factor * n))``, capped at n - 1 as scikit-learn does."""
    return min(max(2, int(outlier_scale_factor * cluster_size)), cluster_size - 1)


@njit(cache=True)
def _select_smallest(values: np.ndarray, labels: np.ndarray, count: int, k: int) -> None:
    """Reorder ``values[:count]`` (and ``labels`` alike) so the first k are the k smallest."""
    low = 0
    high = count - 1
    while low < high:
        middle = (low + high) // 2
        # Median of three as pivot keeps tracks sorted along the axis from the worst case.
        a, b, c = values[low], values[middle], values[high]
        pivot = max(min(a, b), min(max(a, b), c))
        left = low
        right = high
        while left <= right:
            while values[left] < pivot:
                left += 1
            while values[right] > pivot:
                right -= 1
            if left <= right:
                values[left], values[right] = values[right], values[left]
                labels[left], labels[right] = labels[right], labels[left]
                left += 1
                right -= 1
        if k - 1 <= right:
            high = right
        elif k - 1 >= left:
            low = left
        else:
            return


@njit(cache=True)
def _heap_sift_down(distances: np.ndarray, indices: np.ndarray, size: int) -> None:
    """Restore the max-heap ``distances[:size]`` after its root was replaced."""
    parent = 0
    while True:
        child = 2 * parent + 1
        if child >= size:
            return
        if child + 1 < size and distances[child + 1] > distances[child]:
            child += 1
        if distances[child] <= distances[parent]:
            return
        distances[parent], distances[child] = distances[child], distances[parent]
        indices[parent], indices[child] = indices[child], indices[parent]
        parent = child


@njit(cache=True)
def _heap_sift_up(distances: np.ndarray, indices: np.ndarray, child: int) -> None:
    """Restore the max-heap after appending at ``child``."""
    while child > 0:
        parent = (child - 1) // 2
        if distances[parent] >= distances[child]:
            return
        distances[parent], distances[child] = distances[child], distances[parent]
        indices[parent], indices[child] = indices[child], indices[parent]
        child = parent


@njit(cache=True)
def _expanding_search(
    sorted_points: np.ndarray,
    key: np.ndarray,
    position: int,
    k: int,
    found_distance: np.ndarray,
    found_index: np.ndarray,
) -> None:
    """k nearest of one point by walking outwards along the sorted axis (a max-heap of k),
    stopping when the axis gap alone exceeds the k-th distance."""
    count = key.shape[0]
    size = 0
    below = position - 1
    above = position + 1
    while below >= 0 or above < count:
        gap_below = key[position] - key[below] if below >= 0 else np.inf
        gap_above = key[above] - key[position] if above < count else np.inf
        if gap_below <= gap_above:
            candidate = below
            gap = gap_below
            below -= 1
        else:
            candidate = above
            gap = gap_above
            above += 1
        if size == k and gap * gap >= found_distance[0]:
            return
        distance = 0.0
        for coordinate in range(3):
            delta = sorted_points[candidate, coordinate] - sorted_points[position, coordinate]
            distance += delta * delta
        if size < k:
            found_distance[size] = distance
            found_index[size] = candidate
            _heap_sift_up(found_distance, found_index, size)
            size += 1
        elif distance < found_distance[0]:
            found_distance[0] = distance
            found_index[0] = candidate
            _heap_sift_down(found_distance, found_index, size)


@njit(cache=True)
def k_nearest_neighbours(points: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest other points of every point (Euclidean), in no particular order.

    Points are visited in order along the axis of largest extent. The k-distance of a point
    is at most the k-distance of a recently visited point p plus the distance to p (p's k
    neighbours and p itself are all that close); when that bound leaves few points along the
    axis, those are examined and the k closest selected in linear time. Otherwise (a bound
    from a point on another track) the search walks outwards from the point with a heap.

    Parameters
    ----------
    points : numpy.ndarray
        (n, 3) coordinates, n > k >= 1.
    k : int
        Neighbours per point.

    Returns
    -------
    tuple[numpy.ndarray, numpy.ndarray]
        (n, k) squared distances and (n, k) neighbour indices.
    """
    count = points.shape[0]
    extent = np.empty(3)
    for axis in range(3):
        extent[axis] = points[:, axis].max() - points[:, axis].min()
    axis = int(np.argmax(extent))
    order = np.argsort(points[:, axis], kind="mergesort")
    sorted_points = points[order]
    key = sorted_points[:, axis].copy()
    xs = sorted_points[:, 0].copy()
    ys = sorted_points[:, 1].copy()
    zs = sorted_points[:, 2].copy()
    squared = np.empty((count, k))
    neighbours = np.empty((count, k), dtype=np.int64)
    k_distance = np.empty(count)
    found_distance = np.empty(count)
    found_index = np.empty(count, dtype=np.int64)
    slab_limit = _SLAB_FACTOR * (k + 1)
    for position in range(count):
        bound = np.inf
        for previous in range(max(0, position - _BOUND_CANDIDATES), position):
            separation = 0.0
            for coordinate in range(3):
                delta = sorted_points[previous, coordinate] - sorted_points[position, coordinate]
                separation += delta * delta
            bound = min(bound, k_distance[previous] + np.sqrt(separation))
        lowest = np.searchsorted(key, key[position] - bound, side="left")
        highest = np.searchsorted(key, key[position] + bound, side="right")
        if highest - lowest > slab_limit:
            _expanding_search(sorted_points, key, position, k, found_distance, found_index)
        else:
            # Every point within the bound lies in the slab, so the k closest of the slab are
            # the k nearest; the distances are computed in one vectorisable pass.
            found = highest - lowest
            for slot in range(found):
                candidate = lowest + slot
                dx = xs[candidate] - xs[position]
                dy = ys[candidate] - ys[position]
                dz = zs[candidate] - zs[position]
                found_distance[slot] = dx * dx + dy * dy + dz * dz
                found_index[slot] = candidate
            found_distance[position - lowest] = np.inf
            _select_smallest(found_distance, found_index, found, k)
        largest = 0.0
        original = order[position]
        for slot in range(k):
            squared[original, slot] = found_distance[slot]
            neighbours[original, slot] = order[found_index[slot]]
            largest = max(largest, found_distance[slot])
        k_distance[position] = np.sqrt(largest)
    return squared, neighbours


@njit(cache=True)
def local_outlier_factors(points: np.ndarray, k: int) -> np.ndarray:
    """scikit-learn's local outlier factor of every point with k neighbours (n > k >= 1)."""
    squared, neighbours = k_nearest_neighbours(points, k)
    count = points.shape[0]
    k_distance = np.empty(count)
    for point in range(count):
        k_distance[point] = np.sqrt(squared[point].max())
    density = np.empty(count)
    for point in range(count):
        reach = 0.0
        for slot in range(k):
            reach += max(np.sqrt(squared[point, slot]), k_distance[neighbours[point, slot]])
        density[point] = 1.0 / (reach / k + _DENSITY_REGULARISATION)
    factors = np.empty(count)
    for point in range(count):
        total = 0.0
        for slot in range(k):
            total += density[neighbours[point, slot]]
        factors[point] = total / k / density[point]
    return factors


def inlier_mask(points: np.ndarray, outlier_scale_factor: float) -> np.ndarray:
    """True for the points Spyral's LOF cleaning keeps.

    Parameters
    ----------
    points : numpy.ndarray
        (n, >=3) array; columns 0-2 are x, y, z in mm (not rescaled).
    outlier_scale_factor : float
        Neighbours = max(2, int(factor * n)), at most n - 1.
    """
    count = points.shape[0]
    if count < 2:
        return np.ones(count, dtype=bool)
    k = outlier_neighbour_count(count, outlier_scale_factor)
    xyz = np.ascontiguousarray(points[:, :3], dtype=np.float64)
    return local_outlier_factors(xyz, k) <= OUTLIER_FACTOR_LIMIT
