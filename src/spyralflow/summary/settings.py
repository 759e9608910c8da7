"""Settings of the summary step: the config's ``summary`` block as dataclasses.

The JSON schema (``workflow/schemas/config.schema.yaml``, ``$defs.summary``) states the same
defaults; a test keeps them equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from spyralflow.framework.parameters import ParameterError, build_constructor_arguments


class SummarySettingsError(ValueError):
    """The summary settings are invalid; the message names the key."""


@dataclass(frozen=True)
class PidGate:
    """A rectangle in (dEdx, Brho) that Estimation rows must lie in to be matched.

    Parameters
    ----------
    dedx : tuple[float, float]
        dEdx range (the Estimation's arbitrary units).
    brho : tuple[float, float]
        Brho range in T·m.
    """

    dedx: tuple[float, float]
    brho: tuple[float, float]

    def __post_init__(self) -> None:
        for name in ("dedx", "brho"):
            low, high = (float(value) for value in getattr(self, name))
            if not low < high:
                raise SummarySettingsError(f"summary.pid_gate.{name}: expected [low, high]")
            object.__setattr__(self, name, (low, high))


@dataclass(frozen=True)
class SummarySettings:
    """What the summary compares.

    Parameters
    ----------
    enabled : bool
        Whether the workflow runs the summary (read by the workflow, not by the step).
    truth_folder : str or None
        Folder of the truth tables (read by the workflow).
    particle : tuple[int, int] or None
        The particle of interest as (Z, A); None takes the reaction's ejectile (kinematics row 2).
    pid_gate : PidGate or None
        Optional (dEdx, Brho) rectangle for Estimation rows; None matches every cluster.
    residual_range_sigmas : float
        Residual histograms span the median ± this many robust standard deviations.
    """

    enabled: bool = True
    truth_folder: str | None = None
    particle: tuple[int, int] | None = None
    pid_gate: PidGate | None = None
    residual_range_sigmas: float = 6.0

    def __post_init__(self) -> None:
        if self.particle is not None:
            if len(self.particle) != 2:
                raise SummarySettingsError("summary.particle: expected [Z, A]")
            object.__setattr__(self, "particle", tuple(int(value) for value in self.particle))
        if self.residual_range_sigmas <= 0:
            raise SummarySettingsError("summary.residual_range_sigmas must be positive")

    @classmethod
    def from_mapping(cls, values: dict[str, Any] | None) -> SummarySettings:
        """Build the settings from the config block; missing keys take their defaults.

        Raises
        ------
        SummarySettingsError
            An unknown key or an invalid value, named with its key path.
        """
        if values is not None and not isinstance(values, dict):
            raise SummarySettingsError(f"summary: expected a mapping, got {values!r}")
        try:
            return cls(**build_constructor_arguments(cls, values or {}))
        except (ParameterError, TypeError) as error:
            raise SummarySettingsError(f"summary: {error}") from error
