"""Selecting the estimation rows to fit: the particle-ID gate and the ion-chamber window.

As Spyral (spyral.md section 6.4): a row is kept when its (x, y) columns of the particle-ID gate
(``dEdx`` and ``brho`` by default) are strictly inside the polygon and
``ic_min_val < ic_amplitude < ic_max_val``. Either IC limit may be None (no limit on that side).
An estimation file without rows (or, as Spyral writes it, without any column) is a valid empty
input.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from spyralflow.io.estimation_file import check_estimation_schema
from spyralflow.io.pointcloud_file import ArtifactFormatError
from spyralflow.phases.interp_solver.targets import ParticleGate

log = logging.getLogger(__name__)

# attpc_engine writes this IC amplitude on every simulated event (attpc_engine.md section 4).
SIMULATED_IC_AMPLITUDE = -1.0


@dataclass(frozen=True)
class GateCounts:
    """How many estimation rows each cut kept.

    Parameters
    ----------
    rows : int
        Rows in the estimation file.
    in_particle_gate : int
        Rows inside the particle-ID polygon.
    in_ic_window : int
        Rows inside the IC amplitude window.
    selected : int
        Rows passing both.
    """

    rows: int
    in_particle_gate: int
    in_ic_window: int
    selected: int


def read_estimation_rows(path: Path) -> pa.Table:
    """The estimation table of a run; zero rows for an empty file.

    Raises
    ------
    ArtifactFormatError
        If a file with columns does not have Spyral's 23 estimation columns and types.
    """
    table = pq.read_table(path)
    if table.num_columns == 0:
        # Spyral's estimation phase writes a frame without columns when nothing passed.
        return table
    check_estimation_schema(table.schema, path)
    return table


def ic_window_mask(
    amplitudes: np.ndarray, ic_min: float | None, ic_max: float | None
) -> np.ndarray:
    """Rows with ``ic_min < amplitude < ic_max`` (a None limit is no limit)."""
    mask = np.ones(amplitudes.shape, bool)
    if ic_min is not None:
        mask &= amplitudes > ic_min
    if ic_max is not None:
        mask &= amplitudes < ic_max
    return mask


def select_rows(
    table: pa.Table,
    gate: ParticleGate,
    ic_min: float | None,
    ic_max: float | None,
    path: Path,
) -> tuple[pa.Table, GateCounts]:
    """The rows passing the particle-ID gate and the IC window, in file order.

    Raises
    ------
    ArtifactFormatError
        If the table lacks a column the gate names.
    """
    if table.num_rows == 0:
        return table, GateCounts(0, 0, 0, 0)
    missing = [name for name in (gate.x_column, gate.y_column) if name not in table.column_names]
    if missing:
        raise ArtifactFormatError(
            f"{path}: the particle-ID gate '{gate.name}' uses column(s) {', '.join(missing)}, "
            "which the estimation file does not have"
        )
    x = table.column(gate.x_column).to_numpy(zero_copy_only=False)
    y = table.column(gate.y_column).to_numpy(zero_copy_only=False)
    in_gate = gate.contains(x, y)
    amplitudes = table.column("ic_amplitude").to_numpy(zero_copy_only=False).astype(float)
    in_window = ic_window_mask(amplitudes, ic_min, ic_max)
    selected = in_gate & in_window
    counts = GateCounts(
        table.num_rows, int(in_gate.sum()), int(in_window.sum()), int(selected.sum())
    )
    if counts.in_particle_gate > 0 and counts.in_ic_window == 0:
        hint = ""
        if np.all(amplitudes == SIMULATED_IC_AMPLITUDE):
            hint = (
                " Every row has ic_amplitude = -1, as attpc_engine writes for simulated data: "
                "set ic_min_val and ic_max_val to null to switch the IC gate off."
            )
        log.warning("%s: no row has %s < ic_amplitude < %s.%s", path, ic_min, ic_max, hint)
    return table.filter(pa.array(selected)), counts
