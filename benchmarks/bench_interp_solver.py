"""Benchmark of the InterpSolver phase against attpc_spyral 1.1.2 on simulated deuterons.

What it measures (printed; nothing is asserted):
- mesh build: wall time and size of our mesh (all usable cores, and one) and of Spyral's, with
  the same mesh parameters;
- fits per second per core (fits / CPU seconds of the phase's ``run``), ours and Spyral's, on
  the same estimation rows, and their ratio (target >= 3);
- quality against the simulation truth: bias (median) and robust resolution (1.4826 MAD) of
  polar angle, vertex z and kinetic energy, for the Estimation phase (the fit's start), our fit
  and Spyral's fit;
- the fit methods on the same rows: fits per second per core and quality of ``lbfgsb``,
  ``leastsq`` and the shipped ``leastsq`` with ``leastsq_trim`` 3, against ``lbfgsb``;
- memory: peak RSS and proportional set size (PSS) of 1 and of 2 concurrent solver jobs run
  through the real command line (``spyralflow run-phase``) on a memory-mapped mesh, and how much
  of the mesh file each job has resident (RSS) versus its share (PSS): with a shared page cache
  the mesh's PSS halves when two jobs map it.

The input is ``interp_sample.py``'s simulated 16C(d,d') sample (attpc_engine, deuterons only,
clustered by truth, estimated by spyralflow's Estimation phase), generated on the first use.

Usage: python benchmarks/bench_interp_solver.py [--events 600] [--spyral-rows 120]
       [--method lbfgsb|leastsq] [--memory-mesh readme|bench] [--beam-sigma 10] [--skip-spyral]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from interp_sample import DEFAULT_OUTPUT, make_sample

REPOSITORY = Path(__file__).resolve().parents[1]
GAS = REPOSITORY / "config" / "targets" / "d2_300torr.json"
PID = REPOSITORY / "config" / "targets" / "deuteron_pid.json"
SPYRAL_PYTHON = os.environ.get("SPYRAL_PYTHON", "/opt/spyral-venv/bin/python")
DEUTERON_MASS_MEV = 1875.61294
# The recommended shipped mesh: 16C(d,d') deuterons reach 73 MeV at forward angles.
BENCH_MESH = {
    "n_time_steps": 400,
    "interp_ke_min": 0.1,
    "interp_ke_max": 75.0,
    "interp_ke_bins": 150,
    "interp_polar_min": 2.0,
    "interp_polar_max": 88.0,
    "interp_polar_bins": 45,
}
# Spyral's README mesh (350 x 166 x 1000): 0.7 GB here in float32, 1.4 GB in Spyral's float64.
README_MESH = {
    "n_time_steps": 1000,
    "interp_ke_min": 0.1,
    "interp_ke_max": 70.0,
    "interp_ke_bins": 350,
    "interp_polar_min": 2.0,
    "interp_polar_max": 88.0,
    "interp_polar_bins": 166,
}
SINGLE_THREAD_ENV = {
    name: "1"
    for name in (
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "VECLIB_MAXIMUM_THREADS",
        "NUMEXPR_NUM_THREADS",
        "POLARS_MAX_THREADS",
    )
}


# (label, fit_method, leastsq_trim): lbfgsb first, the baseline of the ratios.
FIT_VARIANTS = (
    ("lbfgsb", "lbfgsb", None),
    ("leastsq", "leastsq", None),
    ("leastsq, trim 3 (shipped)", "leastsq", 3.0),
)


def solver_parameters(
    mesh: dict, method: str, beam_sigma: float | None = None, trim: float | None = None
):
    from spyralflow.phases.interp_solver import SolverParameters

    return SolverParameters(
        gas_data_path=GAS,
        particle_id_filename=PID,
        ic_min_val=None,
        ic_max_val=None,
        fit_method=method,
        beam_sigma=beam_sigma,
        leastsq_trim=trim,
        **mesh,
    )


def phase_of(mesh: dict, method: str, beam_sigma: float | None = None, trim: float | None = None):
    from spyralflow.phases.detector import DetectorParameters
    from spyralflow.phases.interp_solver import InterpSolverPhase

    parameters = solver_parameters(mesh, method, beam_sigma, trim)
    return InterpSolverPhase(parameters, DetectorParameters())


def build_our_mesh(mesh: dict, workspace: Path, threads: int) -> tuple[float, int]:
    """Wall seconds and bytes of a fresh build in ``workspace`` with ``threads`` threads."""
    phase = phase_of(mesh, "lbfgsb")
    files = phase.mesh_files(workspace)
    for path in (files.positions, files.lengths, files.metadata):
        path.unlink(missing_ok=True)
    os.environ["SPYRALFLOW_THREADS"] = str(threads)
    try:
        started = time.perf_counter()
        phase.create_assets(workspace)
        elapsed = time.perf_counter() - started
    finally:
        del os.environ["SPYRALFLOW_THREADS"]
    return elapsed, files.positions.stat().st_size


def run_ours(
    mesh: dict,
    method: str,
    workspace: Path,
    artifacts: dict,
    beam_sigma: float | None = None,
    trim: float | None = None,
) -> tuple[dict, Path]:
    """Our phase's run in this process: CPU and wall seconds, and its output."""
    from spyralflow.framework.phase import PhaseResult
    from spyralflow.framework.status import ProgressLog

    phase = phase_of(mesh, method, beam_sigma, trim)
    payload = PhaseResult(artifacts=artifacts, successful=True, run_number=0)
    wall, cpu = time.perf_counter(), time.process_time()
    result = phase.run(
        payload, workspace, ProgressLog(min_interval_s=3600), np.random.default_rng(0)
    )
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    output = Path(result.artifacts["interp_solver"])
    return {"fit_cpu_s": cpu, "fit_wall_s": wall, "fits": pl.read_parquet(output).height}, output


