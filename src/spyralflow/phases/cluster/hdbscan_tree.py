"""HDBSCAN from the minimum spanning tree to labels, step for step as scikit-learn 1.9's
``_process_mst`` and ``tree_to_labels`` (``sklearn/cluster/_hdbscan/_linkage.pyx``, ``_tree.pyx``)
with Spyral's settings: excess of mass, no single cluster, no maximum size, any epsilon.

Why not call scikit-learn's own functions: they are private, and importing scikit-learn costs
about 3 s of every Cluster job (it imports scipy.stats and pandas), more than the clustering of a
whole small run. The O(N) steps (single linkage, condensed tree, stabilities, labels) are numba
kernels; the selection over the condensed clusters, a few dozen nodes, is Python, written as
scikit-learn writes it so that every float is summed in the same order and every tie resolves
the same way. ``tests/clustering/test_cluster_kernels.py`` checks the labels against
``sklearn.cluster.HDBSCAN`` on tracks, blobs, tied grids and engine events.
"""

from __future__ import annotations

import numpy as np
from numba import njit

NOISE_LABEL = -1


@njit(cache=True)
def _root_of(parent: np.ndarray, node: int) -> int:
    root = node
    while parent[root] != -1:
        root = parent[root]
    while parent[node] != -1 and parent[node] != root:
        parent[node], node = root, parent[node]
    return root


