"""Run attpc_spyral 1.1.2's ClusterPhase and EstimationPhase in this process, timing each.

Runs under Spyral's own interpreter (``/opt/spyral-venv/bin/python``), called by
``bench_cluster_estimation.py`` and by the Spyral compatibility tests. Each phase's ``run`` is
called directly on one core (no ``start_pipeline``, whose parent process busy-polls a second
core). Spyral's estimation stores the direction enum object and cannot write its parquet
(spyral.md section 5.3); it is patched here at run time to store the integer value.

Usage: python cluster_spyral_runner.py SETTINGS.json
SETTINGS: {"workspace": str, "runs": {"<run>": "<pointcloud path>" or null, ...},
           "cluster": {...ClusterParameters fields...}, "estimate": {...},
           "detector": {...}, "phases": ["Cluster", "Estimation"], "warmup": "<pointcloud path>"}
A run without a point-cloud path is only estimated, from ``<workspace>/Cluster/run_NNNN.h5``.
Prints one JSON line: {"<phase>": {"<run>": [wall seconds, CPU seconds], ...}, ...}; CPU time
(``time.process_time``, all threads, single-threaded here) is what a core spent, whatever else
runs on the machine.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
os.environ.setdefault("POLARS_MAX_THREADS", "1")

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

warnings.filterwarnings("ignore", category=FutureWarning)

import spyral_estimation_patch  # noqa: E402, F401 - Spyral's estimation writes its parquet
from spyral import (  # noqa: E402
    ClusterParameters,
    ClusterPhase,
    ContinuityJoinParameters,
    DetectorParameters,
    EstimateParameters,
    EstimationPhase,
    HdbscanParameters,
    OverlapJoinParameters,
)
from spyral.core.schema import PhaseResult  # noqa: E402


class _NullQueue:
    def put(self, _message) -> None:
        pass


def _cluster_parameters(values: dict) -> ClusterParameters:
    hdbscan = values.get("hdbscan_parameters")
    continuity = values.get("continuity_join")
    overlap = values.get("overlap_join")
    return ClusterParameters(
        min_cloud_size=values["min_cloud_size"],
        hdbscan_parameters=HdbscanParameters(**hdbscan) if hdbscan else None,
        tripclust_parameters=None,
        overlap_join=OverlapJoinParameters(**overlap) if overlap else None,
        continuity_join=ContinuityJoinParameters(**continuity) if continuity else None,
        direction_threshold=values["direction_threshold"],
        outlier_scale_factor=values["outlier_scale_factor"],
    )


def _detector_parameters(values: dict) -> DetectorParameters:
    return DetectorParameters(
        magnetic_field=values["magnetic_field"],
        electric_field=values["electric_field"],
        detector_length=values["detector_length"],
        beam_region_radius=values["beam_region_radius"],
        micromegas_time_bucket=values["micromegas_time_bucket"],
        window_time_bucket=values["window_time_bucket"],
        get_frequency=values["get_frequency"],
        garfield_file_path=Path("/nonexistent"),
        do_garfield_correction=False,
    )


def _elapsed(start: tuple[float, float]) -> list[float]:
    return [time.perf_counter() - start[0], time.process_time() - start[1]]


def main() -> None:
    settings = json.loads(Path(sys.argv[1]).read_text())
    workspace = Path(settings["workspace"])
    detector = _detector_parameters(settings["detector"])
    cluster_phase = ClusterPhase(_cluster_parameters(settings["cluster"]), detector)
    estimation_phase = EstimationPhase(EstimateParameters(**settings["estimate"]), detector)
    phases = {"Cluster": cluster_phase, "Estimation": estimation_phase}
    for phase in phases.values():
        (workspace / phase.name).mkdir(parents=True, exist_ok=True)
    wanted = settings.get("phases", ["Cluster", "Estimation"])
    rng = None
    if settings.get("warmup"):
        # Spyral compiles its numba kernels on first use in every process; keep that out.
        warm = workspace / "warmup"
        for phase in phases.values():
            (warm / phase.name).mkdir(parents=True, exist_ok=True)
        payload = PhaseResult({"pointcloud": Path(settings["warmup"])}, True, 9999)
        payload = cluster_phase.run(payload, warm, _NullQueue(), rng)
        estimation_phase.run(payload, warm, _NullQueue(), rng)
    timings: dict[str, dict[str, list[float]]] = {name: {} for name in wanted}
    for run_text, cloud_path in settings["runs"].items():
        run = int(run_text)
        cluster_payload = PhaseResult({"pointcloud": Path(cloud_path or "")}, True, run)
        if "Cluster" in wanted and cloud_path:
            start = (time.perf_counter(), time.process_time())
            cluster_payload = cluster_phase.run(cluster_payload, workspace, _NullQueue(), rng)
            timings["Cluster"][run_text] = _elapsed(start)
        else:
            cluster_payload = cluster_phase.construct_artifact(cluster_payload, workspace)
        if "Estimation" in wanted:
            start = (time.perf_counter(), time.process_time())
            estimation_phase.run(cluster_payload, workspace, _NullQueue(), rng)
            timings["Estimation"][run_text] = _elapsed(start)
    print(json.dumps(timings))


if __name__ == "__main__":
    main()
