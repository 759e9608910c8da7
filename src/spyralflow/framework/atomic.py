"""Atomic file output: write to a temporary sibling, rename into place on success."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_output(path: Path | str) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` if the block succeeds.

    A failed or killed writer leaves no file at ``path`` (a stale ``.part`` file at most, which
    the next attempt overwrites), so a half-written artifact is never mistaken for a result.

    Parameters
    ----------
    path : Path or str
        The final file path; its folder is created if needed.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    temporary = final.with_name(f".{final.name}.{os.getpid()}.part")
    try:
        yield temporary
        os.replace(temporary, final)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
