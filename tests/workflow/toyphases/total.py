"""Toy last phase writing parquet."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import h5py
import polars as pl

from spyralflow.framework import (
    PhaseLike,
    PhaseResult,
    ResultSchema,
    atomic_output,
    form_run_string,
)
from toyphases.common import SCALED_SCHEMA, TOTAL_SCHEMA


@dataclass
class TotalParameters:
    label: str = "total"


class TotalPhase(PhaseLike):
    """Sums the scaled values into a one-row parquet table."""

    def __init__(self, total_params: TotalParameters) -> None:
        super().__init__("Total", ResultSchema(SCALED_SCHEMA), ResultSchema(TOTAL_SCHEMA))
        self.params = total_params

    def create_assets(self, workspace_path: Path) -> bool:
        return True

    def construct_artifact(self, payload: PhaseResult, workspace_path: Path) -> PhaseResult:
        name = f"{form_run_string(payload.run_number)}.parquet"
        return PhaseResult(
            {"total": self.get_artifact_path(workspace_path) / name}, True, payload.run_number
        )

    def run(self, payload, workspace_path, msg_queue, rng) -> PhaseResult:
        with h5py.File(payload.artifacts["scaled"], "r") as handle:
            total = float(handle["data"][()].sum())
        result = self.construct_artifact(payload, workspace_path)
        frame = pl.DataFrame({"run": [payload.run_number], self.params.label: [total]})
        with atomic_output(result.artifacts["total"]) as temporary:
            frame.write_parquet(temporary)
        return result
