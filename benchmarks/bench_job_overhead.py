"""The fixed cost of one phase job: ``spyralflow run-phase`` on a tiny run, as the rules call it.

For the Pointcloud and Cluster phases of ``config/config.yaml``, on a run of a few small events
(so that the work is negligible and what is left is the job's own cost), each job in a fresh
process and a fresh workspace:

- ``warm``: the machine-wide numba cache of the code hash is filled (every job but the first
  of a code version, in any workspace);
- ``empty cache``: an empty numba cache, which is what every job of a fresh workspace paid when
  the cache lived in the workspace (each parallel job compiling every kernel at once).

Baseline, in the same run: ``python -c pass`` and the numba floor, ``import numba`` plus one
cached kernel call with numba's extension entry points skipped as a phase job skips them (with
them, vector's sympy and rocket_fft's scipy.fft add about 2 s here). Wall and CPU seconds are
medians of ``--repeat`` jobs (CPU: the child's user + sys).

Usage: nice -n 15 python benchmarks/bench_job_overhead.py [--repeat 3] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY / "benchmarks"))

RUN = "0001"
EVENTS = 3
TRACES = 300
NUMBA_FLOOR = (
    "import numba\n"
    "from numba.core import entrypoints\n"
    "entrypoints._already_initialized = True  # as kernels.skip_numba_extensions\n"
    "@numba.njit(cache=True)\n"
    "def f(x):\n"
    "    return x + 1\n"
    "f(1)\n"
)
FLOOR_LABEL = "numba floor (1 cached kernel)"


def timed(command: list[str], environment: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(wall s, CPU s) of one child process; fails loudly if it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run(
        command, cwd=cwd, env=environment, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        raise RuntimeError(f"{command[:3]} failed:\n{completed.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def phase_command(spec, code: str, workspace: Path, incoming: dict, outputs: dict) -> list[str]:
    """The ``run-phase`` command line the generated per-run rule gives."""
    command = [
        "spyralflow", "run-phase", "--phase-class", spec.class_path,
        "--parameters", spec.parameters_json, "--code-hash", code,
        "--workspace", str(workspace), "--seed", "1", "--threads", "1", "--run", RUN,
    ]  # fmt: skip
    command += [f"--incoming={key}={path}" for key, path in incoming.items()]
    command += [f"--output={key}={path}" for key, path in outputs.items()]
    return command


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/spyralflow_bench_job"))
    arguments = parser.parse_args()
    from pointcloud_make_traces import make_trace_file

    from spyralflow.framework.codehash import code_hash
    from spyralflow.framework.config import load_config

    config = load_config(
        REPOSITORY / "config/config.yaml", REPOSITORY / "workflow/schemas/config.schema.yaml"
    )
    specs = {spec.class_path.rpartition(".")[2]: spec for spec in config.phases}
    workdir = arguments.workdir
    shutil.rmtree(workdir, ignore_errors=True)
    trace = make_trace_file(workdir / "traces" / f"run_{RUN}.h5", EVENTS, TRACES)
    environment = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    environment["SPYRALFLOW_CACHE_DIR"] = str(workdir / "shared_cache")

    def jobs(workspace: Path) -> dict[str, list[str]]:
        cloud = workspace / "Pointcloud" / f"run_{RUN}"
        clouds = {
            "pointcloud": f"{cloud}.h5",
            "scaler": f"{cloud}_scaler.parquet",
            "gated_ic_scaler": f"{cloud}_gated_ic_scaler.txt",
        }
        return {
            "Pointcloud": phase_command(
                specs["PointcloudPhase"], code_hash("spyralflow.phases.pointcloud"), workspace,
                {"trace": trace}, clouds,
            ),
            "Cluster": phase_command(
                specs["ClusterPhase"], code_hash("spyralflow.phases.cluster"), workspace,
                clouds, {"cluster": workspace / "Cluster" / f"run_{RUN}.h5"},
            ),
        }  # fmt: skip

    floor = workdir / "numba_floor.py"
    floor.write_text(NUMBA_FLOOR)
    floor_command = [sys.executable, str(floor)]
    timed(floor_command, environment, workdir)
    for command in jobs(workdir / "ws_fill").values():
        timed(command, environment, workdir)
    samples: dict[str, list[tuple[float, float]]] = {}
    for repeat in range(arguments.repeat):
        samples.setdefault("python -c pass", []).append(
            timed([sys.executable, "-c", "pass"], environment, workdir)
        )
        samples.setdefault(FLOOR_LABEL, []).append(timed(floor_command, environment, workdir))
        for phase, command in jobs(workdir / f"ws_warm_{repeat}").items():
            samples.setdefault(f"{phase} job, warm", []).append(
                timed(command, environment, workdir)
            )
        empty = dict(environment, SPYRALFLOW_CACHE_DIR=str(workdir / f"empty_{repeat}"))
        for phase, command in jobs(workdir / f"ws_empty_{repeat}").items():
            samples.setdefault(f"{phase} job, empty cache", []).append(
                timed(command, empty, workdir)
            )
    base_cpu = statistics.median(cpu for _, cpu in samples["python -c pass"])
    floor_cpu = statistics.median(cpu for _, cpu in samples[FLOOR_LABEL])
    print(f"{EVENTS} events x {TRACES} traces, median of {arguments.repeat}, niceness {os.nice(0)}")
    columns = f"{'wall s':>7s} {'CPU s':>6s} {'CPU / python':>12s} {'CPU - floor':>11s}"
    print(f"{'process':36s} {columns}")
    for label, values in samples.items():
        wall = statistics.median(value[0] for value in values)
        cpu = statistics.median(value[1] for value in values)
        print(f"{label:36s} {wall:7.2f} {cpu:6.2f} {cpu / base_cpu:12.1f} {cpu - floor_cpu:+11.2f}")


if __name__ == "__main__":
    main()
