"""The grid interpolators on analytic functions over the whole grid, edges and corners included."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spyralflow.interpolate import bilinear_interpolate, grid_cell, linear_interpolate

X_LOW, X_HIGH, NX = -1.0, 3.0, 7
Y_LOW, Y_HIGH, NY = 0.5, 2.0, 4


def tabulate(function, nx=NX, ny=NY) -> np.ndarray:
    xs = np.linspace(X_LOW, X_HIGH, nx)
    ys = np.linspace(Y_LOW, Y_HIGH, ny)
    return np.array([[function(x, y) for y in ys] for x in xs], dtype=np.float64)


def bilinear_function(x: float, y: float) -> list[float]:
    return [2.0 + 3.0 * x - 1.5 * y + 0.7 * x * y, -4.0 * x * y + y]


def query_points() -> list[tuple[float, float]]:
    """Random points, every node, the four edges and the corners."""
    rng = np.random.default_rng(3)
    points = list(
        zip(rng.uniform(X_LOW, X_HIGH, 300), rng.uniform(Y_LOW, Y_HIGH, 300), strict=True)
    )
    xs, ys = np.linspace(X_LOW, X_HIGH, NX), np.linspace(Y_LOW, Y_HIGH, NY)
    points += [(x, y) for x in xs for y in ys]
    edge = np.linspace(0.0, 1.0, 41)
    points += [(X_LOW + t * (X_HIGH - X_LOW), Y_HIGH) for t in edge]
    points += [(X_HIGH, Y_LOW + t * (Y_HIGH - Y_LOW)) for t in edge]
    points += [(X_LOW + t * (X_HIGH - X_LOW), Y_LOW) for t in edge]
    points += [(X_LOW, Y_LOW + t * (Y_HIGH - Y_LOW)) for t in edge]
    # Inside the last cell of each axis, where Spyral's edge formulas are wrong.
    points += [(X_HIGH - 1e-3, Y_HIGH - 1e-3), (X_HIGH - 0.3, 1.9), (0.1, Y_HIGH - 0.2)]
    return points


def test_bilinear_function_is_reproduced_everywhere():
    table = tabulate(bilinear_function)
    for x, y in query_points():
        result = bilinear_interpolate(table, X_LOW, X_HIGH, Y_LOW, Y_HIGH, x, y)
        np.testing.assert_allclose(result, bilinear_function(x, y), rtol=1e-12, atol=1e-12)


def test_smooth_function_error_is_second_order_over_the_whole_grid():
    def smooth(x, y):
        return [math.sin(x) * math.cos(2.0 * y)]

    errors = []
    for nx, ny in ((9, 9), (17, 17)):
        table = tabulate(smooth, nx, ny)
        worst = 0.0
        for x, y in query_points():
            value = bilinear_interpolate(table, X_LOW, X_HIGH, Y_LOW, Y_HIGH, x, y)[0]
            worst = max(worst, abs(value - smooth(x, y)[0]))
        errors.append(worst)
    hx, hy = (X_HIGH - X_LOW) / 8, (Y_HIGH - Y_LOW) / 8
    # Bilinear interpolation error bound: (hx² max|f_xx| + hy² max|f_yy|) / 8.
    assert errors[0] <= (hx**2 * 1.0 + hy**2 * 4.0) / 8.0
    assert errors[1] < errors[0] / 3.0


def test_spyral_counterexample_is_right():
    """f = 10 i + j on a 3 x 3 grid over [0, 2]² (spyral.md 6.5 item 2)."""
    table = np.array([[[10.0 * i + j] for j in range(3)] for i in range(3)])
    assert bilinear_interpolate(table, 0.0, 2.0, 0.0, 2.0, 0.5, 1.9)[0] == pytest.approx(6.9)
    assert bilinear_interpolate(table, 0.0, 2.0, 0.0, 2.0, 0.5, 0.5)[0] == pytest.approx(5.5)
    assert bilinear_interpolate(table, 0.0, 2.0, 0.0, 2.0, 2.0, 2.0)[0] == pytest.approx(22.0)


@pytest.mark.parametrize(
    ("x", "y"),
    [
        (X_LOW - 1e-9, 1.0),
        (X_HIGH + 1e-9, 1.0),
        (0.0, Y_LOW - 1e-9),
        (0.0, Y_HIGH + 1e-9),
        (math.nan, 1.0),
        (0.0, math.nan),
        (math.inf, 1.0),
    ],
)
def test_outside_the_grid_is_nan(x, y):
    table = tabulate(bilinear_function)
    assert np.all(np.isnan(bilinear_interpolate(table, X_LOW, X_HIGH, Y_LOW, Y_HIGH, x, y)))


def test_grid_cell_edges():
    assert grid_cell(3.0, 0.0, 3.0, 4) == (2, 1.0)
    assert grid_cell(0.0, 0.0, 3.0, 4) == (0, 0.0)
    index, fraction = grid_cell(2.5, 0.0, 3.0, 4)
    assert index == 2 and fraction == pytest.approx(0.5)
    assert grid_cell(3.5, 0.0, 3.0, 4)[0] == -1


def test_linear_interpolation_matches_numpy_inside_and_is_nan_outside():
    values = np.array([1.0, 4.0, -2.0, 0.5, 3.0])
    nodes = np.linspace(-2.0, 6.0, values.size)
    for x in np.concatenate([np.linspace(-2.0, 6.0, 101), nodes]):
        assert linear_interpolate(values, -2.0, 6.0, x) == pytest.approx(
            np.interp(x, nodes, values)
        )
    assert math.isnan(linear_interpolate(values, -2.0, 6.0, 6.0 + 1e-12))
