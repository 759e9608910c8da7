"""Run naming and discovery."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

# Four or more digits; written without a {m,n} quantifier, which Snakemake wildcards reject.
RUN_WILDCARD_PATTERN = r"\d\d\d\d+"
_RUN_FILE = re.compile(r"^run_(\d{4,})(\..+)$")


def form_run_string(run_number: int) -> str:
    """Spyral's run name: ``run_`` and the number zero-padded to 4 digits (``run_0094``)."""
    return f"run_{run_number:04d}"


def run_label(run_number: int) -> str:
    """The ``{run}`` wildcard value of a run: its number zero-padded to 4 digits."""
    return f"{run_number:04d}"


def discover_runs(
    folder: Path, extension: str, first: int, last: int, skip: Iterable[int] = ()
) -> list[int]:
    """Runs in ``[first, last]`` whose file ``folder/run_NNNN<extension>`` exists and is not empty.

    Parameters
    ----------
    folder : Path
        Folder holding the run files.
    extension : str
        File extension with the dot.
    first, last : int
        Inclusive run range.
    skip : iterable of int
        Runs to leave out.

    Returns
    -------
    list[int]
        Sorted run numbers.
    """
    skipped = set(skip)
    found: list[int] = []
    if not Path(folder).is_dir():
        return found
    for entry in Path(folder).iterdir():
        match = _RUN_FILE.match(entry.name)
        if match is None or match.group(2) != extension:
            continue
        run = int(match.group(1))
        if first <= run <= last and run not in skipped and entry.stat().st_size > 0:
            found.append(run)
    return sorted(found)


def planned_runs(first: int, last: int, skip: Iterable[int] = ()) -> list[int]:
    """All runs in ``[first, last]`` but the skipped ones (for inputs made by the workflow)."""
    skipped = set(skip)
    return [run for run in range(first, last + 1) if run not in skipped]
