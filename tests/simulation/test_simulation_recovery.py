"""Point clouds made from simulated traces give back the engine's points (pad, time, amplitude).

Isolated points (one per pad) go through the trace writer; the Pointcloud stage (attpc_spyral's
reader and peak finder, and ours when it is installed) must find each at its pad and time bucket
with the engine's amplitude, and nothing else.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from spyralflow.framework.provenance import Provenance
from spyralflow.simulation import engine
from spyralflow.simulation.engine_cloud import EngineCloudBuilder
from spyralflow.simulation.settings import MERGER_1_0, MERGER_2_0, SimulationSettings
from spyralflow.simulation.traces import TraceSynthesizer, simulated_trace_file

RUN = 7
N_POINTS = 30
SPYRAL_PYTHON = Path(os.environ.get("SPYRAL_PYTHON", sys.executable))
# Time buckets: peaks are found on whole buckets, and when the pulse maximum falls between two
# samples the noise decides which one is higher.
TIME_TOLERANCE = 1.0
AMPLITUDE_RELATIVE = 0.02  # the sampled maximum is within 1.5 % of the engine's
AMPLITUDE_ABSOLUTE = 15.0  # ADC: noise and baseline estimation

SPYRAL_SCRIPT = """
import json, sys
from pathlib import Path
import numpy as np
from spyral.core.config import FribParameters, GetParameters
from spyral.trace.trace_reader import create_reader

get = GetParameters(baseline_window_scale=20.0, peak_separation=50.0, peak_prominence=20.0,
                    peak_max_width=50.0, peak_threshold=40.0)
frib = FribParameters(baseline_window_scale=100.0, peak_separation=50.0, peak_prominence=20.0,
                      peak_max_width=500.0, peak_threshold=100.0, ic_delay_time_bucket=1100,
                      ic_multiplicity=1)
found = {}
for path in sys.argv[2:]:
    reader = create_reader(Path(path), int(sys.argv[1]))
    event = reader.read_event(0, get, frib, np.random.default_rng(0))
    found[path] = [[float(trace.hw_id.pad_id), float(peak.centroid), float(peak.amplitude)]
                   for trace in event.get_pads.traces for peak in trace.get_peaks()]
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def settings() -> SimulationSettings:
    return SimulationSettings()


@pytest.fixture(scope="module")
def isolated_points(settings) -> np.ndarray:
    """(N, 3) engine points, one per pad, amplitudes 80 … 3000 ADC, times 30 … 480 buckets."""
    synthesizer = TraceSynthesizer.from_settings(settings, np.random.default_rng(0))
    pads = 2000 + 211 * np.arange(N_POINTS)
    times = np.linspace(30.0, 480.0, N_POINTS) + np.linspace(0.05, 0.95, N_POINTS)
    amplitudes = np.geomspace(80.0, 3000.0, N_POINTS)
    electrons = amplitudes / synthesizer.response.peak_adc_per_electron
    return np.column_stack([pads, times, electrons])


@pytest.fixture(scope="module")
def engine_points(settings, isolated_points) -> np.ndarray:
    """The engine's cloud rows of those points: (N, 3) [pad, time bucket, amplitude] by pad."""
    cloud, _ = EngineCloudBuilder(engine.build_detector_config(settings)).build(
        isolated_points, np.full(N_POINTS, 2)
    )
    rows = cloud[:, [5, 6, 3]]
    return rows[np.argsort(rows[:, 0])]


def write_traces(path: Path, settings, points: np.ndarray, trace_format: str) -> Path:
    synthesizer = TraceSynthesizer.from_settings(settings, np.random.default_rng(1))
    # Spyral 1.1.2 never reads a file's last event, so the points go in event 0 of two.
    with simulated_trace_file(path, trace_format, Provenance(phase="test"), 2) as traces:
        traces.write_event(0, synthesizer.event_matrix(points))
        traces.write_event(1, synthesizer.event_matrix(np.empty((0, 3))))
    return path


def assert_recovered(found: np.ndarray, expected: np.ndarray) -> None:
    """``found`` (pad, time, amplitude) rows equal the engine's within the tolerances."""
    found = found[np.argsort(found[:, 0])]
    np.testing.assert_array_equal(found[:, 0], expected[:, 0])
    np.testing.assert_allclose(found[:, 1], expected[:, 1], atol=TIME_TOLERANCE)
    np.testing.assert_allclose(
        found[:, 2], expected[:, 2], rtol=AMPLITUDE_RELATIVE, atol=AMPLITUDE_ABSOLUTE
    )


def _spyral_available() -> str | None:
    if not SPYRAL_PYTHON.exists():
        return f"no attpc_spyral interpreter at {SPYRAL_PYTHON} (set SPYRAL_PYTHON)"
    probe = subprocess.run(
        [str(SPYRAL_PYTHON), "-c", "import spyral"], capture_output=True, text=True, check=False
    )
    if probe.returncode != 0:
        return f"{SPYRAL_PYTHON} cannot import spyral: {probe.stderr.strip()[-200:]}"
    return None


@pytest.mark.spyral
def test_spyral_finds_the_engine_points_in_our_traces_in_both_layouts(
    settings, isolated_points, engine_points, tmp_path
):
    reason = _spyral_available()
    if reason is not None:
        pytest.skip(reason)
    paths = [
        write_traces(tmp_path / name / f"run_{RUN:04d}.h5", settings, isolated_points, layout)
        for name, layout in (("v1", MERGER_1_0), ("v2", MERGER_2_0))
    ]
    completed = subprocess.run(
        [str(SPYRAL_PYTHON), "-c", SPYRAL_SCRIPT, str(RUN), *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    found = json.loads(completed.stdout.strip().splitlines()[-1])
    for path in paths:
        assert_recovered(np.array(found[str(path)]), engine_points)


def test_our_pointcloud_phase_finds_the_engine_points_in_our_traces(
    settings, isolated_points, engine_points, tmp_path
):
    pointcloud = pytest.importorskip(
        "spyralflow.phases.pointcloud", reason="the Pointcloud phase is not installed yet"
    )
    if not hasattr(pointcloud, "PointcloudPhase"):
        pytest.skip("spyralflow.phases.pointcloud has no PointcloudPhase yet")
    from spyralflow.framework.job import PhaseJob, run_phase
    from spyralflow.io.pointcloud_file import iter_pointclouds

    path = write_traces(tmp_path / f"run_{RUN:04d}.h5", settings, isolated_points, MERGER_2_0)
    job = PhaseJob(
        class_path="spyralflow.phases.pointcloud.PointcloudPhase",
        # Every parameter at its default: Spyral's README values, no pad time offsets.
        parameters={"get_params": {}, "frib_params": {}, "det_params": {}, "pad_params": {}},
        code_hash="",
        workspace=tmp_path / "workspace",
        seed=0,
    )
    result = run_phase(job, run=RUN, incoming={"trace": path}, expected_outputs={})
    output = result.artifacts["pointcloud"]
    clouds = {cloud.event: cloud.cloud for cloud in iter_pointclouds(output)}
    assert clouds[1].shape == (0, 8)
    assert_recovered(clouds[0][:, [5, 6, 3]], engine_points)
