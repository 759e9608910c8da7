"""Run attpc_spyral 1.1.2's PointcloudPhase on one trace file (executed by Spyral's own Python).

It imports nothing from spyralflow, so it runs in the separate Spyral environment. Prints one
JSON line: wall and CPU time of ``run`` (numba compilation included, as every Spyral process pays
it), the times of the progress messages (for the rate after compilation), the clouds written and
the peak RSS.

With ``--cluster-input FILE`` it then runs Spyral's ClusterPhase on that point-cloud file (ours,
to show Spyral reads it) and reports how many events it clustered.

Usage: /opt/spyral-venv/bin/python benchmarks/pointcloud_spyral_driver.py TRACE RUN WORKSPACE
       [--seed S] [--pad-time-path CSV] [--cluster-input POINTCLOUD.h5]
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import numpy as np


def peak_rss_mb() -> float:
    """Peak resident memory in MB (VmHWM: ru_maxrss would include the parent's, on Linux)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class TimingQueue:
    """A message queue that records when each progress message arrives."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def put(self, message: object) -> None:
        self.times.append(time.perf_counter())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("trace", type=Path)
    parser.add_argument("run", type=int)
    parser.add_argument("workspace", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pad-time-path", type=Path, default=None)
    parser.add_argument("--cluster-input", type=Path, default=None)
    arguments = parser.parse_args()

    from spyral import (
        DEFAULT_MAP,
        DetectorParameters,
        FribParameters,
        GetParameters,
        PadParameters,
        PointcloudPhase,
    )
    from spyral.core.schema import PhaseResult

    phase = PointcloudPhase(
        GetParameters(
            baseline_window_scale=20.0,
            peak_separation=50.0,
            peak_prominence=20.0,
            peak_max_width=50.0,
            peak_threshold=40.0,
        ),
        FribParameters(
            baseline_window_scale=100.0,
            peak_separation=50.0,
            peak_prominence=20.0,
            peak_max_width=500.0,
            peak_threshold=100.0,
            ic_delay_time_bucket=1100,
            ic_multiplicity=1,
        ),
        DetectorParameters(
            magnetic_field=2.85,
            electric_field=45000.0,
            detector_length=1000.0,
            beam_region_radius=25.0,
            micromegas_time_bucket=10.0,
            window_time_bucket=560.0,
            get_frequency=6.25,
            garfield_file_path=Path("no-garfield-file"),
            do_garfield_correction=False,
        ),
        PadParameters(
            pad_geometry_path=DEFAULT_MAP,
            pad_time_path=arguments.pad_time_path or DEFAULT_MAP,
            pad_scale_path=DEFAULT_MAP,
        ),
    )
    workspace = arguments.workspace
    phase.get_artifact_path(workspace).mkdir(parents=True, exist_ok=True)
    phase.get_asset_storage_path(workspace).mkdir(parents=True, exist_ok=True)
    phase.create_assets(workspace)
    payload = PhaseResult({"trace": arguments.trace}, True, arguments.run)
    queue = TimingQueue()
    rng = np.random.default_rng(arguments.seed)
    started = time.perf_counter()
    cpu_started = time.process_time()
    result = phase.run(payload, workspace, queue, rng)
    elapsed = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    import h5py

    with h5py.File(result.artifacts["pointcloud"], "r") as handle:
        clouds = [name for name in handle["cloud"] if name.startswith("cloud_")]
    report = {
        "successful": bool(result.successful),
        "seconds": elapsed,
        "cpu_seconds": cpu_seconds,
        "message_times": [moment - started for moment in queue.times],
        "clouds": len(clouds),
        "pointcloud": str(result.artifacts["pointcloud"]),
        "peak_rss_mb": peak_rss_mb(),
    }
    if arguments.cluster_input is not None:
        report["cluster_events"] = run_cluster_phase(
            arguments.cluster_input, arguments.run, workspace / "cluster_check"
        )
    print(json.dumps(report))


def run_cluster_phase(pointcloud: Path, run: int, workspace: Path) -> int:
    """Run Spyral's ClusterPhase on a point-cloud file; return the number of clustered events."""
    import h5py
    from spyral import (
        ClusterParameters,
        ClusterPhase,
        ContinuityJoinParameters,
        DetectorParameters,
        HdbscanParameters,
    )
    from spyral.core.schema import PhaseResult

    phase = ClusterPhase(
        ClusterParameters(
            min_cloud_size=5,
            hdbscan_parameters=HdbscanParameters(
                min_points=3,
                min_size_scale_factor=0.05,
                min_size_lower_cutoff=5,
                cluster_selection_epsilon=10.0,
            ),
            tripclust_parameters=None,
            overlap_join=None,
            continuity_join=ContinuityJoinParameters(join_radius_fraction=0.4, join_z_fraction=0.2),
            direction_threshold=0.5,
            outlier_scale_factor=0.05,
        ),
        DetectorParameters(2.85, 45000.0, 1000.0, 25.0, 10.0, 560.0, 6.25, Path("none"), False),
    )
    phase.get_artifact_path(workspace).mkdir(parents=True, exist_ok=True)
    result = phase.run(
        PhaseResult({"pointcloud": pointcloud}, True, run),
        workspace,
        TimingQueue(),
        np.random.default_rng(0),
    )
    if not result.successful:
        return -1
    with h5py.File(result.artifacts["cluster"], "r") as handle:
        return sum(1 for name in handle["cluster"] if name.startswith("event_"))


if __name__ == "__main__":
    main()
