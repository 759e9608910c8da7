"""Recognise a trace file's layout and open the matching reader (Spyral's ``create_reader``)."""

from __future__ import annotations

from pathlib import Path

import h5py

from spyralflow.io.traces.base import H5PY_DAMAGE, TraceFormatError, TraceReader, child_group
from spyralflow.io.traces.harmonizer import HarmonizerReader
from spyralflow.io.traces.layout import VERSION_STRINGS, TraceLayout
from spyralflow.io.traces.legacy import LegacyMergerReader
from spyralflow.io.traces.merger_v1 import MergerV1Reader
from spyralflow.io.traces.merger_v2 import MergerV2Reader

READERS: dict[TraceLayout, type[TraceReader]] = {
    TraceLayout.LEGACY: LegacyMergerReader,
    TraceLayout.MERGER_1_0: MergerV1Reader,
    TraceLayout.HARMONIZER_0_1: HarmonizerReader,
    TraceLayout.MERGER_2_0: MergerV2Reader,
}


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return str(value)


def detect_layout(handle: h5py.File, path: Path, run_number: int) -> TraceLayout:
    """The layout of an open trace file.

    A top-level ``meta`` group means the legacy merger; an ``events`` group is identified by its
    ``version`` attribute.

    Raises
    ------
    TraceFormatError
        If the file matches no known layout; the message says what was found.
    """
    where = f"trace file {path} (run {run_number})"
    if child_group(handle, "meta") is not None:
        return TraceLayout.LEGACY
    events = child_group(handle, "events")
    if events is None:
        found = ", ".join(sorted(handle.keys())) or "nothing"
        raise TraceFormatError(
            f"{where}: no known layout (expected a top-level 'events' or 'meta' group; found "
            f"{found})"
        )
    if "version" not in events.attrs:
        raise TraceFormatError(f"{where}: the 'events' group has no 'version' attribute")
    version = _text(events.attrs["version"])
    if version not in VERSION_STRINGS:
        known = ", ".join(sorted(VERSION_STRINGS))
        raise TraceFormatError(f"{where}: unrecognised layout version '{version}' (known: {known})")
    return VERSION_STRINGS[version]


def open_trace_reader(path: Path, run_number: int) -> TraceReader:
    """Open a raw trace file with the reader for its layout.

    Parameters
    ----------
    path : Path
        The trace file (``run_NNNN.h5``).
    run_number : int
        Its run number (the original run for every layout but the harmonizer's).

    Returns
    -------
    TraceReader
        An open reader; close it (or use it as a context manager).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    TraceFormatError
        If the file is not HDF5, or its layout is unknown or damaged.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"trace file {path} (run {run_number}) does not exist")
    try:
        handle = h5py.File(path, "r")
    except OSError as error:
        raise TraceFormatError(
            f"trace file {path} (run {run_number}) cannot be opened as HDF5: {error}"
        ) from error
    try:
        try:
            layout = detect_layout(handle, path, run_number)
        except TraceFormatError:
            raise
        except H5PY_DAMAGE as error:
            raise TraceFormatError(
                f"trace file {path} (run {run_number}): its top level cannot be read: "
                f"{type(error).__name__}: {error}"
            ) from error
        return READERS[layout](handle, path, run_number)
    except BaseException:
        handle.close()
        raise
