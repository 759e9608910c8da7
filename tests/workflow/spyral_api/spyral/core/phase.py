from abc import ABC, abstractmethod
from multiprocessing import SimpleQueue
from multiprocessing.shared_memory import SharedMemory
from pathlib import Path

import numpy as np

from spyral.core.schema import PhaseResult, ResultSchema


class PhaseLike(ABC):
    def __init__(
        self,
        name: str,
        incoming_schema: ResultSchema | None = None,
        outgoing_schema: ResultSchema | None = None,
    ):
        self.name = name
        self.incoming_schema = incoming_schema
        self.outgoing_schema = outgoing_schema

    def __str__(self) -> str:
        return f"{self.name}Phase"

    def get_artifact_path(self, workspace_path: Path) -> Path:
        return workspace_path / f"{self.name}"

    def get_asset_storage_path(self, workspace_path: Path) -> Path:
        return workspace_path / f"{self.name}_assets"

    def validate(self, incoming: ResultSchema | None) -> tuple[bool, ResultSchema | None]:
        if incoming is None or self.incoming_schema is None:
            return (True, self.outgoing_schema)
        return (self.incoming_schema == incoming, self.outgoing_schema)

    @abstractmethod
    def create_assets(self, workspace_path: Path) -> bool:
        raise NotImplementedError

    def create_shared_data(  # noqa: B027 - Spyral's optional hook
        self, workspace_path: Path, handles: dict[str, SharedMemory]
    ) -> None:
        pass

    @abstractmethod
    def construct_artifact(self, payload: PhaseResult, workspace_path: Path) -> PhaseResult:
        raise NotImplementedError

    @abstractmethod
    def run(
        self,
        payload: PhaseResult,
        workspace_path: Path,
        msg_queue: SimpleQueue,
        rng: np.random.Generator,
    ) -> PhaseResult:
        raise NotImplementedError
