"""Detector parameters shared by the default phases (Spyral's ``DetectorParameters``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DetectorParameters:
    """The AT-TPC's fields, geometry and time calibration.

    Parameters
    ----------
    magnetic_field : float
        Solenoid field in T.
    electric_field : float
        Drift field in V/m.
    detector_length : float
        Drift length in mm (window at z = 0, micromegas at z = detector_length).
    beam_region_radius : float
        Vertex acceptance radius in mm; also the fit bound on the vertex radius.
    micromegas_time_bucket : float
        GET time bucket of the micromegas (z = detector_length).
    window_time_bucket : float
        GET time bucket of the entrance window (z = 0).
    get_frequency : float
        GET sampling frequency in MHz.
    garfield_file_path : Path or None
        Garfield electron-drift table; None when the correction is not used.
    do_garfield_correction : bool
        Apply the Garfield electron-drift correction in the Pointcloud phase.
    """

    magnetic_field: float = 2.85
    electric_field: float = 45000.0
    detector_length: float = 1000.0
    beam_region_radius: float = 25.0
    micromegas_time_bucket: float = 10.0
    window_time_bucket: float = 560.0
    get_frequency: float = 6.25
    garfield_file_path: Path | None = None
    do_garfield_correction: bool = False

    @property
    def mm_per_time_bucket(self) -> float:
        """Drift distance of one GET time bucket, in mm."""
        return self.detector_length / (self.window_time_bucket - self.micromegas_time_bucket)
