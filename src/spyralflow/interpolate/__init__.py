"""Interpolation kernels on regular grids (numba, ``cache=True``).

The grids include both end nodes, as ``numpy.linspace`` makes them; queries outside give NaN.
"""

from spyralflow.interpolate.bilinear import bilinear_interpolate, grid_cell, linear_interpolate

__all__ = ["bilinear_interpolate", "grid_cell", "linear_interpolate"]
