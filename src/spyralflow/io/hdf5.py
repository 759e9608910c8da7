"""HDF5 artifacts: written atomically with provenance, and their layout checked on reading."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import h5py

from spyralflow.framework.atomic import atomic_output
from spyralflow.framework.provenance import PROVENANCE_KEY, Provenance


class ArtifactFormatError(ValueError):
    """A file does not have the layout its phase expects; the message names file and item."""


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


@contextlib.contextmanager
def atomic_hdf5(path: Path, provenance: Provenance) -> Iterator[h5py.File]:
    """An HDF5 file open for writing that appears at ``path`` only once closed cleanly.

    The file carries ``provenance`` as the root attribute ``spyralflow_provenance``; it is
    closed before the rename, so a reader never sees a half-written file.
    """
    with atomic_output(path) as temporary, h5py.File(temporary, "w") as handle:
        handle.attrs[PROVENANCE_KEY] = provenance.to_json()
        yield handle
