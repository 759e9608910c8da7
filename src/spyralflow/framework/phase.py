"""The phase contract of Spyral: ``PhaseLike`` and ``PhaseResult``.

A phase written for Spyral (subclassing ``spyral.PhaseLike``) runs here unchanged: the job runner
relies only on the methods and attributes defined below, never on this class itself.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from multiprocessing.shared_memory import SharedMemory
from pathlib import Path
from typing import Any

import numpy as np

from spyralflow.framework.schema import ResultSchema


@dataclass
class PhaseResult:
    """What a phase produced (or would produce) for one run.

    Parameters
    ----------
    artifacts : dict[str, Path]
        Artifact key to file path.
    successful : bool
        False when the phase could not produce its artifacts.
    run_number : int
        The run these artifacts belong to.
    """

    artifacts: dict[str, Path] = field(default_factory=dict)
    successful: bool = True
    run_number: int = -1

    @staticmethod
    def invalid_result(run_number: int) -> PhaseResult:
        """An unsuccessful, empty result for ``run_number``."""
        return PhaseResult(artifacts={}, successful=False, run_number=run_number)


class PhaseLike(ABC):
    """Base class of an analysis phase, with Spyral's signatures.

    Parameters
    ----------
    name : str
        Unique phase name; it names the artifact folder ``workspace/<name>``.
    incoming_schema : ResultSchema, optional
        Artifacts the phase reads; None accepts anything.
    outgoing_schema : ResultSchema, optional
        Artifacts the phase writes.
    """

    def __init__(
        self,
        name: str,
        incoming_schema: ResultSchema | None = None,
        outgoing_schema: ResultSchema | None = None,
    ) -> None:
        self.name = name
        self.incoming_schema = incoming_schema
        self.outgoing_schema = outgoing_schema

    def __str__(self) -> str:
        return f"{self.name}Phase"

    def get_artifact_path(self, workspace_path: Path) -> Path:
        """Folder of this phase's per-run artifacts: ``workspace/<name>``."""
        return Path(workspace_path) / self.name

    def get_asset_storage_path(self, workspace_path: Path) -> Path:
        """Folder of this phase's one-time assets: ``workspace/<name>_assets``."""
        return Path(workspace_path) / f"{self.name}_assets"

    def validate(self, incoming: ResultSchema | None) -> tuple[bool, ResultSchema | None]:
        """Check that the upstream phase's outgoing schema fits this phase.

        Returns
        -------
        tuple[bool, ResultSchema | None]
            Whether the schemas fit, and this phase's outgoing schema. They fit when either
            schema is None or both are equal.
        """
        if incoming is None or self.incoming_schema is None:
            return True, self.outgoing_schema
        return self.incoming_schema == incoming, self.outgoing_schema

    def create_shared_data(  # noqa: B027 - an optional hook with a default, as in Spyral
        self, workspace_path: Path, handles: dict[str, SharedMemory]
    ) -> None:
        """Create data shared by the runs of one job; nothing by default."""

    @abstractmethod
    def create_assets(self, workspace_path: Path) -> bool:
        """Build the one-time assets of this phase; return False on failure.

        Called once by the phase's asset rule, then again in every per-run job before
        ``create_shared_data`` and ``run`` (Spyral's call order on one object): it must then
        find the assets built and only set the state ``run`` needs, never rebuild them.
        """

    @abstractmethod
    def construct_artifact(self, payload: PhaseResult, workspace_path: Path) -> PhaseResult:
        """The artifacts this phase would write for ``payload.run_number``, without running."""

    @abstractmethod
    def run(
        self,
        payload: PhaseResult,
        workspace_path: Path,
        msg_queue: Any,
        rng: np.random.Generator,
    ) -> PhaseResult:
        """Process one run.

        Parameters
        ----------
        payload : PhaseResult
            The upstream artifacts of this run.
        workspace_path : Path
            The workspace root.
        msg_queue : queue-like
            Receives ``StatusMessage`` progress messages through ``put``.
        rng : numpy.random.Generator
            Seeded from (global seed, phase name, run).
        """
