"""Circle kernels: algebraic fit, nearest point to the beam axis, overlap area."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spyralflow.geometry import (
    circle_overlap_area,
    least_squares_circle,
    nearest_circle_point_to_origin,
)


def _arc(center_x, center_y, radius, start, stop, count, noise=0.0, seed=1):
    rng = np.random.default_rng(seed)
    angles = np.linspace(start, stop, count)
    x = center_x + radius * np.cos(angles) + rng.normal(0.0, noise, count)
    y = center_y + radius * np.sin(angles) + rng.normal(0.0, noise, count)
    return x, y


def test_fit_recovers_an_exact_arc():
    x, y = _arc(30.0, -45.0, 120.0, 0.2, 2.0, 200)
    center_x, center_y, radius, residual = least_squares_circle(x, y)
    assert center_x == pytest.approx(30.0, abs=1e-9)
    assert center_y == pytest.approx(-45.0, abs=1e-9)
    assert radius == pytest.approx(120.0, abs=1e-9)
    assert residual == pytest.approx(0.0, abs=1e-12)


def test_fit_matches_the_cookbook_normal_equations_on_noisy_points():
    x, y = _arc(-10.0, 5.0, 60.0, 0.0, 4.0, 150, noise=1.5)
    u, v = x - x.mean(), y - y.mean()
    matrix = np.array([[np.sum(u * u), np.sum(u * v)], [np.sum(u * v), np.sum(v * v)]])
    right = 0.5 * np.array([np.sum(u**3 + u * v * v), np.sum(v**3 + u * u * v)])
    expected = np.linalg.solve(matrix, right) + np.array([x.mean(), y.mean()])
    center_x, center_y, radius, residual = least_squares_circle(x, y)
    assert [center_x, center_y] == pytest.approx(expected, rel=1e-10)
    radii = np.hypot(x - expected[0], y - expected[1])
    assert radius == pytest.approx(radii.mean(), rel=1e-10)
    # The fourth value is the sum (not the mean) of squared radial residuals, as in Spyral.
    assert residual == pytest.approx(np.sum((radii - radii.mean()) ** 2), rel=1e-8)


@pytest.mark.parametrize(
    ("x", "y"),
    [
        (np.array([0.0, 1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0, 4.0])),  # collinear
        (np.array([1.0, 2.0]), np.array([3.0, 4.0])),  # too few points
        (np.full(10, 4.0), np.full(10, -2.0)),  # one position
    ],
)
def test_degenerate_points_give_nan(x, y):
    assert all(math.isnan(value) for value in least_squares_circle(x, y))


@pytest.mark.parametrize(
    ("center", "radius"), [((40.0, 30.0), 20.0), ((3.0, -4.0), 30.0), ((-7.0, 2.0), 7.2)]
)
def test_nearest_point_is_the_limit_of_spyral_sampling(center, radius):
    angles = np.linspace(0.0, 2.0 * np.pi, 100_000)
    samples = np.column_stack(
        [center[0] + radius * np.cos(angles), center[1] + radius * np.sin(angles)]
    )
    sampled = samples[np.argmin(np.hypot(samples[:, 0], samples[:, 1]))]
    exact = nearest_circle_point_to_origin(center[0], center[1], radius)
    assert np.hypot(*exact) <= np.hypot(*sampled) + 1e-12
    assert exact == pytest.approx(tuple(sampled), abs=radius * 2.0 * np.pi / 100_000)
    assert np.hypot(exact[0] - center[0], exact[1] - center[1]) == pytest.approx(radius)


def test_nearest_point_of_a_circle_centred_on_the_axis_is_at_angle_zero():
    assert nearest_circle_point_to_origin(0.0, 0.0, 5.0) == (5.0, 0.0)


def test_overlap_area_limits_and_lens():
    assert circle_overlap_area(0.0, 0.0, 1.0, 3.0, 0.0, 1.0) == 0.0
    assert circle_overlap_area(0.0, 0.0, 5.0, 1.0, 1.0, 2.0) == pytest.approx(np.pi * 4.0)
    assert circle_overlap_area(0.0, 0.0, 2.0, 0.0, 0.0, 2.0) == pytest.approx(np.pi * 4.0)
    # Two unit circles one radius apart: lens area 2 pi / 3 - sqrt(3) / 2.
    lens = 2.0 * np.pi / 3.0 - np.sqrt(3.0) / 2.0
    assert circle_overlap_area(0.0, 0.0, 1.0, 1.0, 0.0, 1.0) == pytest.approx(lens, rel=1e-12)


def test_overlap_area_matches_a_grid_count():
    x1, y1, r1, x2, y2, r2 = 0.0, 0.0, 30.0, 25.0, 10.0, 18.0
    step = 0.1
    grid = np.arange(-40.0, 50.0, step)
    gx, gy = np.meshgrid(grid, grid)
    inside = ((gx - x1) ** 2 + (gy - y1) ** 2 <= r1**2) & ((gx - x2) ** 2 + (gy - y2) ** 2 <= r2**2)
    assert circle_overlap_area(x1, y1, r1, x2, y2, r2) == pytest.approx(
        inside.sum() * step * step, rel=0.01
    )
