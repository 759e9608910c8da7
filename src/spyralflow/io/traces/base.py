"""What every trace reader offers, and the checks they share.

A reader only does I/O: it hands out the raw GET matrix, the FRIB (SIS3300) traces, the trigger
type and the original run/event of each event, and the scalers. Signal processing lives in the
Pointcloud phase. Readers are streaming: each call reads one event from the open file.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import h5py
import numpy as np

from spyralflow.io.checks import (
    EventSelection,
    InputReport,
    event_number,
    range_problem,
    select_events,
)
from spyralflow.io.traces.layout import (
    FRIB_IC_CHANNEL,
    FRIB_SAMPLES,
    GET_CHANNEL_COLUMNS,
    GET_PAD_COLUMN,
    GET_ROW_LENGTH,
    GET_SAMPLE_RANGE,
    INVALID_PAD,
    SCALER_COUNTERS,
    TraceLayout,
)

SCALER_TABLE_COLUMNS = ("event", *SCALER_COUNTERS)
"""Columns of a scaler table: the scaler event index, then the 11 counters."""


class TraceFormatError(ValueError):
    """A trace file has an unknown or damaged layout; the message names the file and the cause."""


@dataclass
class RawEvent:
    """The raw data of one event.

    Parameters
    ----------
    event : int
        Event number in the file.
    get_pads : numpy.ndarray or None
        GET pad-plane matrix, shape (n_traces, 517), integer: columns 0-4 are CoBo, AsAd, AGET,
        channel and pad number, columns 5-516 the 512 samples. None when the event has no GET data.
    frib_traces : numpy.ndarray or None
        SIS3300 traces, shape (2048 samples, n_channels); channel 0 is the ion chamber. None when
        the event has no ``1903`` dataset.
    frib_trigger : int or None
        The trigger code (first value of ``977``: 0 empty, 1 mesh, 2 IC downscale, 3 mesh AND IC);
        None when the event has no ``977`` dataset.
    original_run, original_event : int
        Run and event before harmonisation (the file's own run and event otherwise).
    """

    event: int
    get_pads: np.ndarray | None
    frib_traces: np.ndarray | None
    frib_trigger: int | None
    original_run: int
    original_event: int


BAD_SAMPLE_TRACES = "GET traces with samples outside the 16-bit ADC range, dropped"
BAD_PAD_TRACES = "GET traces with a negative pad id other than -1, dropped"
H5PY_DAMAGE = (OSError, RuntimeError, KeyError, TypeError, ValueError)
"""What h5py raises on a damaged file (corrupt headers, attributes, names)."""


class TraceReader(ABC):
    """A raw trace file opened for reading; use as a context manager or call ``close``.

    The declared event range is checked against the events the file really holds
    (``selection``); what is absent, outside the range or dropped is counted in ``report`` and
    logged.

    Parameters
    ----------
    handle : h5py.File
        The open file; the reader closes it.
    path : Path
        The file path, for messages.
    run_number : int
        The run the file holds.
    """

    layout: TraceLayout

    def __init__(self, handle: h5py.File, path: Path, run_number: int) -> None:
        self.handle = handle
        self.path = Path(path)
        self.run_number = run_number
        self.report = InputReport(f"trace file {self.path} (run {run_number})")
        with self.damage("the file's layout"):
            self.first_event, self.last_event = self._inspect()
            problem = range_problem(self.first_event, self.last_event)
            if problem is not None:
                raise self.error(problem)
            self.selection: EventSelection = select_events(
                self.first_event, self.last_event, self._present_events()
            )
        if self.selection.declared and not self.selection.events:
            raise self.error(
                f"declares events {self.first_event} .. {self.last_event} but holds none of them"
            )
        self.selection.record(self.report, "data")

    @abstractmethod
    def _inspect(self) -> tuple[int, int]:
        """Check the file's top-level layout; return its first and last event numbers."""

    @abstractmethod
    def _present_events(self) -> Iterable[int]:
        """The numbers of the events the file holds an entry for (inside the range or not)."""

    @abstractmethod
    def _read_event(self, event: int) -> RawEvent | None:
        """``read_event`` without the translation of h5py's errors."""

    @abstractmethod
    def _read_scalers(self) -> np.ndarray:
        """``read_scalers`` without the translation of h5py's errors."""

    def read_event(self, event: int) -> RawEvent | None:
        """The raw data of ``event``, or None if the file has no entry for it.

        GET traces with damaged samples or pad ids are dropped and counted in ``report``.

        Raises
        ------
        TraceFormatError
            If the event's datasets are missing, unreadable or have the wrong shape or type.
        """
        with self.damage(f"event {event}"):
            return self._read_event(event)

    def read_scalers(self) -> np.ndarray:
        """Every scaler event, shape (n, 12) int64 with columns ``SCALER_TABLE_COLUMNS``.

        Zero rows when the file holds no scalers.

        Raises
        ------
        TraceFormatError
            If a scaler dataset or the scaler range is damaged.
        """
        with self.damage("the scalers"):
            return self._read_scalers()

    @contextlib.contextmanager
    def damage(self, where: str) -> Iterator[None]:
        """Turn h5py's errors on a damaged file into a ``TraceFormatError`` naming ``where``."""
        try:
            yield
        except TraceFormatError:
            raise
        except H5PY_DAMAGE as error:
            raise self.error(f"{where} cannot be read: {type(error).__name__}: {error}") from error

    def read_silicon(self, event: int) -> dict[str, np.ndarray]:
        """The silicon GET matrices of ``event`` by detector; only merger 2.0 files have them."""
        return {}

    def event_numbers(self) -> tuple[int, ...]:
        """The events present from ``first_event`` to ``last_event``, both included, sorted."""
        return self.selection.events

    def __len__(self) -> int:
        return len(self.selection.events)

    def close(self) -> None:
        """Close the file."""
        self.handle.close()

    def __enter__(self) -> TraceReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def error(self, cause: str) -> TraceFormatError:
        """A ``TraceFormatError`` naming this file, its run and ``cause``."""
        return TraceFormatError(
            f"trace file {self.path} (run {self.run_number}, layout {self.layout.value}): {cause}"
        )

    def _read(self, dataset: h5py.Dataset) -> np.ndarray:
        """The whole dataset; a damaged one gives a ``TraceFormatError`` naming it."""
        try:
            return np.asarray(dataset[()])
        except (OSError, RuntimeError) as error:
            raise self.error(f"cannot read {dataset.name}: {error}") from error

    def _get_matrix(self, dataset: h5py.Dataset) -> np.ndarray:
        if dataset.ndim != 2 or dataset.shape[1] != GET_ROW_LENGTH:
            raise self.error(
                f"GET dataset {dataset.name} has shape {dataset.shape}, expected "
                f"(n_traces, {GET_ROW_LENGTH})"
            )
        if dataset.dtype.kind not in "iu":
            raise self.error(f"GET dataset {dataset.name} holds {dataset.dtype}, expected integers")
        return self._good_traces(self._read(dataset), dataset.name)

    def _good_traces(self, matrix: np.ndarray, name: str) -> np.ndarray:
        """The rows of a GET matrix whose samples and pad id can be real; the rest counted."""
        good = matrix[:, GET_PAD_COLUMN] >= INVALID_PAD
        if not good.all():
            self.report.count(BAD_PAD_TRACES, int((~good).sum()), name)
        if matrix.dtype.itemsize > 2 or matrix.dtype.kind == "u":
            samples = matrix[:, GET_CHANNEL_COLUMNS:]
            in_range = ((samples >= GET_SAMPLE_RANGE[0]) & (samples <= GET_SAMPLE_RANGE[1])).all(
                axis=1
            )
            if not in_range.all():
                self.report.count(BAD_SAMPLE_TRACES, int((~in_range).sum()), name)
                good &= in_range
        return matrix if good.all() else matrix[good]

    def _frib_traces(self, dataset: h5py.Dataset | None) -> np.ndarray | None:
        if dataset is None:
            return None
        if dataset.ndim != 2 or dataset.shape[0] != FRIB_SAMPLES:
            raise self.error(
                f"FRIB dataset {dataset.name} has shape {dataset.shape}, expected "
                f"({FRIB_SAMPLES} samples, channels)"
            )
        if dataset.shape[1] <= FRIB_IC_CHANNEL or dataset.dtype.kind not in "iu":
            raise self.error(
                f"FRIB dataset {dataset.name} ({dataset.dtype}, shape {dataset.shape}) has no "
                "integer ion-chamber channel"
            )
        return self._read(dataset)

    def _frib_trigger(self, dataset: h5py.Dataset | None) -> int | None:
        if dataset is None:
            return None
        values = self._read(dataset).reshape(-1)
        if values.size == 0 or values.dtype.kind not in "iu":
            raise self.error(
                f"coincidence register {dataset.name} holds {values.size} {values.dtype} values, "
                "expected an integer trigger code"
            )
        return int(values[0])

    def _frib_part(
        self, group: h5py.Group | None, traces: str, coincidence: str
    ) -> tuple[np.ndarray | None, int | None]:
        """(traces, trigger) from a group holding FRIB datasets; either may be missing."""
        if group is None:
            return None, None
        return (
            self._frib_traces(child_dataset(group, traces)),
            self._frib_trigger(child_dataset(group, coincidence)),
        )

    def _scaler_row(self, event: int, dataset: h5py.Dataset) -> list[int]:
        values = self._read(dataset).reshape(-1)
        if values.size < len(SCALER_COUNTERS) or values.dtype.kind not in "iu":
            raise self.error(
                f"scaler dataset {dataset.name} holds {values.size} {values.dtype} values, "
                f"expected at least {len(SCALER_COUNTERS)} integer counters"
            )
        return [event, *(int(value) for value in values[: len(SCALER_COUNTERS)])]

    @staticmethod
    def scaler_table(rows: list[list[int]]) -> np.ndarray:
        """Rows of ``[event, 11 counters]`` as an (n, 12) int64 array."""
        return np.asarray(rows, dtype=np.int64).reshape(-1, len(SCALER_TABLE_COLUMNS))


def child_dataset(group: h5py.Group, name: str) -> h5py.Dataset | None:
    """``group[name]`` if it is a dataset, else None."""
    item = group.get(name)
    return item if isinstance(item, h5py.Dataset) else None


def child_group(group: h5py.Group, name: str) -> h5py.Group | None:
    """``group[name]`` if it is a group, else None."""
    item = group.get(name)
    return item if isinstance(item, h5py.Group) else None


def integer_attribute(reader: TraceReader, obj: h5py.HLObject, name: str) -> int:
    """An integer attribute of ``obj`` (an event number or a run), or a ``TraceFormatError``.

    Fractions, infinities, strings and numbers beyond int64 are refused, naming the attribute.
    """
    if name not in obj.attrs:
        raise reader.error(f"{obj.name} lacks the attribute '{name}'")
    try:
        return event_number(obj.attrs[name])
    except ValueError as error:
        raise reader.error(f"attribute '{name}' of {obj.name} {error}") from None
