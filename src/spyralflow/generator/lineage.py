"""Lineage digests: what shaped a phase's input, as one hash per phase.

Snakemake decides reruns per job from that job's own params, code and input files. A job whose
own params did not change is not rerun when an upstream intermediate is missing or was made with
other settings (Snakemake then does not even rebuild the intermediate). The lineage digest makes
every upstream change part of every downstream job's params: a phase's digest hashes its
predecessor's digest, its class, canonical parameters, code hash, the content of every file its
parameters name and the asset key it uses. The entry phase starts from the identity of the
pipeline's input (folders, or the simulation that makes it).

Kept free of heavy imports: the Snakefile computes the rules-cache key from these on every parse.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

PARAMETER_FILE_HASH_LIMIT_BYTES = 50_000_000
LINEAGE_DIGITS = 16


def parameter_files(parameters: Any) -> list[str]:
    """Existing files named by string values anywhere in the parameters."""
    found: list[str] = []
    if isinstance(parameters, dict):
        for value in parameters.values():
            found.extend(parameter_files(value))
    elif isinstance(parameters, list):
        for value in parameters:
            found.extend(parameter_files(value))
    elif isinstance(parameters, str) and parameters and Path(parameters).is_file():
        found.append(parameters)
    return sorted(set(found))


def file_fingerprint(path: str) -> str:
    """Content hash of a small file; size and mtime of a large one (a Garfield table, a mesh)."""
    target = Path(path)
    stat = target.stat()
    if stat.st_size > PARAMETER_FILE_HASH_LIMIT_BYTES:
        return f"{stat.st_size}:{stat.st_mtime_ns}"
    return hashlib.sha256(target.read_bytes()).hexdigest()


def _digest(parts: Iterable[str], digits: int) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:digits]


def asset_hash(
    class_path: str, parameters_json: str, phase_code_hash: str, files: Iterable[str]
) -> str:
    """Hash of everything a phase's assets depend on: class, parameters, code and file contents.

    An edited gas, particle-ID or Garfield file gives a new asset name, so its consumers rerun;
    going back to the earlier content gives the earlier name and reuses that asset.
    """
    return _digest(
        (class_path, parameters_json, phase_code_hash, *(file_fingerprint(p) for p in files)), 12
    )


def phase_lineage(
    upstream: str,
    class_path: str,
    parameters_json: str,
    phase_code_hash: str,
    files: Iterable[str],
    asset_key: str,
) -> str:
    """The lineage digest of a phase: its predecessor's digest and everything of its own."""
    return _digest(
        (
            upstream,
            class_path,
            parameters_json,
            phase_code_hash,
            *(f"{path}={file_fingerprint(path)}" for path in files),
            asset_key,
        ),
        LINEAGE_DIGITS,
    )


def entry_lineage(identity: str) -> str:
    """The digest the first phase starts from: the identity of the pipeline's input."""
    return _digest(("entry", identity), LINEAGE_DIGITS)


def combined_lineage(lineages: Iterable[str]) -> str:
    """One digest of several phases' lineages (for a step reading the artifacts of several)."""
    return _digest(sorted(set(lineages)), LINEAGE_DIGITS)
