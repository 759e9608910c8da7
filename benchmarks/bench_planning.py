"""Planning speed: ``snakemake -n`` of the shipped pipeline over many runs, against Snakemake's
floor for plain jobs.

For ``--runs`` run files (empty stand-ins: planning never opens them), the shipped config's
phases analyse ``input_folder`` (no simulation, no summary). Timed, each in a fresh process:

- ``spyralflow, rules cached``: a dry-run when the generated rules are already in
  ``.spyralflow/`` (every invocation but the first after a config edit, and every cluster job);
- ``spyralflow, rules generated``: the first dry-run after a config edit (the generator builds
  the phases, hashes their code and writes the rules);
- baseline, ``plain Snakefile``: the same number of per-run jobs in a chain of plain rules (one
  input, one output, one shell command each), what Snakemake costs with nothing of ours.

Prints wall seconds, milliseconds per job and the ratio to the baseline (median of --repeat).

Usage: nice -n 15 python benchmarks/bench_planning.py [--runs 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import yaml
from workflow_copy import copy_workflow, shipped_config


def plain_snakefile(phases: int) -> str:
    """A chain of ``phases`` plain per-run rules plus a target rule."""
    rules = ["RUNS = config['runs']", "", "rule all:", "    input:"]
    rules.append(f"        expand('out/p{phases - 1}/run_{{run}}.txt', run=RUNS),")
    for index in range(phases):
        source = "inputs/run_{run}.h5" if index == 0 else f"out/p{index - 1}/run_{{run}}.txt"
        rules += [
            "",
            f"rule p{index}:",
            f"    input: '{source}'",
            f"    output: 'out/p{index}/run_{{run}}.txt'",
            "    shell: 'cp {input} {output}'",
        ]
    return "\n".join(rules) + "\n"


def dry_run(folder: Path, extra: list[str]) -> tuple[float, int]:
    """Wall seconds of one ``snakemake -n`` in ``folder`` and the number of jobs it planned."""
    started = time.perf_counter()
    done = subprocess.run(
        ["snakemake", "-n", "--quiet", "rules", "--cores", "2", *extra],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"snakemake -n failed in {folder}:\n{done.stdout}\n{done.stderr}")
    match = re.search(r"^total\s+(\d+)", done.stdout, re.M)
    return seconds, int(match.group(1)) if match else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        inputs = root / "inputs"
        inputs.mkdir()
        for run in range(1, arguments.runs + 1):
            (inputs / f"run_{run:04d}.h5").write_bytes(b"\0" * 16)
        config = shipped_config()
        config.update(input_folder=str(inputs), simulation={"enabled": False})
        config["summary"] = {"enabled": False}
        config["runs"] = {"first": 1, "last": arguments.runs}
        ours = copy_workflow(root / "spyralflow", config)
        phases = len(config["phases"])
        plain = root / "plain"
        plain.mkdir()
        (plain / "Snakefile").write_text(plain_snakefile(phases))
        (plain / "inputs").symlink_to(inputs)
        runs = [f"{run:04d}" for run in range(1, arguments.runs + 1)]
        (plain / "config.yaml").write_text(yaml.safe_dump({"runs": runs}))

        timings: dict[str, list[float]] = {}
        jobs: dict[str, int] = {}
        for _ in range(arguments.repeat):
            shutil.rmtree(ours / ".spyralflow", ignore_errors=True)
            for name, folder, extra in (
                ("spyralflow, rules generated", ours, []),
                ("spyralflow, rules cached", ours, []),
                ("plain Snakefile (baseline)", plain, ["--configfile", "config.yaml"]),
            ):
                seconds, count = dry_run(folder, extra)
                timings.setdefault(name, []).append(seconds)
                jobs[name] = count
    baseline = statistics.median(timings["plain Snakefile (baseline)"])
    print(f"snakemake -n, {arguments.runs} runs x {phases} phases, median of {arguments.repeat}")
    print(f"{'dry-run':34} {'jobs':>6} {'wall s':>7} {'ms/job':>7} {'x baseline':>10}")
    for name, values in timings.items():
        wall = statistics.median(values)
        per_job = 1000.0 * wall / max(jobs[name], 1)
        print(f"{name:34} {jobs[name]:6d} {wall:7.2f} {per_job:7.2f} {wall / baseline:10.2f}")


if __name__ == "__main__":
    main()
