"""Settings of the spectrum step: the config's ``spectrum`` block."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from spyralflow.framework.parameters import ParameterError, build_constructor_arguments


class SpectrumSettingsError(ValueError):
    """The spectrum settings are invalid; the message names the key."""


@dataclass(frozen=True)
class SpectrumSettings:
    """What the spectrum step histograms and fits.

    Parameters
    ----------
    enabled : bool
        Whether the workflow runs the step (read by the workflow).
    states : tuple[float, ...] or None
        Excitation energies (MeV) of the states to fit; None finds the peaks in the histogram.
    ex_range : tuple[float, float] or None
        Histogram range in MeV; None takes 1.5 MeV around the configured states, or without
        them the data's 5th to 95th percentile widened by 20 %.
    bin_width : float
        Histogram bin width, MeV.
    max_states : int
        Most peaks to find when ``states`` is None.
    """

    enabled: bool = True
    states: tuple[float, ...] | None = None
    ex_range: tuple[float, float] | None = None
    bin_width: float = 0.1
    max_states: int = 4

    def __post_init__(self) -> None:
        if self.states is not None:
            object.__setattr__(self, "states", tuple(sorted(float(x) for x in self.states)))
            if not self.states:
                raise SpectrumSettingsError("spectrum.states: give at least one state or null")
        if self.ex_range is not None:
            low, high = (float(value) for value in self.ex_range)
            if not low < high:
                raise SpectrumSettingsError("spectrum.ex_range: expected [low, high], low < high")
            object.__setattr__(self, "ex_range", (low, high))
        if not self.bin_width > 0.0:
            raise SpectrumSettingsError("spectrum.bin_width must be positive (MeV)")
        if self.max_states < 1:
            raise SpectrumSettingsError("spectrum.max_states must be at least 1")

    @classmethod
    def from_mapping(cls, values: dict[str, Any] | None) -> SpectrumSettings:
        """The settings of the config block; missing keys take their defaults.

        Raises
        ------
        SpectrumSettingsError
            An unknown key or an invalid value.
        """
        if values is not None and not isinstance(values, dict):
            raise SpectrumSettingsError(f"spectrum: expected a mapping, got {values!r}")
        try:
            return cls(**build_constructor_arguments(cls, values or {}))
        except (ParameterError, TypeError) as error:
            raise SpectrumSettingsError(f"spectrum: {error}") from error
