"""Parameters of the Pointcloud phase, with Spyral's names and its README values as defaults.

``DetectorParameters`` is shared by every phase (:mod:`spyralflow.phases.detector`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


def _check_peak_finding(owner: str, scale: float, separation: float, max_width: float) -> None:
    if scale <= 0:
        raise ValueError(f"{owner}.baseline_window_scale must be > 0, got {scale}")
    if separation < 1:
        raise ValueError(
            f"{owner}.peak_separation must be >= 1 time bucket (scipy's find_peaks distance), "
            f"got {separation}"
        )
    if max_width <= 0:
        raise ValueError(f"{owner}.peak_max_width must be > 0, got {max_width}")


@dataclass(frozen=True)
class GetParameters:
    """Signal analysis of the pad-plane (GET) traces, 512 time buckets each.

    Parameters
    ----------
    baseline_window_scale : float
        Scale a of the baseline filter w(k) = sinc(k / a), k = -256 ... 255 (default 20.0).
    peak_separation : float
        Smallest distance between two peaks in time buckets (``find_peaks`` ``distance``,
        default 50.0).
    peak_prominence : float
        Smallest peak prominence in ADC units (``find_peaks`` ``prominence``, default 20.0).
    peak_max_width : float
        Largest peak width in time buckets, measured at 95 % of the prominence; the smallest is
        1.0 (``find_peaks`` ``width``, default 50.0).
    peak_threshold : float
        A peak is kept only if its amplitude (ADC) is strictly above this (default 40.0).
    """

    baseline_window_scale: float = 20.0
    peak_separation: float = 50.0
    peak_prominence: float = 20.0
    peak_max_width: float = 50.0
    peak_threshold: float = 40.0

    def __post_init__(self) -> None:
        _check_peak_finding(
            "GetParameters", self.baseline_window_scale, self.peak_separation, self.peak_max_width
        )


@dataclass(frozen=True)
class FribParameters:
    """Signal analysis of the FRIBDAQ (SIS3300, 12.5 MHz) traces and the ion-chamber gate.

    Parameters
    ----------
    baseline_window_scale : float
        Scale of the baseline filter for the 2048-sample traces (default 100.0).
    peak_separation : float
        Smallest distance between two peaks in FRIB time buckets (default 50.0).
    peak_prominence : float
        Smallest peak prominence in ADC units (default 20.0).
    peak_max_width : float
        Largest peak width in FRIB time buckets at 85 % of the prominence; the smallest is 0
        (default 500.0).
    peak_threshold : float
        A peak is kept only if its amplitude (ADC) is strictly above this (default 100.0).
    ic_delay_time_bucket : int
        Ion-chamber peaks at or before this FRIB time bucket are ignored (default 1100).
    ic_multiplicity : int
        Largest accepted number of ion-chamber peaks after the delay (default 1).
    """

    baseline_window_scale: float = 100.0
    peak_separation: float = 50.0
    peak_prominence: float = 20.0
    peak_max_width: float = 500.0
    peak_threshold: float = 100.0
    ic_delay_time_bucket: int = 1100
    ic_multiplicity: int = 1

    def __post_init__(self) -> None:
        _check_peak_finding(
            "FribParameters", self.baseline_window_scale, self.peak_separation, self.peak_max_width
        )


@dataclass(frozen=True)
class PadParameters:
    """Pad-plane maps: CSV files with one header line, then one row per pad (row = pad number).

    Parameters
    ----------
    pad_geometry_path : Path or None
        Pad centres, columns ``x,y`` in mm. None: attpc_engine's packaged ``padxy.csv`` (the same
        file Spyral ships).
    pad_time_path : Path or None
        Per-pad time offset in GET time buckets, added to each peak centroid (Spyral's ``tcorr``
        file). None: all offsets zero.
    pad_scale_path : Path or None
        Relative pad size (0.5 small, 1.0 big). None: attpc_engine's packaged ``pad_scale.csv``.
    """

    pad_geometry_path: Path | None = None
    pad_time_path: Path | None = None
    pad_scale_path: Path | None = None
