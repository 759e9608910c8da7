"""Benchmark of the Pointcloud phase against attpc_spyral 1.1.2 on the same trace file.

What it measures, each in its own process (one core each; BLAS/OpenMP threads pinned to 1):

1. a plain h5py read of the datasets the phase reads (GET matrix, SIS3300 traces, trigger) of
   every event: the floor set by I/O and HDF5 decoding;
2. our phase on N events, with numba's on-disk cache warm (a job's normal case), then the same
   events again in the same process (the steady cost per event of a long run), again with two
   threads (``SPYRALFLOW_THREADS=2``), and once more with an empty cache (what compilation costs
   when the code changed);
3. Spyral's PointcloudPhase on the same file (``pointcloud_spyral_driver.py`` in Spyral's
   environment). Spyral never processes the last event, so its rate counts N - 1 events. Its
   numba compilation (paid by every Spyral process) is reported apart from its steady rate;
4. our phase on 2N events, to show that peak memory does not grow with the run length;
5. our clouds against Spyral's, point for point.

Usage: python benchmarks/bench_pointcloud.py [--events 200] [--traces 2000] [--workdir DIR]
                                            [--trace FILE] [--skip-spyral]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SPYRAL_DRIVER = HERE / "pointcloud_spyral_driver.py"
RUN = 1
SEED = 11
SINGLE_THREAD = {
    name: "1"
    for name in (
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "VECLIB_MAXIMUM_THREADS",
        "NUMEXPR_NUM_THREADS",
        "POLARS_MAX_THREADS",
        "NUMBA_NUM_THREADS",
    )
}


def child_environment(**extra: str) -> dict[str, str]:
    environment = dict(os.environ)
    environment.update(SINGLE_THREAD)
    environment.update(extra)
    return environment


def run_child(arguments: list[str], **extra: str) -> dict:
    """Run this script in child mode and return its JSON report."""
    completed = subprocess.run(
        [sys.executable, __file__, *arguments],
        capture_output=True,
        text=True,
        env=child_environment(**extra),
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"child {arguments} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB.

    Read from VmHWM, which belongs to the process image: ``getrusage``'s ru_maxrss survives
    fork and exec on Linux, so a child would report its parent's peak if that was higher.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def child_read(trace: Path) -> dict:
    """Read every event's GET matrix, SIS3300 traces and trigger with h5py, nothing else."""
    import h5py

    started = time.perf_counter()
    cpu_started = time.process_time()
    events = 0
    with h5py.File(trace, "r") as handle:
        group = handle["events"]
        first, last = int(group.attrs["min_event"]), int(group.attrs["max_event"])
        for event in range(first, last + 1):
            entry = group.get(f"event_{event}")
            if entry is None:
                continue
            entry["get_traces"][()]
            if "frib_physics" in entry:
                for name in ("1903", "977"):
                    if name in entry["frib_physics"]:
                        entry["frib_physics"][name][()]
            events += 1
    return {
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - cpu_started,
        "events": events,
        "rss_mb": peak_rss_mb(),
    }


def child_ours(trace: Path, workspace: Path, pad_time_path: Path) -> dict:
    """Import, construct and run our phase as a job does, then once more; times, peak memory.

    The first run is what a job of this file costs: it includes numba setting up its machinery
    and loading the cached kernels on their first call. The second, on the same events in the
    same process, is the steady cost of those events, what a run of thousands of events costs
    per event.
    """
    started = time.perf_counter()
    from spyralflow.framework.kernels import skip_numba_extensions

    skip_numba_extensions()  # as every phase job does (sympy and scipy.fft otherwise)
    from spyralflow.framework.phase import PhaseResult
    from spyralflow.phases.detector import DetectorParameters
    from spyralflow.phases.pointcloud import (
        FribParameters,
        GetParameters,
        PadParameters,
        PointcloudPhase,
    )

    class Sink:
        def put(self, message: object) -> None:
            pass

    phase = PointcloudPhase(
        GetParameters(),
        FribParameters(),
        DetectorParameters(),
        PadParameters(pad_time_path=pad_time_path),
    )
    ready = time.perf_counter()
    cpu_ready = time.process_time()
    result = phase.run(
        PhaseResult({"trace": trace}, True, RUN), workspace, Sink(), np.random.default_rng(SEED)
    )
    finished = time.perf_counter()
    cpu_finished = time.process_time()
    phase.run(
        PhaseResult({"trace": trace}, True, RUN),
        workspace / "again",
        Sink(),
        np.random.default_rng(SEED),
    )
    return {
        "startup_seconds": ready - started,
        "seconds": finished - ready,
        "cpu_seconds": cpu_finished - cpu_ready,
        "steady_seconds": time.perf_counter() - finished,
        "steady_cpu_seconds": time.process_time() - cpu_finished,
        "pointcloud": str(result.artifacts["pointcloud"]),
        "rss_mb": peak_rss_mb(),
    }


