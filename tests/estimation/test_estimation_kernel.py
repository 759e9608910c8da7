"""The estimator on ideal helices and on clusters it must skip."""

from __future__ import annotations

import math

import numpy as np
import pytest
from estimation_tracks import MAGNETIC_FIELD, ideal_helix

from spyralflow.io.cluster_file import Direction
from spyralflow.phases.estimation.estimator import (
    ESTIMATE_FIELDS,
    EstimateStatus,
    estimate_cluster,
)


def _estimate(data, direction, min_points=30, smoothing=100.0, beam_region_radius=25.0):
    status, values = estimate_cluster(
        data, direction, min_points, smoothing, MAGNETIC_FIELD, beam_region_radius
    )
    return status, dict(zip(ESTIMATE_FIELDS, values.tolist(), strict=True))


@pytest.mark.parametrize("polar_degrees", [5.0, 20.0, 45.0, 70.0, 80.0, 100.0, 135.0, 170.0])
@pytest.mark.parametrize("azimuthal", [0.3, 2.5, 5.0])
def test_ideal_helix_is_recovered(polar_degrees, azimuthal):
    polar = math.radians(polar_degrees)
    direction = Direction.FORWARD if polar_degrees < 90.0 else Direction.BACKWARD
    status, result = _estimate(ideal_helix(polar, azimuthal, 0.6), direction)
    assert status is EstimateStatus.ACCEPTED
    assert math.degrees(result["polar"]) == pytest.approx(polar_degrees, abs=0.01)
    assert math.degrees(result["azimuthal"]) == pytest.approx(math.degrees(azimuthal), abs=0.01)
    assert result["vertex_x"] == pytest.approx(0.0, abs=0.01)
    assert result["vertex_y"] == pytest.approx(0.0, abs=0.01)
    assert result["vertex_z"] == pytest.approx(400.0, abs=0.05)
    assert result["center_z"] == result["vertex_z"]
    assert result["brho"] == pytest.approx(0.6, rel=1e-4)
    radius = 0.6 * math.sin(polar) / MAGNETIC_FIELD * 1000.0
    assert math.hypot(result["center_x"], result["center_y"]) == pytest.approx(radius, rel=1e-4)


def test_energy_loss_quantities_of_an_ideal_helix():
    # A helix that stays inside the small-pad region (within 152 mm of the axis): the charge
    # of the whole first arc (half a turn, 200 of 400 points) over its length.
    polar = math.radians(40.0)
    data = ideal_helix(polar, 1.0, 0.3, count=400, charge=50.0)
    status, result = _estimate(data, Direction.FORWARD)
    assert status is EstimateStatus.ACCEPTED
    radius = 0.3 * math.sin(polar) / MAGNETIC_FIELD * 1000.0
    assert 2.0 * radius < 152.0
    half_turn = math.pi * radius / math.sin(polar)
    assert result["arclength"] == pytest.approx(half_turn, rel=0.01)
    assert result["dE"] == pytest.approx(50.0 * 200, rel=0.02)
    assert result["dEdx"] == pytest.approx(result["dE"] / result["arclength"])
    assert result["sqrt_dEdx"] == pytest.approx(math.sqrt(result["dEdx"]))


def test_repeated_z_is_estimated():
    data = ideal_helix(math.radians(30.0), 1.0, 0.6)
    data[1::2, 2] = data[0::2, 2]  # pairs of points in one time bucket
    status, result = _estimate(data, Direction.FORWARD)
    assert status is EstimateStatus.ACCEPTED
    assert math.degrees(result["polar"]) == pytest.approx(30.0, abs=0.5)


def test_unsorted_rows_are_sorted():
    data = ideal_helix(math.radians(30.0), 1.0, 0.6)
    shuffled = data[np.random.default_rng(1).permutation(len(data))]
    assert _estimate(shuffled, Direction.FORWARD) == _estimate(data, Direction.FORWARD)


def _blob(count=200):
    rng = np.random.default_rng(0)
    return np.column_stack(
        [
            rng.normal(10.0, 15.0, count),
            rng.normal(10.0, 15.0, count),
            np.sort(rng.uniform(100.0, 600.0, count)),
            np.full(count, 100.0),
            np.ones(count),
        ]
    )


def _beam_track(count=100):
    z = np.linspace(0.0, 500.0, count)
    return np.column_stack([np.zeros(count), np.zeros(count), z, np.ones(count), np.ones(count)])


@pytest.mark.parametrize(
    ("data", "direction", "expected"),
    [
        (ideal_helix(0.5, 1.0, 0.6, count=20), Direction.FORWARD, EstimateStatus.TOO_FEW_POINTS),
        (ideal_helix(0.5, 1.0, 0.6), Direction.NONE, EstimateStatus.DIRECTION_NONE),
        (_beam_track(), Direction.FORWARD, EstimateStatus.DEGENERATE_CIRCLE),
        (
            ideal_helix(0.5, 1.0, 0.6, vertex=(120.0, 0.0, 300.0)),
            Direction.FORWARD,
            EstimateStatus.VERTEX_OUTSIDE_BEAM_REGION,
        ),
        (
            ideal_helix(0.5, 1.0, 0.6, turns=0.5),
            Direction.BACKWARD,
            EstimateStatus.POLAR_DIRECTION_MISMATCH,
        ),
        (np.empty((0, 5)), Direction.FORWARD, EstimateStatus.TOO_FEW_POINTS),
        # 160 mm of a 8.4 m radius circle: a 0.4 mm sagitta leaves Brho unbounded.
        (
            ideal_helix(0.5, 1.0, 50.0, turns=0.003),
            Direction.FORWARD,
            EstimateStatus.CURVATURE_NOT_RESOLVED,
        ),
        (_blob(), Direction.FORWARD, EstimateStatus.POOR_CIRCLE_FIT),
    ],
)
def test_degenerate_clusters_are_skipped_with_their_reason(data, direction, expected):
    status, result = _estimate(data, direction)
    assert status is expected
    # No partial estimate leaks out of a skipped cluster.
    assert all(math.isnan(value) for value in result.values())
    assert status.reason == expected.name.lower()
