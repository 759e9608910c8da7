"""A copy of the shipped workflow (Snakefile, ``workflow/``, ``config/``) with its own config,
for the benchmarks that run ``snakemake`` on altered configs without touching the checkout."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

REPOSITORY = Path(__file__).resolve().parents[1]


def shipped_config() -> dict:
    """The shipped ``config/config.yaml`` as a dict."""
    return yaml.safe_load((REPOSITORY / "config" / "config.yaml").read_text())


def copy_workflow(folder: Path, config: dict) -> Path:
    """Copy the workflow into ``folder`` (created if needed) with ``config`` as its config.yaml."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPOSITORY / "Snakefile", folder)
    shutil.copytree(REPOSITORY / "workflow", folder / "workflow")
    shutil.copytree(REPOSITORY / "config", folder / "config")
    (folder / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    return folder
