"""Inputs, outputs and parameters of the spectrum rule (the Ex spectrum over all runs)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from spyralflow.framework.codehash import code_hash
from spyralflow.framework.config import PipelineConfig, canonical_json

SPECTRUM_FOLDER = "spectrum"
SPECTRUM_MODULE = "spyralflow.spectrum.cli"
KINEMATICS_KEY = "kinematics"


@dataclass(frozen=True)
class SpectrumPlan:
    """The spectrum rule: the per-run Kinematics pattern (with ``{run}``) and its outputs.

    Parameters
    ----------
    kinematics : str
        Path pattern of the Kinematics tables.
    folder : Path
        Output folder (``<workspace>/spectrum``).
    settings_json : str
        The config's ``spectrum`` block as canonical JSON.
    code_hash : str
        Content hash of the spectrum code.
    lineage : str
        Lineage digest of the phase writing the Kinematics tables: any upstream change reruns it.
    """

    kinematics: str
    folder: Path
    settings_json: str
    code_hash: str
    lineage: str

    def output(self, name: str) -> str:
        return str(self.folder / name)


def plan_spectrum(
    config: PipelineConfig, artifacts: dict[str, dict[str, str]], lineages: dict[str, str]
) -> SpectrumPlan | None:
    """The spectrum rule's plan: present when a phase writes ``kinematics`` and the config's
    ``spectrum.enabled`` is not false."""
    settings = config.raw.get("spectrum") or {}
    if not settings.get("enabled", True):
        return None
    producer = next(
        (phase for phase, patterns in artifacts.items() if KINEMATICS_KEY in patterns), None
    )
    if producer is None:
        return None
    return SpectrumPlan(
        kinematics=artifacts[producer][KINEMATICS_KEY],
        folder=config.workspace / SPECTRUM_FOLDER,
        settings_json=canonical_json(settings),
        code_hash=code_hash(SPECTRUM_MODULE),
        lineage=lineages[producer],
    )
