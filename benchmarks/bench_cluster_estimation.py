"""Benchmark: spyralflow's Cluster and Estimation phases against attpc_spyral 1.1.2.

Both run on the same attpc_engine point clouds (16C(d,d') at 184 MeV in 300 Torr D2, made by
``cluster_simulate.py`` with a fixed seed), each phase's ``run`` called directly on one core
after a warm-up (so numba compilation is not timed), with the parameters of the reference run
in attpc_engine.md section 3. Printed: events per second per core of each phase for both (CPU
time of the phase's process, so other load on the machine does not count) and their ratio
(target >= 3); the quality figures against truth for both: cluster purity, fraction of each
particle's points in its cluster, and for deuteron-majority clusters the efficiency and the
bias (median), robust resolution (1.4826 MAD) and tails (mean, std) of reco - truth of the
polar and azimuthal angles, vertex and Brho.

Spyral runs in its own interpreter (``--spyral-python``, default ``$SPYRAL_PYTHON`` or
``/opt/spyral-venv/bin/python``) through ``cluster_spyral_runner.py``, with its estimation
direction bug patched at run time. Its outputs and timings are kept in the workspace and reused
with ``--reuse-spyral`` when the inputs and settings are unchanged.

Usage:
    python benchmarks/bench_cluster_estimation.py                       # 4000 events
    python benchmarks/bench_cluster_estimation.py --max-events-per-run 300 --reuse-spyral
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
os.environ.setdefault("POLARS_MAX_THREADS", "1")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cluster_quality  # noqa: E402
import cluster_simulate  # noqa: E402

from spyralflow.framework.phase import PhaseResult  # noqa: E402
from spyralflow.phases.cluster import (  # noqa: E402
    ClusterParameters,
    ClusterPhase,
    ContinuityJoinParameters,
    HdbscanParameters,
)
from spyralflow.phases.detector import DetectorParameters  # noqa: E402
from spyralflow.phases.estimation import EstimateParameters, EstimationPhase  # noqa: E402

RUNNER = Path(__file__).resolve().parent / "cluster_spyral_runner.py"
WARMUP_EVENTS = 20

# The reference run of attpc_engine.md section 3 (Spyral's getting-started HDBSCAN values,
# continuity join from Spyral's tests).
CLUSTER_PARAMETERS = ClusterParameters(
    min_cloud_size=50,
    hdbscan_parameters=HdbscanParameters(
        min_points=3,
        min_size_scale_factor=0.05,
        min_size_lower_cutoff=10,
        cluster_selection_epsilon=10.0,
    ),
    continuity_join=ContinuityJoinParameters(join_radius_fraction=0.4, join_z_fraction=0.2),
    overlap_join=None,
    direction_threshold=0.5,
    outlier_scale_factor=0.05,
)
ESTIMATE_PARAMETERS = EstimateParameters(min_total_trajectory_points=30, smoothing_factor=100.0)
DETECTOR_PARAMETERS = DetectorParameters()


class _NullQueue:
    def put(self, _message: object) -> None:
        pass


def _copy_events(source: Path, target: Path, count: int) -> int:
    """Copy the first ``count`` clouds (with labels) of a point-cloud file; return how many."""
    target.parent.mkdir(parents=True, exist_ok=True)
    copied = 0
    with h5py.File(source, "r") as handle, h5py.File(target, "w") as out:
        group = handle["cloud"]
        first, last = int(group.attrs["min_event"]), int(group.attrs["max_event"])
        new = out.create_group("cloud")
        final = first
        for event in range(first, last + 1):
            if f"cloud_{event}" not in group:
                continue
            if copied == count:
                break
            group.copy(f"cloud_{event}", new)
            if f"labels_{event}" in group:
                group.copy(f"labels_{event}", new)
            copied += 1
            final = event
        new.attrs["min_event"] = group.attrs["min_event"]
        new.attrs["max_event"] = np.int64(final)
    return copied


def _event_range(path: Path) -> tuple[int, int]:
    with h5py.File(path, "r") as handle:
        return int(handle["cloud"].attrs["min_event"]), int(handle["cloud"].attrs["max_event"])


def _cloud_count(path: Path) -> int:
    with h5py.File(path, "r") as handle:
        return sum(1 for name in handle["cloud"] if name.startswith("cloud_"))


def prepare_inputs(data: Path, workspace: Path, limit: int | None) -> dict[int, Path]:
    """The run files to use: the simulation's, or truncated copies of them."""
    runs = {
        int(path.stem.split("_")[1]): path for path in sorted((data / "pointcloud").glob("*.h5"))
    }
    if limit is None:
        return runs
    inputs = {}
    for run, path in runs.items():
        target = workspace / "input" / path.name
        if not target.exists():
            _copy_events(path, target, limit)
        inputs[run] = target
    return inputs


