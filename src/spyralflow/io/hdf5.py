"""HDF5 artifacts: written atomically with provenance, and their layout checked on reading."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import h5py
import numpy as np

from spyralflow.framework.atomic import atomic_output
from spyralflow.framework.provenance import PROVENANCE_KEY, Provenance
from spyralflow.io.checks import event_number, numeric_problem, range_problem


class ArtifactFormatError(ValueError):
    """A file does not have the layout its phase expects; the message names file and item."""


def open_artifact(path: Path) -> h5py.File:
    """An artifact open for reading; a file that is not HDF5 is an ``ArtifactFormatError``."""
    try:
        return h5py.File(path, "r")
    except OSError as error:
        raise ArtifactFormatError(f"{path}: cannot be opened as HDF5: {error}") from error


def ranged_group(handle: h5py.File, path: Path, name: str, kind: str) -> h5py.Group:
    """The top group ``name`` of a Spyral artifact, with its ``min_event``/``max_event``.

    Raises
    ------
    ArtifactFormatError
        If the group or one of the two attributes is missing (``kind`` names the file type).
    """
    group = handle.get(name)
    if not isinstance(group, h5py.Group):
        raise ArtifactFormatError(f"{path}: no '{name}' group; not a {kind} file")
    for key in ("min_event", "max_event"):
        if key not in group.attrs:
            raise ArtifactFormatError(f"{path}: group '{name}' lacks attribute '{key}'")
    return group


def group_range(group: h5py.Group, path: Path) -> tuple[int, int]:
    """The checked ``(min_event, max_event)`` of a group from ``ranged_group``.

    Raises
    ------
    ArtifactFormatError
        If an attribute is unreadable, not an integer, out of range, or min exceeds max + 1.
    """
    values = []
    for key in ("min_event", "max_event"):
        try:
            values.append(event_number(group.attrs[key]))
        except (OSError, RuntimeError) as error:
            raise ArtifactFormatError(
                f"{path}: attribute '{key}' of {group.name} cannot be read: {error}"
            ) from error
        except ValueError as error:
            raise ArtifactFormatError(
                f"{path}: attribute '{key}' of {group.name} {error}"
            ) from None
    problem = range_problem(*values)
    if problem is not None:
        raise ArtifactFormatError(f"{path}: group {group.name}: {problem}")
    return values[0], values[1]


def read_numeric(dataset: h5py.Dataset, path: Path, event: int) -> np.ndarray:
    """A dataset of real numbers as float64; any damage is an ``ArtifactFormatError``.

    Raises
    ------
    ArtifactFormatError
        Naming the file, the event and the dataset, if it cannot be read or does not hold real
        numbers.
    """
    where = f"{path}: event {event}, dataset {dataset.name}"
    problem = numeric_problem(dataset.dtype)
    if problem is not None:
        raise ArtifactFormatError(f"{where} {problem}")
    try:
        return np.asarray(dataset[()], dtype=np.float64)
    except (OSError, RuntimeError, TypeError, ValueError) as error:
        raise ArtifactFormatError(f"{where} cannot be read: {error}") from error


def read_attributes(item: h5py.HLObject, path: Path, event: int) -> dict:
    """All attributes of ``item``; a damaged one is an ``ArtifactFormatError`` naming it."""
    try:
        return dict(item.attrs)
    except (OSError, RuntimeError, TypeError, ValueError) as error:
        raise ArtifactFormatError(
            f"{path}: event {event}, the attributes of {item.name} cannot be read: {error}"
        ) from error


@contextlib.contextmanager
def atomic_hdf5(path: Path, provenance: Provenance) -> Iterator[h5py.File]:
    """An HDF5 file open for writing that appears at ``path`` only once closed cleanly.

    The file carries ``provenance`` as the root attribute ``spyralflow_provenance``; it is
    closed before the rename, so a reader never sees a half-written file.
    """
    with atomic_output(path) as temporary, h5py.File(temporary, "w") as handle:
        handle.attrs[PROVENANCE_KEY] = provenance.to_json()
        yield handle
