"""The Kinematics phase's output: one parquet per run, Spyral-style columns.

=================  =======  ==================================================================
column             dtype    meaning
=================  =======  ==================================================================
event ...          Int64    event, cluster_index, cluster_label, orig_run, orig_event: as in
orig_event                  the InterpSolver table the row comes from
vertex_z, sigma_vz Float64  fitted vertex z and its uncertainty, m (from the window)
polar, sigma_polar Float64  fitted lab polar angle of the ejectile, rad
ke, sigma_ke       Float64  fitted kinetic energy of the ejectile, MeV
beam_ke            Float64  beam kinetic energy at the vertex, MeV (window energy minus the
                            energy loss over vertex_z)
sigma_beam_ke      Float64  its uncertainty from sigma_vz, MeV
ex, sigma_ex       Float64  excitation energy of the residual by missing mass, MeV
cm_polar           Float64  centre-of-mass polar angle of the ejectile, rad
sigma_cm_polar     Float64  its uncertainty, rad
redchisq           Float64  the fit's reduced chi-square
reason             String   ``ok``, or why ex is NaN (``REASONS``)
=================  =======  ==================================================================

A run without fits gets the same schema with zero rows. The key-value metadata carries the
provenance and the counts of rows per reason (``spyralflow_kinematics_counts``).
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
from spyralflow.phases.schemas import KINEMATICS_COLUMNS

COUNTS_KEY = "spyralflow_kinematics_counts"
REASON_OK = "ok"
REASON_FIT_NOT_FINITE = "fit_not_finite"
REASON_VERTEX_OUTSIDE = "vertex_outside_detector"
REASON_BEAM_STOPPED = "beam_stopped"
REASON_UNPHYSICAL = "missing_mass_unphysical"
REASONS = (
    REASON_OK,
    REASON_FIT_NOT_FINITE,
    REASON_VERTEX_OUTSIDE,
    REASON_BEAM_STOPPED,
    REASON_UNPHYSICAL,
)
"""``fit_not_finite``: vertex z, polar or kinetic energy is NaN or infinite;
``vertex_outside_detector``: vertex z outside [0, detector length]; ``beam_stopped``: the beam
stops in the gas before the vertex; ``missing_mass_unphysical``: the energies and angle allow no
residual (negative squared invariant mass)."""

_ARROW_TYPES = {"int": pa.int64(), "float": pa.float64(), "str": pa.string()}
KINEMATICS_ARROW_SCHEMA = pa.schema(
    [pa.field(name, _ARROW_TYPES[kind]) for name, kind in KINEMATICS_COLUMNS.items()]
)


def write_kinematics(
    path: Path,
    columns: Mapping[str, Sequence[Any]],
    provenance: Provenance,
    counts: Mapping[str, int],
) -> None:
    """Write the table atomically with exactly ``KINEMATICS_ARROW_SCHEMA`` and the metadata.

    Raises
    ------
    ValueError
        If a column is missing or unknown.
    """
    missing = [name for name in KINEMATICS_COLUMNS if name not in columns]
    unknown = [name for name in columns if name not in KINEMATICS_COLUMNS]
    if missing or unknown:
        raise ValueError(f"kinematics columns: missing {missing}, unknown {unknown}")
    metadata = {
        PROVENANCE_KEY: provenance.to_json(),
        COUNTS_KEY: json.dumps(dict(counts), sort_keys=True),
    }
    arrays = [pa.array(columns[field.name], type=field.type) for field in KINEMATICS_ARROW_SCHEMA]
    table = pa.Table.from_arrays(arrays, schema=KINEMATICS_ARROW_SCHEMA.with_metadata(metadata))
    with atomic_output(path) as temporary:
        pq.write_table(table, temporary)


def read_kinematics_counts(path: Path) -> dict[str, int]:
    """The per-reason row counts stored in a Kinematics parquet (empty if it has none)."""
    metadata = pq.read_schema(path).metadata or {}
    text = metadata.get(COUNTS_KEY.encode())
    return json.loads(text) if text else {}
