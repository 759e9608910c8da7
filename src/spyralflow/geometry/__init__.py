"""Shared numerical kernels on track geometry: circle fits and smoothing splines.

Small pure functions, compiled with numba (``cache=True``) where they run per cluster; they can
be called from other numba kernels.

Numba's on-disk cache of a kernel is keyed on its own source file only: a kernel elsewhere that
calls one of these keeps its cached machine code when only this package changes. After editing a
kernel here, delete the ``*.nbi``/``*.nbc`` files of its callers (or use a fresh
``NUMBA_CACHE_DIR``).
"""

from spyralflow.geometry.circle import (
    circle_overlap_area,
    least_squares_circle,
    nearest_circle_point_to_origin,
)
from spyralflow.geometry.smoothing_spline import SmoothingSpline, fit_smoothing_splines

__all__ = [
    "SmoothingSpline",
    "circle_overlap_area",
    "fit_smoothing_splines",
    "least_squares_circle",
    "nearest_circle_point_to_origin",
]
