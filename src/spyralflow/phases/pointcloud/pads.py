"""The pad map: pad centre, size, time offset, and which pads may make points.

The default geometry and size files and the beam-pad list ship with attpc_engine; they are
read from its installed files directly, because importing ``attpc_engine.detector`` costs most
of a second and loads the nuclear data table.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spyralflow.phases.pointcloud.parameters import PadParameters

ENGINE_DETECTOR_FOLDER = ("detector",)
DEFAULT_GEOMETRY_FILE = "padxy.csv"
DEFAULT_SCALE_FILE = "pad_scale.csv"


class PadMapError(ValueError):
    """A pad map file is missing or malformed; the message names the file and the row."""


def attpc_engine_detector_file(*parts: str) -> Path:
    """A file inside the installed ``attpc_engine/detector`` folder, found without importing it."""
    spec = importlib.util.find_spec("attpc_engine")
    if spec is None or not spec.submodule_search_locations:
        raise PadMapError(
            "attpc_engine is not installed; it provides the default pad maps and beam pads"
        )
    for location in spec.submodule_search_locations:
        candidate = Path(location, *ENGINE_DETECTOR_FOLDER, *parts)
        if candidate.is_file():
            return candidate
    raise PadMapError(f"attpc_engine has no file detector/{'/'.join(parts)}")


def read_pad_column(path: Path, columns: int) -> np.ndarray:
    """The first ``columns`` columns of a pad CSV as float64, shape (n_pads, columns).

    The header line is skipped; any newline convention is accepted (two of Spyral's files use
    bare CR); blank lines at the end are ignored.

    Raises
    ------
    PadMapError
        If the file is missing, empty, or a row has too few or non-numeric fields.
    """
    path = Path(path)
    try:
        with open(path, newline=None) as handle:
            lines = handle.read().splitlines()
    except OSError as error:
        raise PadMapError(f"cannot read pad map file {path}: {error}") from error
    while lines and not lines[-1].strip():
        lines.pop()
    if len(lines) < 2:
        raise PadMapError(f"pad map file {path} has no rows after its header line")
    values = np.empty((len(lines) - 1, columns), dtype=np.float64)
    for pad, line in enumerate(lines[1:]):
        fields = line.split(",")
        try:
            values[pad] = [float(field) for field in fields[:columns]]
        except ValueError as error:
            raise PadMapError(
                f"pad map file {path}, row of pad {pad} ('{line}'): expected {columns} "
                f"number(s): {error}"
            ) from error
    return values


def load_beam_pads() -> np.ndarray:
    """The 122 beam-region pads (attpc_engine's ``BEAM_PADS``, equal to Spyral's legacy list)."""
    path = attpc_engine_detector_file("beam_pads.py")
    spec = importlib.util.spec_from_file_location("_attpc_engine_beam_pads", path)
    if spec is None or spec.loader is None:
        raise PadMapError(f"cannot load the beam-pad list from {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return np.asarray(module.BEAM_PADS, dtype=np.int64)


@dataclass(frozen=True)
class PadMap:
    """Per-pad data, indexed by pad number.

    Parameters
    ----------
    x_mm, y_mm : numpy.ndarray
        Pad centre in mm.
    scale : numpy.ndarray
        Relative pad size (0.5 small, 1.0 big).
    time_offset : numpy.ndarray
        Time offset in GET time buckets, added to peak centroids.
    makes_points : numpy.ndarray
        False for beam pads, whose traces never make points.
    """

    x_mm: np.ndarray
    y_mm: np.ndarray
    scale: np.ndarray
    time_offset: np.ndarray
    makes_points: np.ndarray

    @property
    def pad_count(self) -> int:
        return len(self.x_mm)

    @classmethod
    def from_parameters(cls, parameters: PadParameters) -> PadMap:
        """Load the maps named by ``parameters`` (packaged defaults where None).

        Raises
        ------
        PadMapError
            If a file is unreadable or its row count differs from the geometry's.
        """
        geometry_path = parameters.pad_geometry_path or attpc_engine_detector_file(
            "data", DEFAULT_GEOMETRY_FILE
        )
        scale_path = parameters.pad_scale_path or attpc_engine_detector_file(
            "data", DEFAULT_SCALE_FILE
        )
        geometry = read_pad_column(geometry_path, 2)
        pad_count = len(geometry)
        scale = _matching(read_pad_column(scale_path, 1)[:, 0], pad_count, scale_path)
        if parameters.pad_time_path is None:
            time_offset = np.zeros(pad_count)
        else:
            time_offset = _matching(
                read_pad_column(parameters.pad_time_path, 1)[:, 0],
                pad_count,
                parameters.pad_time_path,
            )
        makes_points = np.ones(pad_count, dtype=bool)
        beam_pads = load_beam_pads()
        makes_points[beam_pads[beam_pads < pad_count]] = False
        return cls(
            x_mm=np.ascontiguousarray(geometry[:, 0]),
            y_mm=np.ascontiguousarray(geometry[:, 1]),
            scale=scale,
            time_offset=time_offset,
            makes_points=makes_points,
        )

    def point_pads(self, pads: np.ndarray) -> np.ndarray:
        """Which of ``pads`` (any integers, -1 for none) are known, non-beam pads."""
        pads = np.asarray(pads)
        known = (pads >= 0) & (pads < self.pad_count)
        result = np.zeros(pads.shape, dtype=bool)
        result[known] = self.makes_points[pads[known]]
        return result


def _matching(values: np.ndarray, pad_count: int, path: Path) -> np.ndarray:
    if len(values) != pad_count:
        raise PadMapError(
            f"pad map file {path} has {len(values)} rows, the geometry has {pad_count} pads; "
            "every map needs one row per pad"
        )
    return values