def make_tcorr(path: Path) -> Path:
    """Per-pad time offsets like Spyral's (-1.9 ... 1.5 TB), given to both implementations."""
    offsets = np.random.default_rng(3).uniform(-1.9, 1.5, 10240)
    offsets[0] = 0.0
    path.write_text("tcorr\n" + "\n".join(f"{value:.6f}" for value in offsets) + "\n")
    return path


def event_count(trace: Path) -> int:
    import h5py

    with h5py.File(trace, "r") as handle:
        group = handle["events"] if "events" in handle else None
        if group is None:
            meta = handle["meta/meta"][()]
            return int(meta[2]) - int(meta[0]) + 1
        return int(group.attrs["max_event"]) - int(group.attrs["min_event"]) + 1


def spyral_rates(report: dict, processed: int) -> tuple[float, float]:
    """(overall events/s, steady events/s after the first progress step) of a Spyral run."""
    overall = processed / report["seconds"]
    times = report["message_times"]
    if len(times) < 3:
        return overall, overall
    events_per_message = processed / len(times)
    steady_events = processed - events_per_message
    return overall, steady_events / (report["seconds"] - times[1])


def compare_clouds(ours: Path, theirs: Path) -> dict:
    """Point-for-point comparison on the events both files hold."""
    from spyralflow.io.pointcloud_file import iter_pointclouds

    mine = {event.event: event for event in iter_pointclouds(ours)}
    stats = {"events": 0, "points": 0, "shape_mismatches": 0, "bit_identical_events": 0}
    worst = np.zeros(8)
    attribute_mismatches = 0
    for event in iter_pointclouds(theirs):
        other = mine.get(event.event)
        if other is None or other.cloud.shape != event.cloud.shape:
            stats["shape_mismatches"] += 1
            continue
        stats["events"] += 1
        stats["points"] += len(event.cloud)
        if np.array_equal(other.cloud, event.cloud):
            stats["bit_identical_events"] += 1
        elif len(event.cloud):
            worst = np.maximum(worst, np.abs(other.cloud - event.cloud).max(axis=0))
        attribute_mismatches += sum(
            bool(other.attributes.get(key) != value) for key, value in event.attributes.items()
        )
    stats["max_abs_difference_by_column"] = worst.tolist()
    stats["attribute_mismatches"] = attribute_mismatches
    stats["events_only_ours"] = sorted(set(mine) - {e.event for e in iter_pointclouds(theirs)})
    return stats


