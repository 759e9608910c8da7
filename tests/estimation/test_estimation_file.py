"""The estimation parquet: exactly Spyral's 23 columns, names, order and dtypes."""

from __future__ import annotations

import polars as pl
import pyarrow as pa
import pytest

from spyralflow.framework.provenance import PROVENANCE_KEY, Provenance, read_provenance
from spyralflow.io.estimation_file import (
    ESTIMATION_SCHEMA,
    check_estimation_schema,
    estimation_table,
    read_estimation,
    write_estimation,
)
from spyralflow.io.pointcloud_file import ArtifactFormatError

# spyral.md section 5.3, in order.
SPYRAL_COLUMNS = [
    ("event", pl.Int64),
    ("cluster_index", pl.Int64),
    ("cluster_label", pl.Int64),
    ("orig_run", pl.Int64),
    ("orig_event", pl.Int64),
    ("ic_amplitude", pl.Float64),
    ("ic_centroid", pl.Float64),
    ("ic_integral", pl.Float64),
    ("ic_multiplicity", pl.Float64),
    ("vertex_x", pl.Float64),
    ("vertex_y", pl.Float64),
    ("vertex_z", pl.Float64),
    ("center_x", pl.Float64),
    ("center_y", pl.Float64),
    ("center_z", pl.Float64),
    ("polar", pl.Float64),
    ("azimuthal", pl.Float64),
    ("brho", pl.Float64),
    ("dEdx", pl.Float64),
    ("sqrt_dEdx", pl.Float64),
    ("dE", pl.Float64),
    ("arclength", pl.Float64),
    ("direction", pl.Int64),
]


def _columns(rows: int) -> dict[str, list]:
    return {
        name: [index + 1] * rows if dtype == pl.Int64 else [0.5 * index] * rows
        for index, (name, dtype) in enumerate(SPYRAL_COLUMNS)
    }


@pytest.mark.parametrize("rows", [0, 3])
def test_written_file_has_exactly_spyral_schema(tmp_path, rows):
    path = tmp_path / "run_0001.parquet"
    write_estimation(path, _columns(rows) if rows else None, Provenance(phase="Estimation"))
    frame = pl.read_parquet(path)
    assert list(frame.schema.items()) == SPYRAL_COLUMNS
    assert frame.height == rows
    assert read_provenance(path)["phase"] == "Estimation"
    assert read_estimation(path).num_rows == rows


def test_a_spyral_written_frame_passes_the_check(tmp_path):
    path = tmp_path / "spyral.parquet"
    pl.DataFrame(_columns(2), schema=dict(SPYRAL_COLUMNS)).write_parquet(path)
    assert read_estimation(path).num_rows == 2


def test_wrong_types_order_or_columns_are_refused(tmp_path):
    as_float = ESTIMATION_SCHEMA.set(22, pa.field("direction", pa.float64()))
    with pytest.raises(ArtifactFormatError, match="direction: double"):
        check_estimation_schema(as_float, "file.parquet")
    reordered = pa.schema([*list(ESTIMATION_SCHEMA)[1:], ESTIMATION_SCHEMA.field(0)])
    with pytest.raises(ArtifactFormatError, match="order"):
        check_estimation_schema(reordered)
    without = pa.schema(list(ESTIMATION_SCHEMA)[:-1])
    with pytest.raises(ArtifactFormatError, match="missing direction"):
        check_estimation_schema(without)
    path = tmp_path / "empty_frame.parquet"
    pl.DataFrame().write_parquet(path)  # what Spyral writes when nothing was estimated
    with pytest.raises(ArtifactFormatError, match=str(path)):
        read_estimation(path)


def test_table_needs_every_column():
    columns = _columns(1)
    del columns["dE"]
    with pytest.raises(ValueError, match="missing"):
        estimation_table(columns)
    assert (
        PROVENANCE_KEY.encode()
        in estimation_table(None, Provenance(phase="Estimation")).schema.metadata
    )
