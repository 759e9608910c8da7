"""Checks every reader shares: event ranges, event attributes, finite points, and the report.

A reader validates what it reads before a phase uses it. Damage that stops the run is an error
(``TraceFormatError`` / ``ArtifactFormatError``, raised by the caller with the cause given here);
damage Spyral goes on after (an absent event, a point with a NaN coordinate) is counted in an
``InputReport``, logged as a warning, and stored with the artifact the phase writes.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import h5py
import numpy as np

log = logging.getLogger(__name__)

LARGEST_EVENT_NUMBER = 2**63 - 1
"""Event numbers are stored as u64 by the mergers, but anything above int64 is damage."""
INPUT_REPORT_KEY = "spyralflow_input_report"
"""Attribute (HDF5) or metadata key (JSON summary) holding an artifact's input report."""
WARNINGS_PER_REASON = 5
"""Warnings logged one by one for each reason; the rest appear in the run's summary line."""
INTEGER_ATTRIBUTES = ("orig_run", "orig_event")
FLOAT_ATTRIBUTES = ("ic_amplitude", "ic_integral", "ic_centroid", "ic_multiplicity")


def event_number(value: Any) -> int:
    """An event number stored in an attribute, as a Python int.

    Accepts integers and integral finite floats (some writers store floats).

    Raises
    ------
    ValueError
        If the value is not one real number, is fractional, not finite, negative below -1 or
        beyond int64; the message says which.
    """
    array = np.asarray(value)
    if array.size != 1:
        raise ValueError(f"holds {array.size} values, expected one integer")
    kind = array.dtype.kind
    if kind not in "iuf":
        raise ValueError(f"is {value!r} ({array.dtype}), expected an integer")
    scalar = array.reshape(-1)[0]
    if kind == "f":
        if not math.isfinite(float(scalar)):
            raise ValueError(f"is {float(scalar)}, expected a finite integer")
        if not float(scalar).is_integer():
            raise ValueError(f"is {float(scalar)}, a fraction; expected an integer")
    number = int(scalar)
    # -1 is the last event of an empty range starting at 0.
    if number < -1 or number > LARGEST_EVENT_NUMBER:
        raise ValueError(f"is {number}, outside the event numbers 0 .. 2**63 - 1")
    return number


def range_problem(first: int, last: int) -> str | None:
    """Why ``[first, last]`` is not an event range, or None (``last = first - 1`` is empty)."""
    if first < 0:
        return f"min_event is {first}, expected 0 or more"
    if last < first - 1:
        return f"min_event {first} is greater than max_event {last}"
    return None


def numbered_members(group: h5py.Group, pattern: re.Pattern[str]) -> list[int]:
    """The numbers N of the members of ``group`` whose names match ``pattern`` (one group: N).

    Listing the members costs one pass over the group, whatever range its attributes claim.
    """
    numbers: list[int] = []
    for name in group:
        match = pattern.fullmatch(name)
        if match is not None:
            numbers.append(int(match.group(1)))
    return numbers


@dataclass(frozen=True)
class EventSelection:
    """The events of a file that a phase reads: those present inside the declared range.

    Parameters
    ----------
    first, last : int
        The declared range, both included.
    events : tuple of int
        Events present in the file and inside the range, sorted.
    outside : tuple of int
        Events present in the file but outside the range (not read, as in Spyral).
    """

    first: int
    last: int
    events: tuple[int, ...]
    outside: tuple[int, ...]

    @property
    def declared(self) -> int:
        """How many events the range declares."""
        return max(0, self.last - self.first + 1)

    @property
    def absent(self) -> int:
        """Declared events the file has no entry for."""
        return self.declared - len(self.events)

    def record(self, report: InputReport, what: str) -> None:
        """Count the absent and the outside events in ``report``; ``what`` names the entries."""
        if self.absent:
            report.count(
                f"events of the declared range without {what}",
                self.absent,
                f"min_event {self.first} .. max_event {self.last} declares {self.declared} "
                f"events, {len(self.events)} are present",
            )
        if self.outside:
            report.count(
                f"events outside the declared range, not read ({what})",
                len(self.outside),
                f"events {_some(self.outside)} lie outside min_event {self.first} .. "
                f"max_event {self.last}",
            )


