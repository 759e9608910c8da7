"""Per-run scaler outputs of the Pointcloud phase, in Spyral's formats.

- ``run_NNNN_scaler.parquet``: one row per scaler event, 12 Int64 columns (``event`` and the 11
  FRIBDAQ counters). The counters are incremental: a run total is the column sum.
- ``run_NNNN_gated_ic_scaler.txt``: two lines, ``IC counts with multiplicity <= {m}`` and the
  number of IC-downscale events with a good IC signal.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from spyralflow.framework.atomic import atomic_output
from spyralflow.framework.provenance import PROVENANCE_KEY, Provenance, stamp_provenance
from spyralflow.io.arrow import numeric_column
from spyralflow.io.traces.base import SCALER_TABLE_COLUMNS

GATED_IC_HEADER = "IC counts with multiplicity <= {multiplicity}"


def scaler_table(rows: np.ndarray) -> pa.Table:
    """The scaler table (n, 12) as an Arrow table of 12 int64 columns (polars reads Int64).

    Built with pyarrow rather than polars, which would add a third of a second to every job, and
    from the numpy buffers, since ``pyarrow.array`` would import pandas.
    """
    rows = np.asarray(rows, dtype=np.int64).reshape(-1, len(SCALER_TABLE_COLUMNS))
    return pa.table(
        {
            name: numeric_column(rows[:, index], np.int64)
            for index, name in enumerate(SCALER_TABLE_COLUMNS)
        }
    )


def write_scaler_parquet(path: Path, rows: np.ndarray, provenance: Provenance) -> None:
    """Write the scaler table atomically, with provenance in the parquet metadata.

    Parameters
    ----------
    path : Path
        The ``run_NNNN_scaler.parquet`` path.
    rows : numpy.ndarray
        (n, 12) integers: scaler event index, then the counters; zero rows are allowed.
    provenance : Provenance
        Stored under ``spyralflow_provenance``.
    """
    table = scaler_table(rows)
    metadata = dict(table.schema.metadata or {})
    metadata[PROVENANCE_KEY.encode()] = provenance.to_json().encode()
    with atomic_output(path) as temporary:
        pq.write_table(table.replace_schema_metadata(metadata), temporary)


def write_gated_ic_count(path: Path, multiplicity: int, count: int, provenance: Provenance) -> None:
    """Write the gated IC count file atomically (Spyral's two lines), with a provenance sidecar."""
    with atomic_output(path) as temporary:
        temporary.write_text(f"{GATED_IC_HEADER.format(multiplicity=multiplicity)}\n{count}")
    stamp_provenance(Path(path), provenance)


def read_gated_ic_count(path: Path) -> tuple[int, int]:
    """(multiplicity limit, count) from a gated IC count file.

    Raises
    ------
    ValueError
        If the file does not have Spyral's two-line layout.
    """
    lines = Path(path).read_text().splitlines()
    prefix = GATED_IC_HEADER.split("{")[0]
    if len(lines) != 2 or not lines[0].startswith(prefix):
        raise ValueError(f"{path}: not a gated IC count file (expected '{prefix}<m>' and a count)")
    try:
        return int(lines[0][len(prefix) :]), int(lines[1])
    except ValueError as error:
        raise ValueError(f"{path}: not a gated IC count file: {error}") from error
