"""Parameters of the Estimation phase (Spyral's ``EstimateParameters``, README defaults)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EstimateParameters:
    """Settings of the Estimation phase.

    Parameters
    ----------
    min_total_trajectory_points : int
        Clusters with fewer points are not estimated.
    smoothing_factor : float
        ``lam`` of the smoothing splines of x, y and charge against z (mm^3; larger is
        smoother, 0 interpolates).
    """

    min_total_trajectory_points: int = 30
    smoothing_factor: float = 100.0