def select_events(first: int, last: int, present: Iterable[int]) -> EventSelection:
    """The ``EventSelection`` of a declared range and the event numbers present."""
    numbers = sorted(set(present))
    inside = tuple(number for number in numbers if first <= number <= last)
    outside = tuple(number for number in numbers if not first <= number <= last)
    return EventSelection(first, last, inside, outside)


def _some(numbers: tuple[int, ...], shown: int = 5) -> str:
    text = ", ".join(str(number) for number in numbers[:shown])
    return text + (f" and {len(numbers) - shown} more" if len(numbers) > shown else "")


class InputReport:
    """What a phase skipped or dropped while reading one input file, counted by reason.

    Each reason's first ``WARNINGS_PER_REASON`` occurrences are logged as warnings; ``summary``
    gives the one line for the run's log and ``to_json`` what goes into the artifact.

    Parameters
    ----------
    source : str
        The file read, for messages.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.counts: Counter[str] = Counter()

    def count(self, reason: str, amount: int = 1, detail: str = "") -> None:
        """Add ``amount`` to ``reason`` and log a warning naming the file and ``detail``."""
        if amount <= 0:
            return
        occurrences = self.counts[reason]
        self.counts[reason] += amount
        if occurrences < WARNINGS_PER_REASON:
            log.warning(
                "%s: %s: %d%s", self.source, reason, amount, f" ({detail})" if detail else ""
            )

    def merge(self, counts: Mapping[str, int]) -> None:
        """Add counts recorded elsewhere (already logged)."""
        self.counts.update({key: value for key, value in counts.items() if value})

    def summary(self) -> str:
        """``reason: n, ...`` or ``nothing skipped``."""
        if not self.counts:
            return "nothing skipped"
        return ", ".join(f"{reason}: {amount}" for reason, amount in sorted(self.counts.items()))

    def to_dict(self) -> dict[str, int]:
        return dict(sorted(self.counts.items()))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)


def read_report(attributes: Mapping[str, Any]) -> dict[str, int]:
    """The input report stored in an artifact's attributes (empty when there is none)."""
    text = attributes.get(INPUT_REPORT_KEY)
    if text is None:
        return {}
    if isinstance(text, bytes):
        text = text.decode()
    return {str(key): int(value) for key, value in json.loads(str(text)).items()}


def attribute_problem(attributes: Mapping[str, Any]) -> str | None:
    """Why an event's Spyral attributes (orig_run, orig_event, ic_*) are unusable, or None.

    Absent attributes are fine (Spyral writes -1 for them); present ones must be one finite
    real number, and the two ``orig_*`` integers.
    """
    for key in (*INTEGER_ATTRIBUTES, *FLOAT_ATTRIBUTES):
        if key not in attributes:
            continue
        value = np.asarray(attributes[key])
        if value.size != 1 or value.dtype.kind not in "iuf":
            return f"attribute '{key}' is {attributes[key]!r} ({value.dtype}), expected a number"
        number = float(value.reshape(-1)[0])
        if not math.isfinite(number):
            return f"attribute '{key}' is {number}, expected a finite number"
        if key in INTEGER_ATTRIBUTES and not number.is_integer():
            return f"attribute '{key}' is {number}, expected an integer"
    return None


def numeric_problem(dtype: np.dtype) -> str | None:
    """Why a dtype cannot hold a table of real numbers (bytes, strings, complex...), or None."""
    if dtype.kind not in "iuf":
        return f"holds {dtype}, expected real numbers"
    return None


COORDINATE_LIMIT_MM = 1.0e6
"""A point more than a kilometre from the detector centre is damage, not physics; such values
(1e292 from a flipped exponent) overflow the clustering's distances."""
UNUSABLE_POINTS = "points with a NaN, infinite or beyond-1-km value, dropped"


def usable_points(table: np.ndarray) -> np.ndarray:
    """Boolean mask of the points (rows; x, y, z first, in mm) that are finite and in reach."""
    finite = np.isfinite(table).all(axis=1)
    with np.errstate(invalid="ignore"):
        near = (np.abs(table[:, :3]) <= COORDINATE_LIMIT_MM).all(axis=1)
    return finite & near