@njit(cache=True)
def single_linkage(
    sources: np.ndarray, targets: np.ndarray, distances: np.ndarray, order: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's ``make_single_linkage`` of the tree edges taken in ``order``.

    Returns
    -------
    tuple of numpy.ndarray
        Left node, right node, distance and size of each merge (scipy's linkage layout; merge i
        makes node n + i).
    """
    n_edges = order.shape[0]
    n_points = n_edges + 1
    parent = np.full(2 * n_points - 1, -1, dtype=np.int64)
    size = np.zeros(2 * n_points - 1, dtype=np.int64)
    size[:n_points] = 1
    left = np.empty(n_edges, dtype=np.int64)
    right = np.empty(n_edges, dtype=np.int64)
    value = np.empty(n_edges, dtype=np.float64)
    merged = np.empty(n_edges, dtype=np.int64)
    for step in range(n_edges):
        edge = order[step]
        a = _root_of(parent, sources[edge])
        b = _root_of(parent, targets[edge])
        new = n_points + step
        left[step] = a
        right[step] = b
        value[step] = distances[edge]
        merged[step] = size[a] + size[b]
        parent[a] = new
        parent[b] = new
        size[new] = merged[step]
    return left, right, value, merged


@njit(cache=True)
def _breadth_first(left: np.ndarray, right: np.ndarray, start: int, out: np.ndarray) -> int:
    """The nodes under ``start`` (itself first) in breadth-first order, as scikit-learn's
    ``bfs_from_hierarchy``; written into ``out``, their count returned."""
    n_points = left.shape[0] + 1
    out[0] = start
    head = 0
    tail = 1
    while head < tail:
        node = out[head]
        head += 1
        if node >= n_points:
            out[tail] = left[node - n_points]
            out[tail + 1] = right[node - n_points]
            tail += 2
    return tail


@njit(cache=True)
def condense_tree(
    left: np.ndarray, right: np.ndarray, value: np.ndarray, size: np.ndarray, min_size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's ``_condense_tree``: parent, child, lambda and size of each row, in its
    row order (points are numbered 0 ... n - 1, clusters from n, the root n)."""
    n_edges = left.shape[0]
    n_points = n_edges + 1
    root = 2 * n_edges
    nodes = np.empty(2 * n_points - 1, dtype=np.int64)
    n_nodes = _breadth_first(left, right, root, nodes)
    below = np.empty(2 * n_points - 1, dtype=np.int64)
    relabel = np.empty(root + 1, dtype=np.int64)
    relabel[root] = n_points
    next_label = n_points + 1
    ignore = np.zeros(2 * n_points - 1, dtype=np.bool_)
    capacity = 2 * n_points + 2
    out_parent = np.empty(capacity, dtype=np.int64)
    out_child = np.empty(capacity, dtype=np.int64)
    out_lambda = np.empty(capacity, dtype=np.float64)
    out_size = np.empty(capacity, dtype=np.int64)
    rows = 0
    for index in range(n_nodes):
        node = nodes[index]
        if ignore[node] or node < n_points:
            continue
        merge = node - n_points
        a = left[merge]
        b = right[merge]
        distance = value[merge]
        lambda_value = 1.0 / distance if distance > 0.0 else np.inf
        a_count = size[a - n_points] if a >= n_points else 1
        b_count = size[b - n_points] if b >= n_points else 1
        if a_count >= min_size and b_count >= min_size:
            for child, count in ((a, a_count), (b, b_count)):
                relabel[child] = next_label
                next_label += 1
                out_parent[rows] = relabel[node]
                out_child[rows] = relabel[child]
                out_lambda[rows] = lambda_value
                out_size[rows] = count
                rows += 1
            continue
        # Each side too small falls out of the node point by point; a large side keeps its label.
        for side, count, other, other_count in ((a, a_count, b, b_count), (b, b_count, a, a_count)):
            if count >= min_size:
                continue
            if other_count >= min_size:
                relabel[other] = relabel[node]
            n_below = _breadth_first(left, right, side, below)
            for k in range(n_below):
                sub_node = below[k]
                if sub_node < n_points:
                    out_parent[rows] = relabel[node]
                    out_child[rows] = sub_node
                    out_lambda[rows] = lambda_value
                    out_size[rows] = 1
                    rows += 1
                ignore[sub_node] = True
    return out_parent[:rows], out_child[:rows], out_lambda[:rows], out_size[:rows]


@njit(cache=True)
def cluster_stabilities(
    parent: np.ndarray, child: np.ndarray, lambdas: np.ndarray, size: np.ndarray
) -> np.ndarray:
    """scikit-learn's ``_compute_stability``: the stability of clusters ``parent.min()`` ...
    ``parent.max()``, summed in row order."""
    smallest = parent.min()
    largest_child = max(child.max(), smallest)
    births = np.full(largest_child + 1, np.nan)
    for row in range(parent.shape[0]):
        births[child[row]] = lambdas[row]
    births[smallest] = 0.0
    result = np.zeros(parent.max() - smallest + 1)
    for row in range(parent.shape[0]):
        result[parent[row] - smallest] += (lambdas[row] - births[parent[row]]) * size[row]
    return result


def _subtree(parents: np.ndarray, children: np.ndarray, top: int) -> list[int]:
    """``top`` and every cluster under it (``bfs_from_cluster_tree``)."""
    found = [top]
    level = np.array([top])
    while len(level) > 0:
        level = children[np.isin(parents, level)]
        found.extend(level.tolist())
    return found


def _epsilon_ancestor(
    parents: np.ndarray, children: np.ndarray, lambdas: np.ndarray, leaf: int, epsilon: float
) -> int:
    """``traverse_upwards`` without single clusters: the first ancestor of ``leaf`` born at a
    distance above epsilon, or the child of the root on the way."""
    root = parents.min()
    while True:
        parent = int(parents[children == leaf][0])
        if parent == root:
            return leaf
        if 1.0 / lambdas[children == parent][0] > epsilon:
            return parent
        leaf = parent


def _epsilon_search(
    leaves: set[int], parents: np.ndarray, children: np.ndarray, lambdas: np.ndarray, epsilon: float
) -> set[int]:
    """scikit-learn's ``epsilon_search`` (leaves visited in the same set order)."""
    selected: list[int] = []
    processed: set[int] = set()
    for leaf in leaves:
        if 1.0 / lambdas[children == leaf][0] < epsilon:
            if leaf not in processed:
                top = _epsilon_ancestor(parents, children, lambdas, leaf, epsilon)
                selected.append(top)
                processed.update(node for node in _subtree(parents, children, top) if node != top)
        else:
            selected.append(leaf)
    return set(selected)


def selected_clusters(
    parent: np.ndarray,
    child: np.ndarray,
    lambdas: np.ndarray,
    size: np.ndarray,
    stability: np.ndarray,
    epsilon: float,
) -> list[int]:
    """The clusters ``_get_clusters`` selects by excess of mass (and epsilon), sorted."""
    smallest = int(parent.min())
    stabilities = {smallest + k: value for k, value in enumerate(stability.tolist())}
    candidates = sorted(stabilities, reverse=True)[:-1]  # every cluster but the root
    tree = size > 1
    parents, children, tree_lambdas = parent[tree], child[tree], lambdas[tree]
    is_cluster = dict.fromkeys(candidates, True)
    for node in candidates:
        subtree_stability = np.sum([stabilities[c] for c in children[parents == node].tolist()])
        if subtree_stability > stabilities[node]:
            is_cluster[node] = False
            stabilities[node] = subtree_stability
        else:
            for sub_node in _subtree(parents, children, node)[1:]:
                is_cluster[sub_node] = False
    if epsilon != 0.0 and len(parents) > 0:
        chosen = {c for c in is_cluster if is_cluster[c]}
        kept = _epsilon_search(chosen, parents, children, tree_lambdas, epsilon)
        is_cluster = {c: c in kept for c in is_cluster}
    return sorted(c for c in is_cluster if is_cluster[c])


@njit(cache=True)
def label_points(
    parent: np.ndarray, child: np.ndarray, size: np.ndarray, clusters: np.ndarray
) -> np.ndarray:
    """``_do_labelling`` without single clusters: each point takes the label (index in the
    sorted ``clusters``) of its nearest selected ancestor, noise if it has none."""
    root = parent.min()
    n_points = root
    cluster_parent = np.full(parent.max() + 1, -1, dtype=np.int64)
    for row in range(parent.shape[0]):
        if size[row] > 1:
            cluster_parent[child[row]] = parent[row]
    label_of = np.full(parent.max() + 1, NOISE_LABEL, dtype=np.int64)
    for index in range(clusters.shape[0]):
        label_of[clusters[index]] = index
    # A cluster's parent has a smaller number, so one pass in increasing order suffices.
    for cluster in range(root + 1, parent.max() + 1):
        if label_of[cluster] == NOISE_LABEL and cluster_parent[cluster] >= 0:
            label_of[cluster] = label_of[cluster_parent[cluster]]
    labels = np.full(n_points, NOISE_LABEL, dtype=np.int64)
    for row in range(parent.shape[0]):
        if child[row] < n_points:
            labels[child[row]] = label_of[parent[row]]
    return labels


def tree_labels(
    sources: np.ndarray,
    targets: np.ndarray,
    distances: np.ndarray,
    min_size: int,
    epsilon: float,
) -> np.ndarray:
    """HDBSCAN labels from a minimum spanning tree in Prim's order (scikit-learn's
    ``_process_mst`` then ``tree_to_labels(tree, min_size, "eom", False, epsilon, None)``).

    Parameters
    ----------
    sources, targets, distances : numpy.ndarray
        The n - 1 edges of the mutual-reachability tree.
    min_size : int
        The minimum cluster size (>= 2).
    epsilon : float
        ``cluster_selection_epsilon``.

    Returns
    -------
    numpy.ndarray
        (n,) int64 labels, -1 for noise.
    """
    # numpy's argsort, called as scikit-learn calls it, decides the order of equal distances.
    order = np.argsort(distances).astype(np.int64)
    hierarchy = single_linkage(sources, targets, distances, order)
    parent, child, lambdas, size = condense_tree(*hierarchy, int(min_size))
    stability = cluster_stabilities(parent, child, lambdas, size)
    clusters = selected_clusters(parent, child, lambdas, size, stability, float(epsilon))
    return label_points(parent, child, size, np.array(clusters, dtype=np.int64))
