"""Toy middle phase with a one-time asset."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from spyralflow.framework import (
    PhaseLike,
    PhaseResult,
    ResultSchema,
    atomic_output,
    form_run_string,
)
from toyphases.common import SCALED_SCHEMA, VALUES_SCHEMA, write_array


@dataclass
class ScaleParameters:
    factor: float = 2.0
    table_size: int = 8
    # A parameter file (like a gas or particle-ID file): its number multiplies the values.
    weight_file: str | None = None


class ScalePhase(PhaseLike):
    """Multiplies by a factor and by a lookup table built once as this phase's asset."""

    def __init__(self, scale_params: ScaleParameters) -> None:
        super().__init__("Scale", ResultSchema(VALUES_SCHEMA), ResultSchema(SCALED_SCHEMA))
        self.params = scale_params

    def _table_path(self, workspace_path: Path) -> Path:
        return self.get_asset_storage_path(workspace_path) / f"table_{self.params.table_size}.npy"

    def create_assets(self, workspace_path: Path) -> bool:
        # Called by the asset rule and, as in Spyral's pipeline, before each run: build once.
        if self._table_path(workspace_path).exists():
            return True
        counter = Path(workspace_path) / "asset_builds.txt"
        with counter.open("a") as handle:
            handle.write(f"{os.getpid()}\n")
        with atomic_output(self._table_path(workspace_path)) as temporary:
            with temporary.open("wb") as handle:
                np.save(handle, np.ones(self.params.table_size))
        return True

    def construct_artifact(self, payload: PhaseResult, workspace_path: Path) -> PhaseResult:
        path = self.get_artifact_path(workspace_path) / f"{form_run_string(payload.run_number)}.h5"
        return PhaseResult({"scaled": path}, True, payload.run_number)

    def run(self, payload, workspace_path, msg_queue, rng) -> PhaseResult:
        weight = float(Path(self.params.weight_file).read_text()) if self.params.weight_file else 1
        table = np.load(self._table_path(workspace_path), mmap_mode="r") * weight
        with h5py.File(payload.artifacts["values"], "r") as handle:
            data = handle["data"][()]
        result = self.construct_artifact(payload, workspace_path)
        write_array(result.artifacts["scaled"], data * self.params.factor * table[0])
        return result