def spyral_python() -> str | None:
    candidate = os.environ.get("SPYRAL_PYTHON", "/opt/spyral-venv/bin/python")
    return candidate if Path(candidate).is_file() else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--traces", type=int, default=2000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/spyralflow_bench_pointcloud"))
    parser.add_argument("--trace", type=Path, default=None, help="use this trace file for N")
    parser.add_argument("--skip-spyral", action="store_true")
    arguments = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from pointcloud_make_traces import make_trace_file

    workdir = arguments.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    tcorr = make_tcorr(workdir / "tcorr.csv")
    files = {}
    for label, events in (("N", arguments.events), ("2N", 2 * arguments.events)):
        path = workdir / f"{label}_{events}x{arguments.traces}" / f"run_{RUN:04d}.h5"
        if label == "N" and arguments.trace is not None:
            path = arguments.trace
        elif not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            make_trace_file(path, events, arguments.traces)
        files[label] = path
    n_events = event_count(files["N"])
    size_mb = files["N"].stat().st_size / 1e6
    print(f"trace file N: {files['N']} ({n_events} events, {size_mb:.0f} MB)")

    read = run_child(["--child-read", str(files["N"])])
    # A first run fills numba's on-disk cache if the code changed; the next one is what jobs see.
    # The cache lives in the work folder, so nothing else cleaning __pycache__ folders interferes.
    cache = {"NUMBA_CACHE_DIR": str(workdir / "numba_cache")}
    run_child(["--child-ours", str(files["N"]), str(workdir / "ws_warmup"), str(tcorr)], **cache)
    ours = run_child(
        ["--child-ours", str(files["N"]), str(workdir / "ws_ours"), str(tcorr)], **cache
    )
    with tempfile.TemporaryDirectory() as empty_cache:
        cold = run_child(
            ["--child-ours", str(files["N"]), str(workdir / "ws_cold"), str(tcorr)],
            NUMBA_CACHE_DIR=empty_cache,
        )
    double = run_child(
        ["--child-ours", str(files["2N"]), str(workdir / "ws_2n"), str(tcorr)], **cache
    )
    double_events = event_count(files["2N"])
    threaded = run_child(
        ["--child-ours", str(files["N"]), str(workdir / "ws_threads"), str(tcorr)],
        SPYRALFLOW_THREADS="2",
        **cache,
    )

    rows = [
        ("h5py read only", n_events, read),
        ("ours (numba cache warm)", n_events, ours),
        ("ours, 2N events", double_events, double),
        ("ours, 2 threads", n_events, threaded),
    ]
    spyral_report = None
    python = spyral_python()
    if not arguments.skip_spyral and python is not None:
        completed = subprocess.run(
            [
                python,
                str(SPYRAL_DRIVER),
                str(files["N"]),
                str(RUN),
                str(workdir / "ws_spyral"),
                "--seed",
                str(SEED),
                "--pad-time-path",
                str(tcorr),
            ],
            capture_output=True,
            text=True,
            env=child_environment(),
            check=False,
        )
        if completed.returncode != 0:
            print(f"Spyral failed:\n{completed.stderr[-3000:]}")
        else:
            spyral_report = json.loads(completed.stdout.strip().splitlines()[-1])
    print()
    print(
        f"{'run':26s} {'events':>6s} {'wall s':>7s} {'events/s':>9s} {'CPU s':>7s} "
        f"{'events/CPU s':>12s} {'peak RSS MB':>11s}"
    )
    for label, events, report in rows:
        wall, cpu = report["seconds"], report["cpu_seconds"]
        print(
            f"{label:26s} {events:6d} {wall:7.2f} {events / wall:9.1f} {cpu:7.2f} "
            f"{events / cpu:12.1f} {report['rss_mb']:11.0f}"
        )
    ours_rate = n_events / ours["seconds"]
    ours_cpu_rate = n_events / ours["cpu_seconds"]
    read_rate = n_events / read["seconds"]
    print()
    startup = ours["startup_seconds"]
    print(f"ours: process start-up (imports, pad map, numba cache load) {startup:.2f} s")
    print(
        f"ours with an empty numba cache: {cold['seconds']:.2f} s for the run "
        f"({cold['seconds'] - ours['seconds']:.1f} s of compilation, paid once per code change)"
    )
    print(
        f"ours / h5py read: {ours['seconds'] / read['seconds']:.2f}x the read time "
        f"({ours_rate / read_rate:.2f} of the read rate)"
    )
    print(
        f"ours with 2 threads (SPYRALFLOW_THREADS=2): {ours['seconds'] / threaded['seconds']:.2f}x "
        f"the speed of one thread, {threaded['seconds'] / read['seconds']:.2f}x the read time"
    )
    ours_steady, threads_steady = ours["steady_seconds"], threaded["steady_seconds"]
    print(
        f"steady state (the same events again in the same process): {ours_steady:.2f} s wall, "
        f"{ours['steady_cpu_seconds']:.2f} s CPU, {1e3 * ours_steady / n_events:.1f} ms per event, "
        f"{ours_steady / read['seconds']:.1f}x the read time; 2 threads {threads_steady:.2f} s "
        f"({ours_steady / threads_steady:.2f}x one thread, {threads_steady / read['seconds']:.1f}x "
        f"the read time); a job's fixed part {ours['seconds'] - ours_steady:.2f} s"
    )
    print(
        f"peak RSS: {ours['rss_mb']:.0f} MB for {n_events} events, {double['rss_mb']:.0f} MB for "
        f"{double_events} events (ratio {double['rss_mb'] / ours['rss_mb']:.2f})"
    )
    if spyral_report is not None:
        processed = n_events - 1  # Spyral skips the last event of merger files
        overall, steady = spyral_rates(spyral_report, processed)
        print()
        spyral_cpu_rate = processed / spyral_report["cpu_seconds"]
        print(
            f"Spyral: {processed} events in {spyral_report['seconds']:.2f} s wall = "
            f"{overall:.2f} events/s (numba compilation included), {steady:.2f} events/s "
            f"after compilation; {spyral_cpu_rate:.2f} events per CPU second; peak RSS "
            f"{spyral_report['peak_rss_mb']:.0f} MB"
        )
        print(
            f"speed-up per core: {ours_rate / overall:.1f}x (wall, with Spyral's compilation), "
            f"{ours_rate / steady:.1f}x (wall, against Spyral after compilation), "
            f"{ours_cpu_rate / spyral_cpu_rate:.1f}x (CPU time, compilation included); "
            f"steady state against Spyral after compilation "
            f"{n_events / ours['steady_seconds'] / steady:.1f}x"
        )
        comparison = compare_clouds(Path(ours["pointcloud"]), Path(spyral_report["pointcloud"]))
        print(f"clouds compared: {json.dumps(comparison)}")
    elif not arguments.skip_spyral:
        print("Spyral's Python is not available (SPYRAL_PYTHON); no comparison")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child-read":
        print(json.dumps(child_read(Path(sys.argv[2]))))
    elif len(sys.argv) > 1 and sys.argv[1] == "--child-ours":
        print(json.dumps(child_ours(Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]))))
    else:
        main()