def run_spyral(mesh: dict, method: str, workspace: Path, artifacts: dict) -> dict | None:
    """Spyral's InterpSolverPhase through its own interpreter; None if it is unavailable."""
    if not Path(SPYRAL_PYTHON).exists():
        print(f"Spyral skipped: no interpreter at {SPYRAL_PYTHON} (set SPYRAL_PYTHON)")
        return None
    command = [
        SPYRAL_PYTHON,
        str(REPOSITORY / "benchmarks" / "interp_spyral_driver.py"),
        "--workspace",
        str(workspace),
        "--estimation",
        str(artifacts["estimation"]),
        "--cluster",
        str(artifacts["cluster"]),
        "--gas",
        str(GAS),
        "--pid",
        str(PID),
        "--mesh",
        json.dumps({**mesh, "fit_method": method}),
    ]
    completed = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, **SINGLE_THREAD_ENV}
    )
    if completed.returncode != 0:
        print(f"Spyral failed ({completed.returncode}):\n{completed.stderr[-3000:]}")
        return None
    return json.loads(completed.stdout.strip().splitlines()[-1])


def gated_subset(estimation: Path, rows: int, destination: Path) -> Path:
    """The first ``rows`` estimation rows inside the deuteron gate, as a parquet file."""
    import pyarrow.parquet as pq

    from spyralflow.phases.interp_solver.gating import read_estimation_rows, select_rows
    from spyralflow.phases.interp_solver.targets import load_particle_gate

    table, _ = select_rows(
        read_estimation_rows(estimation), load_particle_gate(PID), None, None, estimation
    )
    pq.write_table(table.slice(0, rows), destination)
    return destination


def kinetic_energy(brho: np.ndarray) -> np.ndarray:
    momentum = np.asarray(brho) * 299.792458
    return np.sqrt(momentum**2 + DEUTERON_MASS_MEV**2) - DEUTERON_MASS_MEV


def robust(values: np.ndarray) -> tuple[float, float]:
    median = float(np.median(values))
    return median, float(1.4826 * np.median(np.abs(values - median)))


