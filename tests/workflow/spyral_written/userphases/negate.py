"""A user phase written for Spyral: it imports nothing from spyralflow."""

import json
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
from spyral import PhaseLike, PhaseResult, ResultSchema
from spyral.core.run_stacks import form_run_string
from spyral.core.status_message import StatusMessage

SCALED = json.dumps({"scaled": {"extension": ".h5", "data": "array"}})
NEGATED = json.dumps({"negated": {"extension": ".h5", "data": "array"}})


@dataclass
class NegateParameters:
    shift: float
    output_name: Path


class NegatePhase(PhaseLike):
    def __init__(self, params: NegateParameters):
        super().__init__("Negate", ResultSchema(SCALED), ResultSchema(NEGATED))
        self.params = params

    def create_assets(self, workspace_path: Path) -> bool:
        return True

    def construct_artifact(self, payload: PhaseResult, workspace_path: Path) -> PhaseResult:
        path = self.get_artifact_path(workspace_path) / f"{form_run_string(payload.run_number)}.h5"
        return PhaseResult(
            artifacts={"negated": path}, successful=True, run_number=payload.run_number
        )

    def run(self, payload: PhaseResult, workspace_path: Path, msg_queue, rng: np.random.Generator):
        result = self.construct_artifact(payload, workspace_path)
        msg_queue.put(StatusMessage("Negate", 1, 1, payload.run_number))
        with h5py.File(payload.artifacts["scaled"], "r") as source:
            data = source["data"][()]
        with h5py.File(result.artifacts["negated"], "w") as target:
            target.create_dataset(str(self.params.output_name), data=-data + self.params.shift)
        return result