def _settings(workspace: Path, inputs: dict[int, Path], warmup: Path) -> dict:
    return {
        "workspace": str(workspace / "spyral"),
        "runs": {str(run): str(path) for run, path in inputs.items()},
        "cluster": dataclasses.asdict(CLUSTER_PARAMETERS),
        "estimate": dataclasses.asdict(ESTIMATE_PARAMETERS),
        "detector": {
            key: value
            for key, value in dataclasses.asdict(DETECTOR_PARAMETERS).items()
            if key not in ("garfield_file_path", "do_garfield_correction")
        },
        "phases": ["Cluster", "Estimation"],
        "warmup": str(warmup),
    }


def _input_key(settings: dict) -> str:
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for path in settings["runs"].values():
        stat = Path(path).stat()
        digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def run_spyral(python: str, settings: dict, reuse: bool) -> dict[str, dict[str, float]]:
    """Spyral's timings per phase and run (from the cache when allowed and still valid)."""
    workspace = Path(settings["workspace"])
    workspace.mkdir(parents=True, exist_ok=True)
    cache = workspace / "timings.json"
    key = _input_key(settings)
    if reuse and cache.exists():
        stored = json.loads(cache.read_text())
        if stored.get("key") == key:
            print(f"reusing Spyral's outputs and timings from {workspace}")
            return stored["timings"]
    settings_path = workspace / "settings.json"
    settings_path.write_text(json.dumps(settings, indent=2))
    print(f"running Spyral 1.1.2 ({python}) ...", flush=True)
    completed = subprocess.run(
        [python, str(RUNNER), str(settings_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"Spyral runner failed:\n{completed.stderr[-4000:]}")
    timings = json.loads(completed.stdout.strip().splitlines()[-1])
    cache.write_text(json.dumps({"key": key, "timings": timings}))
    return timings


def run_ours(workspace: Path, inputs: dict[int, Path], warmup: Path) -> dict[str, dict]:
    """spyralflow's timings per phase and run."""
    cluster_phase = ClusterPhase(CLUSTER_PARAMETERS, DETECTOR_PARAMETERS)
    estimation_phase = EstimationPhase(ESTIMATE_PARAMETERS, DETECTOR_PARAMETERS)
    warm = workspace / "ours_warmup"
    payload = cluster_phase.run(
        PhaseResult({"pointcloud": warmup}, True, 9999), warm, _NullQueue(), None
    )
    estimation_phase.run(payload, warm, _NullQueue(), None)
    timings: dict[str, dict] = {"Cluster": {}, "Estimation": {}}
    root = workspace / "ours"
    for run, path in inputs.items():
        start = (time.perf_counter(), time.process_time())
        payload = cluster_phase.run(
            PhaseResult({"pointcloud": path}, True, run), root, _NullQueue(), None
        )
        timings["Cluster"][str(run)] = _elapsed(start)
        start = (time.perf_counter(), time.process_time())
        estimation_phase.run(payload, root, _NullQueue(), None)
        timings["Estimation"][str(run)] = _elapsed(start)
    return timings


def _elapsed(start: tuple[float, float]) -> list[float]:
    return [time.perf_counter() - start[0], time.process_time() - start[1]]


def quality(root: Path, inputs: dict[int, Path], truth: pl.DataFrame) -> tuple:
    tables = []
    estimates = []
    for run, path in inputs.items():
        name = f"run_{run:04d}"
        tables.append(cluster_quality.cluster_table(run, path, root / "Cluster" / f"{name}.h5"))
        frame = pl.read_parquet(root / "Estimation" / f"{name}.parquet")
        if frame.height:
            estimates.append(frame.with_columns(pl.lit(run).cast(pl.Int64).alias("run")))
    clusters = pl.concat(tables)
    residuals = cluster_quality.estimate_residuals(pl.concat(estimates), clusters, truth)
    return (
        cluster_quality.ClusterQuality.from_table(clusters),
        residuals,
        sum(frame.height for frame in estimates),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("/tmp/spyralflow_c16dd"))
    parser.add_argument("--events", type=int, default=4000, help="events to simulate if absent")
    parser.add_argument("--max-events-per-run", type=int, default=None)
    parser.add_argument("--workspace", type=Path, default=Path("/tmp/spyralflow_bench"))
    parser.add_argument(
        "--spyral-python",
        default=os.environ.get("SPYRAL_PYTHON", "/opt/spyral-venv/bin/python"),
    )
    parser.add_argument("--reuse-spyral", action="store_true")
    args = parser.parse_args()

    if not (args.data / "truth.parquet").exists():
        cluster_simulate.simulate(args.data, args.events, 2000, 20260211)
    suffix = f"first{args.max_events_per_run}" if args.max_events_per_run else "all"
    workspace = args.workspace / suffix
    inputs = prepare_inputs(args.data, workspace, args.max_events_per_run)
    first_run = next(iter(inputs.values()))
    warmup = workspace / "warmup" / "run_9999.h5"
    if not warmup.exists():
        _copy_events(first_run, warmup, WARMUP_EVENTS)
    events = sum(_cloud_count(path) for path in inputs.values())
    truth = cluster_quality.truth_table(args.data / "truth.parquet")

    spyral_timings = run_spyral(
        args.spyral_python, _settings(workspace, inputs, warmup), args.reuse_spyral
    )
    ours_timings = run_ours(workspace, inputs, warmup)

    print(f"\n{events} clouds in {len(inputs)} runs ({', '.join(map(str, inputs))}), one core each")
    print(
        "events/s per core = clouds / CPU seconds of the phase's process; the wall-time ratio"
        " depends on what else ran on the machine at each moment"
    )
    print(
        f"{'phase':<11} {'Spyral CPU s':>12} {'ours CPU s':>10} {'Spyral ev/s':>12}"
        f" {'ours ev/s':>10} {'ratio':>6} {'wall ratio':>10}"
    )
    for phase in ("Cluster", "Estimation"):
        spyral_wall, spyral_cpu = np.sum(list(spyral_timings[phase].values()), axis=0)
        ours_wall, ours_cpu = np.sum(list(ours_timings[phase].values()), axis=0)
        print(
            f"{phase:<11} {spyral_cpu:>12.1f} {ours_cpu:>10.1f} {events / spyral_cpu:>12.2f}"
            f" {events / ours_cpu:>10.2f} {spyral_cpu / ours_cpu:>6.2f}"
            f" {spyral_wall / ours_wall:>10.2f}"
        )

    simulated = pl.concat(
        [truth.filter(pl.col("event").is_between(*_event_range(path))) for path in inputs.values()]
    )
    for label, root in (("Spyral 1.1.2", workspace / "spyral"), ("spyralflow", workspace / "ours")):
        clusters, residuals, rows = quality(root, inputs, truth)
        print(
            f"\n== {label}: {clusters.clusters} clusters, {rows} estimates, deuteron estimates"
            f" for {residuals[0].count / simulated.height:.1%} of {simulated.height} simulated"
            " events"
        )
        print(
            f"purity {clusters.mean_purity:.4f}; deuteron points in the deuteron cluster "
            f"{clusters.deuteron_fraction:.3f}; 16C points in the 16C cluster "
            f"{clusters.residual_fraction:.3f}; events with the deuteron split "
            f"{clusters.deuteron_events_split:.3f}"
        )
        print(f"{'deuteron':<18} {'N':>6} {'median':>9} {'1.4826MAD':>9} {'mean':>9} {'std':>9}")
        for residual in residuals:
            print(residual.row())


if __name__ == "__main__":
    main()
