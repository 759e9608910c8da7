"""Fixtures of the bad-input campaign: the phases, built once, and the undamaged files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fuzzing import CLUSTER_PARAMETERS, Messages, write_good_cloud_file, write_good_trace_file

from spyralflow.framework.loading import construct_phase
from spyralflow.framework.phase import PhaseResult
from spyralflow.framework.provenance import Provenance

POINTCLOUD_PARAMETERS = {"get_params": {}, "frib_params": {}, "det_params": {}, "pad_params": {}}


def _warmed_up(phase, artifacts: dict[str, Path], workspace: Path):
    """``phase`` after one run on undamaged input, without a time limit: the first run in a
    process loads or compiles the kernels (tens of seconds with an empty cache on a loaded
    machine), which the cases' hang limit must not count."""
    phase.run(PhaseResult(artifacts, True, 1), workspace, Messages(), np.random.default_rng(0))
    return phase


@pytest.fixture(scope="session")
def provenance() -> Provenance:
    return Provenance(
        phase="Pointcloud", phase_class="test", parameters={}, code_hash="0", seed=0, run=1
    )


@pytest.fixture(scope="session")
def pointcloud_phase(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("pointcloud_warm_up")
    phase = construct_phase("spyralflow.phases.pointcloud.PointcloudPhase", POINTCLOUD_PARAMETERS)
    trace = write_good_trace_file(folder / "good_trace.h5")
    return _warmed_up(phase, {"trace": trace}, folder / "workspace")


@pytest.fixture(scope="session")
def cluster_phase(tmp_path_factory: pytest.TempPathFactory, provenance: Provenance):
    folder = tmp_path_factory.mktemp("cluster_warm_up")
    phase = construct_phase("spyralflow.phases.cluster.ClusterPhase", CLUSTER_PARAMETERS)
    cloud = write_good_cloud_file(folder / "good_cloud.h5", provenance)
    return _warmed_up(phase, {"pointcloud": cloud}, folder / "workspace")


@pytest.fixture(scope="session")
def estimation_phase():
    return construct_phase(
        "spyralflow.phases.estimation.EstimationPhase", {"estimate_params": {}, "det_params": {}}
    )


@pytest.fixture
def good_trace(tmp_path: Path) -> Path:
    return write_good_trace_file(tmp_path / "good_trace.h5")


@pytest.fixture
def good_cloud(tmp_path: Path, provenance: Provenance) -> Path:
    return write_good_cloud_file(tmp_path / "good_cloud.h5", provenance)