def residuals(frame: pl.DataFrame, truth: pl.DataFrame, vertex_in_m: bool) -> dict[str, np.ndarray]:
    """reco - truth: polar (deg), vertex z (mm), kinetic energy (% of truth)."""
    joined = frame.join(true_values(truth), on="event")
    scale = 1000.0 if vertex_in_m else 1.0
    energy = joined["ke"].to_numpy() if "ke" in frame.columns else kinetic_energy(joined["brho"])
    true_energy = joined["true_ke"].to_numpy()
    return {
        "polar [deg]": np.degrees((joined["polar"] - joined["true_polar"]).to_numpy()),
        "vertex z [mm]": (joined["vertex_z"] * scale - joined["true_vertex_z"]).to_numpy(),
        "KE [%]": 100.0 * (energy - true_energy) / true_energy,
    }


def true_values(truth: pl.DataFrame) -> pl.DataFrame:
    """The truth columns renamed ``true_<name>`` (the event number kept)."""
    return truth.rename({name: f"true_{name}" for name in truth.columns if name != "event"})


def quality_rows(label: str, frame: pl.DataFrame, truth: pl.DataFrame, vertex_in_m: bool):
    for quantity, values in residuals(frame, truth, vertex_in_m).items():
        bias, resolution = robust(values)
        yield (
            f"{label:<26} {quantity:<14} {len(values):>5} {bias:>+9.3f} {resolution:>9.3f}"
            f" {values.std():>9.3f}"
        )


def pull_widths(frame: pl.DataFrame, truth: pl.DataFrame) -> str:
    """Robust width of (fit - truth) / sigma for polar, vertex z and KE: 1 if sigmas are right."""
    joined = frame.join(true_values(truth), on="event")
    pulls = {
        "polar": (joined["polar"] - joined["true_polar"]) / joined["sigma_polar"],
        "vertex z": (joined["vertex_z"] * 1000 - joined["true_vertex_z"])
        / (joined["sigma_vz"] * 1000),
        "KE": (joined["ke"] - joined["true_ke"]) / joined["sigma_ke"],
    }
    return ", ".join(f"{name} {robust(values.to_numpy())[1]:.2f}" for name, values in pulls.items())


def memory_probe(pid: int, mesh_path: str) -> dict[str, float]:
    """RSS and PSS of a process, and of its mapping of the mesh file, in MB (now)."""
    found = {"rss": 0.0, "pss": 0.0, "mesh_rss": 0.0, "mesh_pss": 0.0}
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        smaps = Path(f"/proc/{pid}/smaps").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return found
    for line in rollup.splitlines():
        fields = line.split()
        if fields and fields[0] in ("Rss:", "Pss:"):
            found[fields[0][:-1].lower()] = float(fields[1]) / 1024.0
    in_mesh = False
    for line in smaps.splitlines():
        fields = line.split()
        if fields and "-" in fields[0] and not fields[0].endswith(":"):
            in_mesh = fields[-1] == mesh_path
        elif in_mesh and fields[0] == "Rss:":
            found["mesh_rss"] += float(fields[1]) / 1024.0
        elif in_mesh and fields[0] == "Pss:":
            found["mesh_pss"] += float(fields[1]) / 1024.0
    return found


