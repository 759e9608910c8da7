"""Writing HDF5 artifacts: atomically, with provenance."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import h5py

from spyralflow.framework.atomic import atomic_output
from spyralflow.framework.provenance import PROVENANCE_KEY, Provenance


@contextlib.contextmanager
def atomic_hdf5(path: Path, provenance: Provenance) -> Iterator[h5py.File]:
    """An HDF5 file open for writing that appears at ``path`` only once closed cleanly.

    The file carries ``provenance`` as the root attribute ``spyralflow_provenance``; it is
    closed before the rename, so a reader never sees a half-written file.
    """
    with atomic_output(path) as temporary, h5py.File(temporary, "w") as handle:
        handle.attrs[PROVENANCE_KEY] = provenance.to_json()
        yield handle
