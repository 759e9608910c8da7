"""Estimation files: Spyral's 23-column parquet (spyral.md section 5.3).

One row per accepted cluster, columns in Spyral's order; ``int`` columns are Int64 (the
direction as its integer value 0/1, which Spyral 1.1.2 fails to write), ``float`` columns are
Float64. A run with nothing estimated still gets the full schema with zero rows (Spyral wrote a
frame without columns, which its solver then could not filter).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from spyralflow.framework.atomic import atomic_output
from spyralflow.framework.provenance import PROVENANCE_KEY, Provenance
from spyralflow.io.pointcloud_file import ArtifactFormatError
from spyralflow.phases.schemas import ESTIMATION_COLUMNS

_ARROW_TYPES = {"int": pa.int64(), "float": pa.float64()}

ESTIMATION_SCHEMA = pa.schema(
    [pa.field(name, _ARROW_TYPES[kind]) for name, kind in ESTIMATION_COLUMNS.items()]
)


def estimation_table(
    columns: Mapping[str, Sequence[Any]] | None = None, provenance: Provenance | None = None
) -> pa.Table:
    """An estimation table with exactly ``ESTIMATION_SCHEMA``.

    Parameters
    ----------
    columns : mapping of column name to values, optional
        Every one of the 23 columns, all of one length; None gives zero rows.
    provenance : Provenance, optional
        Stored as key-value metadata under ``PROVENANCE_KEY``.

    Raises
    ------
    ValueError
        If a column is missing or unknown.
    """
    columns = columns or {name: [] for name in ESTIMATION_COLUMNS}
    missing = [name for name in ESTIMATION_COLUMNS if name not in columns]
    unknown = [name for name in columns if name not in ESTIMATION_COLUMNS]
    if missing or unknown:
        raise ValueError(f"estimation columns: missing {missing}, unknown {unknown}")
    arrays = [
        pa.array(columns[field.name], type=field.type, from_pandas=False)
        for field in ESTIMATION_SCHEMA
    ]
    schema = ESTIMATION_SCHEMA
    if provenance is not None:
        schema = schema.with_metadata({PROVENANCE_KEY: provenance.to_json()})
    return pa.Table.from_arrays(arrays, schema=schema)


def write_estimation(
    path: Path, columns: Mapping[str, Sequence[Any]] | None, provenance: Provenance
) -> None:
    """Write an estimation parquet atomically (see ``estimation_table``)."""
    table = estimation_table(columns, provenance)
    with atomic_output(path) as temporary:
        pq.write_table(table, temporary)


def read_estimation(path: Path) -> pa.Table:
    """Read an estimation parquet (ours or Spyral's) and check its columns and types.

    Raises
    ------
    ArtifactFormatError
        If a column is missing, extra, out of order or of another type.
    """
    table = pq.read_table(path)
    check_estimation_schema(table.schema, path)
    return table


def check_estimation_schema(schema: pa.Schema, path: Path | str = "<table>") -> None:
    """Raise ``ArtifactFormatError`` unless ``schema`` has exactly the 23 columns and types."""
    found = [(field.name, field.type) for field in schema]
    expected = [(field.name, field.type) for field in ESTIMATION_SCHEMA]
    if found != expected:
        differences = [
            f"{name}: {kind}" for name, kind in found if (name, kind) not in expected
        ] + [f"missing {name}: {kind}" for name, kind in expected if (name, kind) not in found]
        raise ArtifactFormatError(
            f"{path}: not Spyral's estimation schema"
            + (f" ({'; '.join(differences)})" if differences else " (column order differs)")
        )
