"""Write raw trace files in any known layout (test fixtures, benchmarks, simulated runs)."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

import h5py
import numpy as np

from spyralflow.framework.atomic import atomic_output
from spyralflow.io.traces.layout import (
    FRIB_COINCIDENCE_DATASET,
    FRIB_TRACES_DATASET,
    SCALER_COUNTERS,
    TraceLayout,
)

_VERSION_OF_LAYOUT = {
    TraceLayout.MERGER_1_0: "libattpc_merger:1.0",
    TraceLayout.HARMONIZER_0_1: "harmonizer:0.1.0",
    TraceLayout.MERGER_2_0: "libattpc_merger:2.0",
}


class TraceFileWriter:
    """Build a trace file event by event; it appears at ``path`` only when closed cleanly.

    Use as a context manager. The event range written to the metadata is ``first_event`` /
    ``last_event`` when given, else the smallest and largest event written.

    Parameters
    ----------
    path : Path
        The trace file to create.
    layout : TraceLayout
        The layout to write.
    version : str, optional
        The ``events`` version string; defaults to the layout's own (pass
        ``"synchronizer:0.1.0"`` for a synchroniser file).
    silicon_prefix : str
        Name prefix of the merger 2.0 silicon datasets: ``"si_"`` (attpc_merger) or
        ``"silicon_"`` (what Spyral 1.1.2 reads).
    first_event, last_event : int, optional
        The event range stored in the metadata.
    """

    def __init__(
        self,
        path: Path,
        layout: TraceLayout,
        version: str | None = None,
        silicon_prefix: str = "si_",
        first_event: int | None = None,
        last_event: int | None = None,
    ) -> None:
        self.path = Path(path)
        self.layout = layout
        self.version = version if version is not None else _VERSION_OF_LAYOUT.get(layout)
        self.silicon_prefix = silicon_prefix
        self.first_event = first_event
        self.last_event = last_event
        self._events: list[int] = []
        self._scalers: list[int] = []
        self._atomic = atomic_output(self.path)
        self._handle: h5py.File | None = None

    def __enter__(self) -> TraceFileWriter:
        self._handle = h5py.File(self._atomic.__enter__(), "w")
        if self.layout is TraceLayout.LEGACY:
            self._handle.create_group("get")
            self._handle.create_group("frib/evt")
        else:
            self._handle.create_group("events")
        return self

    def write_event(
        self,
        event: int,
        get_pads: np.ndarray | None = None,
        frib_traces: np.ndarray | None = None,
        frib_trigger: int | None = None,
        original: tuple[int, int] | None = None,
        silicon: dict[str, np.ndarray] | None = None,
    ) -> None:
        """Write one event.

        Parameters
        ----------
        event : int
            Event number.
        get_pads : numpy.ndarray, optional
            GET matrix (n_traces, 517), stored as int16.
        frib_traces : numpy.ndarray, optional
            SIS3300 traces (2048, channels), stored as uint16 (the ``1903`` dataset).
        frib_trigger : int, optional
            Trigger code (the ``977`` dataset).
        original : tuple of int, optional
            (original run, original event), harmonizer layout only.
        silicon : dict, optional
            Merger 2.0 silicon matrices by detector name (``upstream_front``, ...).
        """
        handle = self._require_handle()
        self._events.append(event)
        if self.layout is TraceLayout.LEGACY:
            if get_pads is not None:
                handle["get"].create_dataset(f"evt{event}_data", data=_get(get_pads))
            frib = handle["frib/evt"]
            if frib_traces is not None:
                frib.create_dataset(f"evt{event}_{FRIB_TRACES_DATASET}", data=_frib(frib_traces))
            if frib_trigger is not None:
                frib.create_dataset(
                    f"evt{event}_{FRIB_COINCIDENCE_DATASET}", data=_coincidence(frib_trigger)
                )
            return
        group = handle["events"].create_group(f"event_{event}")
        if self.layout is TraceLayout.MERGER_2_0:
            get_group = group.create_group("get")
            pads = get_pads if get_pads is not None else np.zeros((0, 517), np.int16)
            get_group.create_dataset("pads", data=_get(pads))
            for detector, matrix in (silicon or {}).items():
                get_group.create_dataset(self.silicon_prefix + detector, data=_get(matrix))
        elif get_pads is not None:
            group.create_dataset("get_traces", data=_get(get_pads))
        if self.layout is TraceLayout.HARMONIZER_0_1:
            run, original_event = original if original is not None else (0, event)
            group.attrs["orig_run"] = np.int64(run)
            group.attrs["orig_event"] = np.int64(original_event)
        if frib_traces is not None or frib_trigger is not None:
            frib = group.create_group("frib_physics")
            if frib_traces is not None:
                frib.create_dataset(FRIB_TRACES_DATASET, data=_frib(frib_traces))
            if frib_trigger is not None:
                frib.create_dataset(FRIB_COINCIDENCE_DATASET, data=_coincidence(frib_trigger))

    def write_scaler(self, counters: np.ndarray | list[int]) -> None:
        """Append one scaler event (the 11 counters, in ``SCALER_COUNTERS`` order)."""
        handle = self._require_handle()
        values = np.asarray(counters, dtype=np.uint32).reshape(-1)
        if values.size != len(SCALER_COUNTERS):
            raise ValueError(
                f"a scaler event has {len(SCALER_COUNTERS)} counters, got {values.size}"
            )
        index = len(self._scalers)
        self._scalers.append(index)
        if self.layout is TraceLayout.LEGACY:
            handle.require_group("frib/scaler").create_dataset(f"scaler{index}_data", data=values)
        else:
            handle.require_group("scalers").create_dataset(f"event_{index}", data=values)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        handle = self._require_handle()
        try:
            if exc_type is None:
                self._write_metadata(handle)
        finally:
            handle.close()
            self._atomic.__exit__(exc_type, exc, traceback)

    def _write_metadata(self, handle: h5py.File) -> None:
        first = self.first_event if self.first_event is not None else min(self._events, default=0)
        last = self.last_event if self.last_event is not None else max(self._events, default=-1)
        if self.layout is TraceLayout.LEGACY:
            handle.create_dataset("meta/meta", data=np.array([first, 0, last, 0], np.uint64))
            return
        events = handle["events"]
        events.attrs["version"] = self.version
        # The merger stores u64; an empty range (last = first - 1) may need a sign.
        integer = np.uint64 if 0 <= first <= last else np.int64
        events.attrs["min_event"] = integer(first)
        events.attrs["max_event"] = integer(last)
        if self._scalers:
            handle["scalers"].attrs["min_event"] = np.uint64(0)
            handle["scalers"].attrs["max_event"] = np.uint64(len(self._scalers) - 1)

    def _require_handle(self) -> h5py.File:
        if self._handle is None:
            raise RuntimeError("use TraceFileWriter as a context manager")
        return self._handle


def _get(matrix: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(matrix, dtype=np.int16)


def _frib(traces: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(traces, dtype=np.uint16)


def _coincidence(trigger: int) -> np.ndarray:
    return np.array([trigger], dtype=np.uint16)