def concurrent_jobs(mesh: dict, method: str, workspace: Path, sample: dict, count: int) -> dict:
    """``count`` solver jobs at once through ``spyralflow run-phase``.

    Returns the peak RSS of each job (MB) and, at the moment all of them ran with the most mesh
    pages mapped, their summed RSS, PSS, mesh-mapping RSS and mesh-mapping PSS (MB).
    """
    phase = phase_of(mesh, method)
    mesh_path = str(phase.mesh_files(workspace).positions.resolve())
    parameters = json.loads(json.dumps(asdict(phase.solver_params), default=str))
    processes = []
    for job in range(count):
        run = job + 1
        inputs = workspace / "inputs"
        inputs.mkdir(exist_ok=True)
        for key, suffix in (("estimation", ".parquet"), ("cluster", ".h5")):
            link = inputs / f"run_{run:04d}{suffix}"
            if not link.exists():
                link.symlink_to(sample[key])
        output = workspace / "InterpSolver" / f"run_{run:04d}_2H.parquet"
        command = [
            "spyralflow",
            "run-phase",
            "--phase-class",
            "spyralflow.phases.interp_solver.InterpSolverPhase",
            "--parameters",
            json.dumps({"solver_params": parameters, "det_params": {}}),
            "--workspace",
            str(workspace),
            "--run",
            str(run),
            "--incoming",
            f"estimation={inputs / f'run_{run:04d}.parquet'}",
            "--incoming",
            f"cluster={inputs / f'run_{run:04d}.h5'}",
            "--output",
            f"interp_solver={output}",
        ]
        log = (workspace / f"job_{run}.log").open("w")
        processes.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT))
    # The moment all jobs run together with the most mesh pages mapped (summed over the jobs).
    together = {"rss": 0.0, "pss": 0.0, "mesh_rss": 0.0, "mesh_pss": 0.0}
    running = set(range(count))
    peak_rss = [0.0] * count
    while running:
        snapshot = [memory_probe(processes[index].pid, mesh_path) for index in sorted(running)]
        if len(snapshot) == count:
            summed = {key: sum(values[key] for values in snapshot) for key in together}
            if summed["mesh_rss"] >= together["mesh_rss"]:
                together = summed
        for index in list(running):
            waited, status, usage = os.wait4(processes[index].pid, os.WNOHANG)
            if waited:
                running.discard(index)
                if status != 0:
                    log = (workspace / f"job_{index + 1}.log").read_text()
                    raise RuntimeError(f"solver job {index} failed:\n{log[-3000:]}")
                peak_rss[index] = usage.ru_maxrss / 1024.0
        time.sleep(0.05)
    return {"peak_rss_mb": peak_rss, **together}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=600)
    parser.add_argument("--sample", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--spyral-rows", type=int, default=120)
    parser.add_argument("--method", choices=("lbfgsb", "leastsq"), default="lbfgsb")
    parser.add_argument("--memory-mesh", choices=("readme", "bench"), default="readme")
    parser.add_argument("--skip-spyral", action="store_true")
    parser.add_argument(
        "--beam-sigma", type=float, default=10.0, help="beam prior (mm) of the extra quality run"
    )
    args = parser.parse_args()

    sample = make_sample(args.sample, args.events, seed=20260211)
    truth = pl.read_parquet(sample["truth"])
    scratch = Path(tempfile.mkdtemp(prefix="bench_interp_"))
    cores = len(os.sched_getaffinity(0))
    print(f"sample: {args.sample} ({truth.height} events); scratch {scratch}; {cores} cores")
    mesh = BENCH_MESH
    print(f"mesh: {mesh}, fit method {args.method}")

    ours = scratch / "ours"
    # Warm-up: loads (or compiles) the kernels, so the timed builds measure the build.
    build_our_mesh(
        {**mesh, "n_time_steps": 8, "interp_ke_bins": 3, "interp_polar_bins": 3}, ours, 1
    )
    build_all, size = build_our_mesh(mesh, ours, cores)
    build_one, _ = build_our_mesh(mesh, ours, 1)
    print(
        f"our mesh: {size / 1e6:.1f} MB, built in {build_all:.2f} s on {cores} threads, "
        f"{build_one:.2f} s on 1"
    )

    artifacts = {"estimation": sample["estimation"], "cluster": sample["cluster"]}
    subset = {
        **artifacts,
        "estimation": gated_subset(
            sample["estimation"], args.spyral_rows, scratch / "subset.parquet"
        ),
    }
    run_ours(mesh, args.method, ours, subset)  # warm-up
    full, full_output = run_ours(mesh, args.method, ours, artifacts)
    full_output = Path(shutil.copy(full_output, scratch / "ours_all_rows.parquet"))
    _, prior_output = run_ours(mesh, args.method, ours, artifacts, args.beam_sigma)
    prior_output = Path(shutil.copy(prior_output, scratch / "ours_beam_prior.parquet"))
    ours_subset, subset_output = run_ours(mesh, args.method, ours, subset)
    our_rate = ours_subset["fits"] / ours_subset["fit_cpu_s"]
    print(
        f"ours, all rows: {full['fits']} fits, {full['fit_cpu_s']:.2f} s CPU "
        f"({full['fits'] / full['fit_cpu_s']:.1f} fits/s/core), {full['fit_wall_s']:.2f} s wall"
    )
    print(
        f"ours, subset:   {ours_subset['fits']} fits, {ours_subset['fit_cpu_s']:.2f} s CPU "
        f"({our_rate:.1f} fits/s/core)"
    )

    spyral = None if args.skip_spyral else run_spyral(mesh, args.method, scratch / "spyral", subset)
    if spyral is not None:
        spyral_rate = spyral["fits"] / spyral["fit_cpu_s"]
        print(
            f"Spyral mesh: {spyral['mesh_bytes'] / 1e6:.1f} MB, built in "
            f"{spyral['mesh_build_s']:.1f} s (serial)"
        )
        print(
            f"Spyral, subset: {spyral['fits']} fits, {spyral['fit_cpu_s']:.1f} s CPU "
            f"({spyral_rate:.2f} fits/s/core), {spyral['fit_wall_s']:.1f} s wall, "
            f"peak RSS {spyral['peak_rss_mb']:.0f} MB"
        )
        print(f"fits/s per core, ours / Spyral: {our_rate / spyral_rate:.1f}x (target >= 3x)")
        print(
            f"mesh build, Spyral / ours ({cores} threads): "
            f"{spyral['mesh_build_s'] / build_all:.0f}x"
        )

    print("\nquality vs truth              quantity           N      bias  robust-s       std")
    estimation = pl.read_parquet(sample["estimation"])
    fitted_events = pl.read_parquet(full_output).select("event")
    for line in quality_rows(
        "estimation (fitted rows)", estimation.join(fitted_events, on="event"), truth, False
    ):
        print(line)
    for line in quality_rows("ours, all rows", pl.read_parquet(full_output), truth, True):
        print(line)
    print(f"  ours, all rows: pull widths {pull_widths(pl.read_parquet(full_output), truth)}")
    label = f"ours, beam prior {args.beam_sigma:g} mm"
    for line in quality_rows(label, pl.read_parquet(prior_output), truth, True):
        print(line)
    subset_events = pl.read_parquet(subset_output).select("event")
    for line in quality_rows(
        "estimation (subset)", estimation.join(subset_events, on="event"), truth, False
    ):
        print(line)
    for line in quality_rows("ours, subset", pl.read_parquet(subset_output), truth, True):
        print(line)
    if spyral is not None and spyral["output"]:
        for line in quality_rows("Spyral, subset", pl.read_parquet(spyral["output"]), truth, True):
            print(line)

    print(f"\nfit methods on all rows, beam prior {args.beam_sigma:g} mm (same estimates)")
    baseline = None
    for label, method, trim in FIT_VARIANTS:
        timing, output = run_ours(mesh, method, ours, artifacts, args.beam_sigma, trim)
        rate = timing["fits"] / timing["fit_cpu_s"]
        baseline = baseline or rate
        print(f"  {label}: {rate:.1f} fits/s/core, {rate / baseline:.2f}x lbfgsb's")
        for line in quality_rows(label, pl.read_parquet(output), truth, True):
            print(line)

    memory_mesh = README_MESH if args.memory_mesh == "readme" else BENCH_MESH
    memory_space = scratch / "memory"
    seconds, size = build_our_mesh(memory_mesh, memory_space, cores)
    print(f"\nmemory test mesh ({args.memory_mesh}): {size / 1e6:.0f} MB, built in {seconds:.1f} s")
    for count in (1, 2):
        jobs = concurrent_jobs(memory_mesh, args.method, memory_space, sample, count)
        peaks = ", ".join(f"{value:.0f}" for value in jobs["peak_rss_mb"])
        print(
            f"{count} concurrent job(s): peak RSS {peaks} MB; all running, summed: RSS "
            f"{jobs['rss']:.0f} MB, PSS {jobs['pss']:.0f} MB; mesh pages resident "
            f"{jobs['mesh_rss']:.0f} MB (RSS) but in memory once: {jobs['mesh_pss']:.0f} MB (PSS)"
        )
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
