"""Toy first phase: reads the run file."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import h5py

from spyralflow.framework import (
    PhaseLike,
    PhaseResult,
    ResultSchema,
    StatusMessage,
    form_run_string,
)
from toyphases.common import VALUES_SCHEMA, write_array


@dataclass
class LoadParameters:
    offset: float = 0.0
    fail_on_run: int = -1


class LoadPhase(PhaseLike):
    """Reads ``data`` from the run file, adds an offset and a little seeded noise."""

    def __init__(self, load_params: LoadParameters) -> None:
        super().__init__("Load", None, ResultSchema(VALUES_SCHEMA))
        self.params = load_params

    def create_assets(self, workspace_path: Path) -> bool:
        return True

    def construct_artifact(self, payload: PhaseResult, workspace_path: Path) -> PhaseResult:
        path = self.get_artifact_path(workspace_path) / f"{form_run_string(payload.run_number)}.h5"
        return PhaseResult({"values": path}, True, payload.run_number)

    def run(self, payload, workspace_path, msg_queue, rng) -> PhaseResult:
        if payload.run_number == self.params.fail_on_run:
            raise RuntimeError(f"deliberate failure for run {payload.run_number}")
        # Faults outside the parameters, so a test can fail or slow a job without a param edit.
        if str(payload.run_number) == os.environ.get("TOY_FAIL_RUN"):
            raise RuntimeError(f"deliberate failure for run {payload.run_number} (TOY_FAIL_RUN)")
        time.sleep(float(os.environ.get("TOY_SLEEP_SECONDS", "0")))
        with h5py.File(payload.artifacts["trace"], "r") as handle:
            data = handle["data"][()]
        for _ in range(3):
            msg_queue.put(StatusMessage("Load", 1, 3, payload.run_number))
        result = self.construct_artifact(payload, workspace_path)
        write_array(result.artifacts["values"], data + self.params.offset + rng.random(data.size))
        return result
