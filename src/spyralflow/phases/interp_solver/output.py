"""The solver's output: Spyral's 20-column parquet per run and particle (spyral.md section 6.8).

Columns, in order: event, cluster_index, cluster_label, orig_run, orig_event (Int64); vertex_x,
sigma_vx, vertex_y, sigma_vy, vertex_z, sigma_vz (m); brho, sigma_brho (T·m); ke, sigma_ke (MeV);
polar, sigma_polar, azimuthal, sigma_azimuthal (rad); redchisq (Float64). A run with no fit gets
the same schema with zero rows. The key-value metadata carries the provenance and the fit counts
(``spyralflow_fit_counts``: rows selected, fitted, and skipped by reason; fits that did not
converge, and fits that ended on the mesh's highest kinetic energy, ``at_mesh_energy_edge``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from spyralflow.framework.atomic import atomic_output
from spyralflow.framework.provenance import PROVENANCE_KEY, Provenance
from spyralflow.phases.schemas import INTERP_SOLVER_COLUMNS

FIT_COUNTS_KEY = "spyralflow_fit_counts"
_ARROW_TYPES = {"int": pa.int64(), "float": pa.float64()}

INTERP_SOLVER_SCHEMA = pa.schema(
    [pa.field(name, _ARROW_TYPES[kind]) for name, kind in INTERP_SOLVER_COLUMNS.items()]
)


def solver_table(
    columns: Mapping[str, Sequence[Any]] | None,
    provenance: Provenance,
    counts: Mapping[str, int] | None = None,
) -> pa.Table:
    """A table with exactly ``INTERP_SOLVER_SCHEMA`` and the metadata.

    Parameters
    ----------
    columns : mapping of column name to values, or None
        All 20 columns, of one length; None gives zero rows.
    provenance : Provenance
        Stored under ``PROVENANCE_KEY``.
    counts : mapping, optional
        Fit counts, stored as JSON under ``FIT_COUNTS_KEY``.

    Raises
    ------
    ValueError
        If a column is missing or unknown.
    """
    columns = columns if columns is not None else {name: [] for name in INTERP_SOLVER_COLUMNS}
    missing = [name for name in INTERP_SOLVER_COLUMNS if name not in columns]
    unknown = [name for name in columns if name not in INTERP_SOLVER_COLUMNS]
    if missing or unknown:
        raise ValueError(f"solver columns: missing {missing}, unknown {unknown}")
    metadata = {PROVENANCE_KEY: provenance.to_json()}
    if counts is not None:
        metadata[FIT_COUNTS_KEY] = json.dumps(dict(counts), sort_keys=True)
    arrays = [pa.array(columns[field.name], type=field.type) for field in INTERP_SOLVER_SCHEMA]
    return pa.Table.from_arrays(arrays, schema=INTERP_SOLVER_SCHEMA.with_metadata(metadata))


def write_solver_output(
    path: Path,
    columns: Mapping[str, Sequence[Any]] | None,
    provenance: Provenance,
    counts: Mapping[str, int] | None = None,
) -> None:
    """Write the solver parquet atomically (see ``solver_table``)."""
    table = solver_table(columns, provenance, counts)
    with atomic_output(path) as temporary:
        pq.write_table(table, temporary)


def read_fit_counts(path: Path) -> dict[str, int]:
    """The fit counts stored in a solver parquet (empty if it has none)."""
    metadata = pq.read_schema(path).metadata or {}
    text = metadata.get(FIT_COUNTS_KEY.encode())
    return json.loads(text) if text else {}
