"""Reading the summary's inputs: truth, Estimation and InterpSolver tables of several runs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl


class SummaryInputError(ValueError):
    """An input table is missing or lacks columns; the message names the file."""


TRUTH_COLUMNS = (
    "run",
    "event",
    "particle",
    "Z",
    "A",
    "simulated",
    "kinetic_energy",
    "polar",
    "azimuthal",
    "brho",
    "excitation",
    "vertex_x",
    "vertex_y",
    "vertex_z",
)
POINT_COLUMNS = ("point_pad", "point_time_bucket", "point_electrons")
ESTIMATION_COLUMNS = ("orig_run", "orig_event", "vertex_z", "polar", "brho", "dEdx")
SOLVER_COLUMNS = ("orig_run", "orig_event", "vertex_z", "polar", "brho", "ke")

_STRING_COLUMNS = {"reason"}
_INTEGER_COLUMNS = {"run", "event", "particle", "Z", "A", "orig_run", "orig_event"}
_SPECIAL_TYPES: dict[str, pl.DataType] = {
    "simulated": pl.Boolean(),
    "point_pad": pl.List(pl.Int64()),
    "point_time_bucket": pl.List(pl.Float64()),
    "point_electrons": pl.List(pl.Float64()),
}


def _dtype(column: str) -> pl.DataType:
    if column in _INTEGER_COLUMNS:
        return pl.Int64()
    if column in _STRING_COLUMNS:
        return pl.String()
    return _SPECIAL_TYPES.get(column, pl.Float64())


def read_tables(
    paths: Sequence[Path], columns: Sequence[str], kind: str, required: bool = True
) -> pl.DataFrame:
    """The rows of several parquet tables, restricted to ``columns``.

    A table without rows is skipped whatever its columns (Spyral writes an empty Estimation table
    with no columns at all when nothing passed).

    Parameters
    ----------
    paths : sequence of Path
        The per-run tables.
    columns : sequence of str
        Columns to keep; each non-empty table must have them.
    kind : str
        What the tables are, for messages ("truth", "Estimation", …).
    required : bool
        Whether at least one path must be given.

    Raises
    ------
    SummaryInputError
        If a file is missing or unreadable, or a non-empty table lacks a column.
    """
    if required and not paths:
        raise SummaryInputError(f"no {kind} tables given")
    frames = []
    for path in paths:
        path = Path(path)
        if not path.exists():
            raise SummaryInputError(f"{kind} table {path} does not exist")
        try:
            frame = pl.read_parquet(path)
        except (OSError, pl.exceptions.PolarsError) as error:
            raise SummaryInputError(f"cannot read {kind} table {path}: {error}") from error
        if frame.height == 0:
            continue
        missing = [column for column in columns if column not in frame.columns]
        if missing:
            raise SummaryInputError(
                f"{kind} table {path} lacks column(s) {', '.join(missing)}; is it a {kind} table?"
            )
        frames.append(frame.select([pl.col(column).cast(_dtype(column)) for column in columns]))
    if not frames:
        return pl.DataFrame(schema={column: _dtype(column) for column in columns})
    return pl.concat(frames)
