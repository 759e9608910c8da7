"""Smoothing splines: the same curve as SciPy's make_smoothing_spline, and tolerant of ties."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.interpolate import make_smoothing_spline

from spyralflow.geometry import SmoothingSpline


def _track(count: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    z = np.sort(rng.uniform(0.0, 900.0, count))
    columns = np.column_stack(
        [
            80.0 * np.cos(z / 60.0) + rng.normal(0.0, 2.0, count),
            80.0 * np.sin(z / 60.0) + rng.normal(0.0, 2.0, count),
            rng.uniform(50.0, 500.0, count),
        ]
    )
    return z, columns


@pytest.mark.parametrize("lam", [0.0, 10.0, 100.0, 1.0e4])
@pytest.mark.parametrize("count", [5, 40, 700])
def test_equals_scipy(lam, count):
    z, columns = _track(count)
    spline = SmoothingSpline.fit(z, columns, lam)
    query = np.linspace(-20.0, 920.0, 333)
    for column in range(columns.shape[1]):
        reference = make_smoothing_spline(z, columns[:, column], lam=lam)
        scale = np.abs(columns[:, column]).max()
        assert spline(z)[:, column] == pytest.approx(reference(z), abs=1e-7 * scale)
        # Between and beyond the knots too (SciPy's BSpline extrapolates the end pieces).
        assert spline(query)[:, column] == pytest.approx(reference(query), abs=1e-7 * scale)


def test_repeated_z_is_the_weighted_fit_of_the_means():
    z, columns = _track(60)
    z[10:13] = z[10]  # three points in one time bucket
    z[40:42] = z[40]
    spline = SmoothingSpline.fit(z, columns[:, :1], 100.0)
    unique, inverse, counts = np.unique(z, return_inverse=True, return_counts=True)
    means = np.bincount(inverse, weights=columns[:, 0]) / counts
    reference = make_smoothing_spline(unique, means, w=counts.astype(float), lam=100.0)
    assert spline(unique)[:, 0] == pytest.approx(reference(unique), abs=1e-8)
    # SciPy itself refuses repeated z.
    with pytest.raises(ValueError):
        make_smoothing_spline(z, columns[:, 0], lam=100.0)


def test_unsorted_input_is_sorted():
    z, columns = _track(50)
    order = np.random.default_rng(0).permutation(50)
    shuffled = SmoothingSpline.fit(z[order], columns[order], 100.0)
    ordered = SmoothingSpline.fit(z, columns, 100.0)
    assert shuffled(z) == pytest.approx(ordered(z), abs=1e-12)


def test_two_knots_give_the_line_and_one_knot_a_constant():
    line = SmoothingSpline.fit(np.array([0.0, 10.0]), np.array([[1.0], [3.0]]), 100.0)
    assert line(np.array([5.0, 20.0]))[:, 0] == pytest.approx([2.0, 5.0])
    constant = SmoothingSpline.fit(np.array([4.0, 4.0]), np.array([[1.0], [3.0]]), 100.0)
    assert constant(np.array([0.0, 9.0]))[:, 0] == pytest.approx([2.0, 2.0])


def test_zero_points_are_refused():
    with pytest.raises(ValueError, match="zero points"):
        SmoothingSpline.fit(np.empty(0), np.empty((0, 1)), 1.0)


@pytest.mark.parametrize("gap", [2.2e-10, 5.0e-6])
def test_nearly_repeated_z_is_merged(gap):
    """Points a fraction of a nanometre apart in z (seen in an engine cloud: 2.2e-10 mm) made
    the banded solve divide by zero; they are one knot, as if their z were equal."""
    z, columns = _track(200)
    z[51] = z[50] + gap
    spline = SmoothingSpline.fit(z, columns, 10.0)
    tied = z.copy()
    tied[51] = z[50]
    reference = SmoothingSpline.fit(tied, columns, 10.0)
    assert np.all(np.isfinite(spline(z)))
    assert spline(tied) == pytest.approx(reference(tied), abs=1e-9)


@pytest.mark.parametrize("lam", [10.0, 1.0e4])
def test_close_but_distinct_z_stays_finite(lam):
    z, columns = _track(200)
    z[51] = z[50] + 2.0e-5  # just above the merge tolerance
    tied = z.copy()
    tied[51] = z[50]
    values = SmoothingSpline.fit(z, columns, lam)(tied)
    assert np.all(np.isfinite(values))
    # Precision is lost as lam / gap² grows, but not the curve.
    assert values == pytest.approx(SmoothingSpline.fit(tied, columns, lam)(tied), rel=1e-4)
