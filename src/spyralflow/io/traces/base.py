"""What every trace reader offers, and the checks they share.

A reader only does I/O: it hands out the raw GET matrix, the FRIB (SIS3300) traces, the trigger
type and the original run/event of each event, and the scalers. Signal processing lives in the
Pointcloud phase. Readers are streaming: each call reads one event from the open file.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import h5py
import numpy as np

from spyralflow.io.traces.layout import (
    FRIB_IC_CHANNEL,
    FRIB_SAMPLES,
    GET_ROW_LENGTH,
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


class TraceReader(ABC):
    """A raw trace file opened for reading; use as a context manager or call ``close``.

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
        self.first_event, self.last_event = self._inspect()

    @abstractmethod
    def _inspect(self) -> tuple[int, int]:
        """Check the file's top-level layout; return its first and last event numbers."""

    @abstractmethod
    def read_event(self, event: int) -> RawEvent | None:
        """The raw data of ``event``, or None if the file has no entry for it.

        Raises
        ------
        TraceFormatError
            If the event's datasets are missing or have the wrong shape or type.
        """

    @abstractmethod
    def read_scalers(self) -> np.ndarray:
        """Every scaler event, shape (n, 12) int64 with columns ``SCALER_TABLE_COLUMNS``.

        Zero rows when the file holds no scalers.
        """

    def read_silicon(self, event: int) -> dict[str, np.ndarray]:
        """The silicon GET matrices of ``event`` by detector; only merger 2.0 files have them."""
        return {}

    def event_numbers(self) -> range:
        """Every event from ``first_event`` to ``last_event``, both included."""
        return range(self.first_event, self.last_event + 1)

    def __len__(self) -> int:
        return max(0, self.last_event - self.first_event + 1)

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
        return self._read(dataset)

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
        if values.size == 0:
            raise self.error(f"coincidence register {dataset.name} is empty")
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
    """An integer attribute of ``obj``, or a ``TraceFormatError`` naming it."""
    if name not in obj.attrs:
        raise reader.error(f"{obj.name} lacks the attribute '{name}'")
    value = np.asarray(obj.attrs[name]).reshape(-1)
    if value.size != 1 or value.dtype.kind not in "iuf":
        raise reader.error(f"attribute '{name}' of {obj.name} is {value!r}, expected an integer")
    return int(value[0])
