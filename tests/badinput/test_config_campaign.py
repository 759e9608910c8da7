"""The broken-config part of the campaign: every damaged config is one clear ConfigError at
plan time (what ``snakemake -n`` runs), naming the key, phase or file and the cause."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from config_cases import BROKEN_MODULE, CONFIG_CASES, REPOSITORY, damaged_config, shipped_config
from workflow_runner import planning_error

from spyralflow.generator import prepare_workflow


@pytest.mark.parametrize("case", CONFIG_CASES, ids=[case.name for case in CONFIG_CASES])
def test_a_broken_config_is_one_config_error_naming_what_is_wrong(case, tmp_path, monkeypatch):
    # Relative paths of the shipped config (config/targets/...) resolve as in a checkout.
    (tmp_path / "config").symlink_to(REPOSITORY / "config")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))  # the case's own phase module, if any
    message = planning_error(damaged_config(case, tmp_path), tmp_path)
    assert re.search(case.expected, message, re.S), message
    assert "Traceback" not in message
    assert len(message) < 2000, "the message quotes more than the fault"
    sys.modules.pop(BROKEN_MODULE, None)


def test_the_shipped_config_plans(tmp_path, monkeypatch):
    """The control: the undamaged config is accepted, so each case fails for its damage."""
    (tmp_path / "config").symlink_to(REPOSITORY / "config")
    monkeypatch.chdir(tmp_path)
    prepared = prepare_workflow(
        shipped_config(),
        REPOSITORY / "workflow",
        cache_folder=Path("cache"),
        claim=False,
    )
    assert prepared.runs == ["0001", "0002", "0003", "0004"]
