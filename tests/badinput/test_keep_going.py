"""A real ``snakemake --keep-going`` run with a corrupt run among good ones: the corrupt run fails
alone with a message naming file and cause, a damaged-but-usable run finishes with its counts."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import yaml
from fuzzing import write_good_trace_file
from test_config_checks import analysis_config
from workflow_runner import run_snakemake

from spyralflow.io.checks import read_report

pytestmark = pytest.mark.slow


def test_a_corrupt_run_fails_alone_and_a_damaged_one_is_counted(tmp_path):
    traces = tmp_path / "traces"
    traces.mkdir()
    for run in (1, 2, 3):
        write_good_trace_file(traces / f"run_{run:04d}.h5", seed=run)
    with h5py.File(traces / "run_0002.h5", "r+") as handle:
        handle["events"].attrs["max_event"] = np.inf
    with h5py.File(traces / "run_0003.h5", "r+") as handle:
        del handle["events/event_1"]
    config = analysis_config(traces)
    config["runs"] = {"first": 1, "last": 3}
    config["phases"] = config["phases"][:2]
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    result = run_snakemake(tmp_path, "--cores", "2", "--keep-going")
    assert result.returncode != 0, result.output[-3000:]
    workspace = tmp_path / "workspace"
    assert (workspace / "Cluster" / "run_0001.h5").exists()
    assert (workspace / "Cluster" / "run_0003.h5").exists()
    assert not (workspace / "Pointcloud" / "run_0002.h5").exists()
    assert not list((workspace / "Pointcloud").glob("*.part*"))
    failed = (workspace / "logs" / "Pointcloud" / "run_0002.log").read_text()
    assert "TraceFormatError" in failed and str(traces / "run_0002.h5") in failed
    assert "attribute 'max_event' of /events is inf" in failed
    counted = (workspace / "logs" / "Pointcloud" / "run_0003.log").read_text()
    assert "WARNING" in counted and "events of the declared range without data: 1" in counted
    with h5py.File(workspace / "Pointcloud" / "run_0003.h5", "r") as handle:
        report = read_report(handle["cloud"].attrs)
    assert report == {"events of the declared range without data": 1}
