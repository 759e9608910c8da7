"""Provenance carried by every artifact: parameters, code hash, version and seed."""

from __future__ import annotations

import contextlib
import contextvars
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from spyralflow import __version__

PROVENANCE_KEY = "spyralflow_provenance"

_current: contextvars.ContextVar[Provenance | None] = contextvars.ContextVar(
    "spyralflow_provenance", default=None
)


@dataclass(frozen=True)
class Provenance:
    """Where an artifact came from.

    Parameters
    ----------
    phase : str
        Phase (or step) name.
    phase_class : str
        Dotted import path of the phase class.
    parameters : dict
        The phase's own parameters, as given in the config.
    code_hash : str
        Content hash of the phase's source and the package modules it imports.
    seed : int
        The pipeline's global seed.
    run : int
        The run number, -1 for one-time assets.
    lineage : str
        Digest of everything upstream that shaped the artifact and of the phase itself
        (``spyralflow.generator.lineage``); a job refuses an input whose lineage is not the one
        its rule expects.
    version : str
        The spyralflow version.
    """

    phase: str
    phase_class: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    code_hash: str = ""
    seed: int = 0
    run: int = -1
    lineage: str = ""
    version: str = __version__

    def to_json(self) -> str:
        """Canonical JSON (sorted keys), equal for equal provenance."""
        return json.dumps(asdict(self), sort_keys=True, default=str)


def describe_provenance(provenance: dict[str, Any] | None) -> str:
    """A short account of who made an artifact, for error messages."""
    if not provenance:
        return "no spyralflow provenance"
    parameters = json.dumps(provenance.get("parameters", {}), sort_keys=True)
    if len(parameters) > 300:
        parameters = parameters[:300] + "..."
    return (
        f"made by phase {provenance.get('phase', '?')} ({provenance.get('phase_class', '?')}), "
        f"run {provenance.get('run', '?')}, code {provenance.get('code_hash', '?')}, "
        f"spyralflow {provenance.get('version', '?')}, parameters {parameters}"
    )


def current_provenance(phase: str = "unknown") -> Provenance:
    """The provenance of the running job, or a minimal one outside a job (tests, notebooks)."""
    active = _current.get()
    return active if active is not None else Provenance(phase=phase)


@contextlib.contextmanager
def provenance_context(provenance: Provenance) -> Iterator[None]:
    """Make ``provenance`` the current one while the block runs."""
    token = _current.set(provenance)
    try:
        yield
    finally:
        _current.reset(token)


def provenance_sidecar(path: Path) -> Path:
    """Where the provenance of an artifact that cannot hold it (JSON, text) is kept."""
    return path.with_name(path.name + ".provenance.json")


def read_provenance(path: Path) -> dict[str, Any] | None:
    """The provenance stored in an HDF5 or parquet artifact, None if it has none."""
    path = Path(path)
    if path.suffix == ".h5":
        import h5py

        with h5py.File(path, "r") as handle:
            text = handle.attrs.get(PROVENANCE_KEY)
    elif path.suffix == ".parquet":
        import pyarrow.parquet as pq

        metadata = pq.read_schema(path).metadata or {}
        text = metadata.get(PROVENANCE_KEY.encode())
    else:
        sidecar = provenance_sidecar(path)
        text = sidecar.read_text() if sidecar.exists() else None
    if text is None:
        return None
    return json.loads(text.decode() if isinstance(text, bytes) else text)


def stamp_provenance(path: Path, provenance: Provenance) -> None:
    """Add provenance to an artifact written by a phase that did not add it itself.

    HDF5 files get a root attribute, parquet files a key-value metadata entry (rewritten through
    a temporary file), anything else a ``<file>.provenance.json`` sidecar.
    """
    path = Path(path)
    if read_provenance(path) is not None:
        return
    text = provenance.to_json()
    if path.suffix == ".h5":
        import h5py

        with h5py.File(path, "r+") as handle:
            handle.attrs[PROVENANCE_KEY] = text
    elif path.suffix == ".parquet":
        import pyarrow.parquet as pq

        from spyralflow.framework.atomic import atomic_output

        table = pq.read_table(path)
        metadata = dict(table.schema.metadata or {})
        metadata[PROVENANCE_KEY.encode()] = text.encode()
        with atomic_output(path) as temporary:
            pq.write_table(table.replace_schema_metadata(metadata), temporary)
    else:
        from spyralflow.framework.atomic import atomic_output

        with atomic_output(provenance_sidecar(path)) as temporary:
            temporary.write_text(text)
