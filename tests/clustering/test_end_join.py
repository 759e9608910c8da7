"""The end-to-end join: pieces of one track that touch at their ends join, tracks that only
meet (at a vertex, or one ending on another's middle) or lie apart do not."""

from __future__ import annotations

import numpy as np
import pytest
from cluster_tracks import helix_points

from spyralflow.io.cluster_file import Direction
from spyralflow.phases.cluster import ContinuityJoinParameters, EndJoinParameters
from spyralflow.phases.cluster.end_join import join_ends, nearest_pair
from spyralflow.phases.cluster.joins import LabeledCluster, join_continuity

PARAMETERS = EndJoinParameters()


def _labeled(label: int, points: np.ndarray) -> LabeledCluster:
    cloud = np.zeros((len(points), 8))
    cloud[:, :3] = points
    order = np.argsort(points[:, 2], kind="stable")
    return LabeledCluster(
        label, Direction.FORWARD, cloud[order], np.arange(len(points))[order] + 1000 * label
    )


def _line(start: tuple[float, float, float], direction: tuple[float, ...], length: float):
    unit = np.asarray(direction, float) / np.linalg.norm(direction)
    steps = np.arange(0.0, length, 2.0)
    return np.asarray(start, float) + steps[:, None] * unit


def test_a_stub_split_from_its_track_joins_it():
    """The first 30 mm of a helix, cut off 4 mm before the rest."""
    track = helix_points((100.0, 0.0), 60.0, (100.0, 400.0), 1.5, spacing=1.0)
    stub, rest = track[track[:, 2] < 130.0], track[track[:, 2] >= 134.0]
    pieces = [_labeled(0, rest), _labeled(1, stub)]
    joined = join_ends(pieces, PARAMETERS)
    assert len(joined) == 1
    assert joined[0].label == 0  # the larger piece's
    assert sorted(joined[0].parent_indices) == sorted(
        np.concatenate([pieces[0].parent_indices, pieces[1].parent_indices])
    )
    assert np.all(np.diff(joined[0].points[:, 2]) >= 0.0)


def test_two_tracks_leaving_one_vertex_stay_apart():
    vertex = (0.0, 0.0, 500.0)
    ejectile = _line(vertex, (np.sin(0.7), 0.0, np.cos(0.7)), 200.0)
    recoil = _line(vertex, (-np.sin(0.1), 0.0, np.cos(0.1)), 200.0)
    assert len(join_ends([_labeled(0, ejectile), _labeled(1, recoil)], PARAMETERS)) == 2


def test_a_track_ending_on_the_middle_of_another_stays_apart():
    through = _line((0.0, 0.0, 300.0), (1.0, 0.0, 1.0), 300.0)
    middle = through[len(through) // 2]
    ending = _line(middle + np.array([-3.0, 0.0, 3.0]), (-1.0, 0.0, 1.0), 150.0)
    assert len(join_ends([_labeled(0, through), _labeled(1, ending)], PARAMETERS)) == 2


def test_pieces_of_a_straight_track_join_unless_the_gap_is_wider_than_max_gap():
    """A straight track (a fast forward ejectile) has no circle centre: Spyral's continuity
    join cannot join its pieces however close."""
    track = _line((0.0, 0.0, 100.0), (1.0, 1.0, 2.0), 400.0)
    steps = np.linalg.norm(track - track[0], axis=1)
    near, far = track[steps < 150.0], track[steps > 150.0 + 2.0 * PARAMETERS.max_gap]
    assert len(join_ends([_labeled(0, near), _labeled(1, far)], PARAMETERS)) == 2
    close = track[steps > 150.0 + 0.5 * PARAMETERS.max_gap]
    pieces = [_labeled(0, near), _labeled(1, close)]
    assert len(join_ends(pieces, PARAMETERS)) == 1
    assert len(join_continuity(pieces, ContinuityJoinParameters())) == 2


def test_nearest_pair_equals_the_brute_force_minimum():
    rng = np.random.default_rng(3)
    first, second = rng.normal(size=(57, 3)) * 40.0, rng.normal(size=(33, 3)) * 40.0 + 30.0
    distances = np.linalg.norm(first[:, None, :] - second[None, :, :], axis=2)
    i, j = np.unravel_index(np.argmin(distances), distances.shape)
    gap, found_i, found_j = nearest_pair(first, second)
    assert (found_i, found_j) == (i, j) and gap == pytest.approx(distances[i, j], rel=1e-12)
