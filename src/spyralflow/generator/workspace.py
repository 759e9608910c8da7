"""One working directory drives a workspace.

Snakemake's lock lives in the working directory (``.snakemake/locks``), so two working copies
whose configs name the same absolute workspace run side by side unseen by each other, and the
artifacts end with a mix of both copies' settings. The workspace therefore records the working
directory that drives it, and any other is refused before a job starts.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from spyralflow.framework.atomic import atomic_output
from spyralflow.framework.config import ConfigError

OWNER_FILE = ".spyralflow-workspace.json"


def _real(path: Path) -> str:
    return os.path.realpath(path)


def claim_workspace(workspace: Path, working_directory: Path, config_files: list[str]) -> None:
    """Record ``working_directory`` as the one driving ``workspace``, or refuse another.

    Parameters
    ----------
    workspace : Path
        The config's workspace (relative to the working directory or absolute).
    working_directory : Path
        Where Snakemake runs (the working copy).
    config_files : list of str
        The config files read, recorded to name them in a refusal.

    Raises
    ------
    ConfigError
        If another working directory drives the workspace; naming both and what to do.
    """
    workspace = Path(workspace)
    root = workspace if workspace.is_absolute() else Path(working_directory) / workspace
    owner_path = root / OWNER_FILE
    here = _real(working_directory)
    owner = _read_owner(owner_path)
    if owner is None:
        root.mkdir(parents=True, exist_ok=True)
        if _create_exclusively(owner_path, _record(here, config_files)):
            return
        owner = _read_owner(owner_path) or {}
    recorded = owner.get("working_directory")
    if recorded and recorded != here:
        configs = ", ".join(owner.get("config_files") or []) or "its config"
        raise ConfigError(
            f"config key 'workspace': the workspace {_real(root)} is driven by the working "
            f"copy {recorded} ({configs}); this working copy is {here}. Two copies on one "
            "workspace would overwrite each other's results: give this copy its own "
            f"'workspace', or, if {recorded} is gone for good, delete {owner_path}"
        )
    if owner.get("config_files") != list(config_files):
        with atomic_output(owner_path) as temporary:
            temporary.write_text(_record(here, config_files))


def _read_owner(owner_path: Path) -> dict | None:
    try:
        return json.loads(owner_path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}


def _record(working_directory: str, config_files: list[str]) -> str:
    return json.dumps(
        {
            "working_directory": working_directory,
            "config_files": list(config_files),
            "host": os.uname().nodename,
            "claimed": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        },
        indent=1,
    )


def _create_exclusively(path: Path, text: str) -> bool:
    """Write ``path`` whole unless it exists (a hard link fails on an existing name)."""
    staged = path.with_name(f".{path.name}.{os.getpid()}.claim")
    staged.write_text(text)
    try:
        os.link(staged, path)
    except FileExistsError:
        return False
    finally:
        staged.unlink(missing_ok=True)
    return True
