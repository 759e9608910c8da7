"""The bad-input campaign of issue 12, measured: what each kind of damage gives.

Feeds the readers and phases (in-process) damaged files and parameter files and classifies each
case as the tests in ``tests/badinput`` do (``tests/badinput/fuzzing.py``): a documented error
naming the file, a run whose losses are all counted, or not clean (crash, hang, silent loss).

- targeted damages of a trace file (Pointcloud phase) and of a point-cloud file (Cluster then
  Estimation), the cases the issue lists;
- seeded random mutations of each (``--mutations``, default 250, seeds 7 and 8);
- damaged gas and particle-ID files, through the InterpSolver phase's constructor (plan time);
- broken configs (``tests/badinput/config_cases.py``), each through a real ``snakemake -n`` in a
  copy of the workflow: clean when Snakemake fails with a message that names the fault, without
  a Python traceback.

Prints the markdown tables of ``docs/bad-input.md`` and writes the outcomes to
``benchmarks/results/bad_input_campaign.json``.

Usage:
    nice -n 15 python benchmarks/bad_input_campaign.py
    nice -n 15 python benchmarks/bad_input_campaign.py --mutations 50
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY / "tests" / "badinput"))

import config_cases  # noqa: E402
import fuzzing  # noqa: E402
from workflow_copy import copy_workflow  # noqa: E402

from spyralflow.framework.loading import construct_phase  # noqa: E402
from spyralflow.framework.provenance import Provenance  # noqa: E402
from spyralflow.phases.interp_solver.targets import TargetFileError  # noqa: E402

RESULTS = REPOSITORY / "benchmarks" / "results" / "bad_input_campaign.json"


def _attribute(item: str, key: str, value: object) -> Callable[[h5py.File], None]:
    def damage(handle: h5py.File) -> None:
        handle[item].attrs[key] = value

    return damage


def _delete(item: str) -> Callable[[h5py.File], None]:
    def damage(handle: h5py.File) -> None:
        del handle[item]

    return damage


def _dataset(item: str, edit: Callable[[np.ndarray], np.ndarray]) -> Callable[[h5py.File], None]:
    def damage(handle: h5py.File) -> None:
        data = edit(handle[item][()])
        del handle[item]
        handle.create_dataset(item, data=data)

    return damage


def _set(values: dict[tuple[int, int], float], dtype=None) -> Callable[[np.ndarray], np.ndarray]:
    def edit(data: np.ndarray) -> np.ndarray:
        data = data.astype(dtype or data.dtype)
        for where, value in values.items():
            data[where] = value
        return data

    return edit


GET = "events/event_1/get_traces"
TRACE_DAMAGES: dict[str, Callable[[h5py.File], None]] = {
    "max_event 10**6": _attribute("events", "max_event", np.uint64(10**6)),
    "max_event 10**9": _attribute("events", "max_event", np.uint64(10**9)),
    "max_event 10**12": _attribute("events", "max_event", np.uint64(10**12)),
    "max_event 2**64-1": _attribute("events", "max_event", np.uint64(2**64 - 1)),
    "max_event inf": _attribute("events", "max_event", np.inf),
    "max_event nan": _attribute("events", "max_event", np.nan),
    "max_event 2.5": _attribute("events", "max_event", 2.5),
    "max_event 'three'": _attribute("events", "max_event", "three"),
    "min_event > max_event": _attribute("events", "min_event", np.uint64(9)),
    "narrowed range (min_event 2)": _attribute("events", "min_event", np.uint64(2)),
    "min_event bytes": _attribute("events", "min_event", b"0"),
    "version 'merger:9'": _attribute("events", "version", "merger:9"),
    "scaler max_event 10**12": _attribute("scalers", "max_event", np.uint64(10**12)),
    "scaler max_event inf": _attribute("scalers", "max_event", np.inf),
    "event group deleted": _delete("events/event_2"),
    "every event deleted": lambda handle: [
        handle.__delitem__(f"events/event_{n}") for n in range(fuzzing.TRACE_EVENTS)
    ],
    "GET dataset deleted": _delete(GET),
    "GET as bytes": _dataset(GET, lambda data: data.astype("S4")),
    "GET as complex": _dataset(GET, lambda data: data.astype(np.complex128)),
    "GET as float": _dataset(GET, lambda data: data.astype(np.float64)),
    "GET transposed": _dataset(GET, lambda data: np.ascontiguousarray(data.T)),
    "GET 1-D": _dataset(GET, lambda data: data.reshape(-1)),
    "pad id -7": _dataset(GET, _set({(0, 4): -7})),
    "pad id 20000": _dataset(GET, _set({(0, 4): 20000})),
    "sample 2**40": _dataset(GET, _set({(0, 100): 2**40}, np.int64)),
    "trigger as bytes": _dataset("events/event_1/frib_physics/977", lambda d: d.astype("S2")),
    "FRIB traces wrong shape": _dataset("events/event_1/frib_physics/1903", lambda d: d[:100]),
    "scaler as string": _dataset("scalers/event_0", lambda d: d.astype("S8")),
}
CLOUD = "cloud/cloud_1"
CLOUD_DAMAGES: dict[str, Callable[[h5py.File], None]] = {
    "NaN coordinates": _dataset(CLOUD, _set({(3, 0): np.nan, (40, 2): np.nan})),
    "+inf coordinates": _dataset(CLOUD, _set({(3, 1): np.inf})),
    "-inf coordinates": _dataset(CLOUD, _set({(3, 1): -np.inf})),
    "coordinate 1e292": _dataset(CLOUD, _set({(3, 0): 1e292})),
    "NaN integral": _dataset(CLOUD, _set({(5, 4): np.nan})),
    "every point NaN": _dataset(CLOUD, lambda data: np.full_like(data, np.nan)),
    "max_event 10**6": _attribute("cloud", "max_event", np.int64(10**6)),
    "max_event 10**12": _attribute("cloud", "max_event", np.int64(10**12)),
    "max_event 2**64-1": _attribute("cloud", "max_event", np.uint64(2**64 - 1)),
    "max_event inf": _attribute("cloud", "max_event", np.inf),
    "max_event 1.5": _attribute("cloud", "max_event", 1.5),
    "min_event > max_event": _attribute("cloud", "min_event", np.int64(7)),
    "narrowed range (max_event 0)": _attribute("cloud", "max_event", np.int64(0)),
    "range attribute deleted": lambda handle: handle["cloud"].attrs.__delitem__("min_event"),
    "cloud deleted": _delete(CLOUD),
    "cloud group deleted": _delete("cloud"),
    "cloud as bytes": _dataset(CLOUD, lambda data: data.astype("S8")),
    "cloud as complex": _dataset(CLOUD, lambda data: data.astype(np.complex128)),
    "cloud as strings": _dataset(CLOUD, lambda data: data.astype(str).astype(h5py.string_dtype())),
    "cloud (N, 7)": _dataset(CLOUD, lambda data: data[:, :7]),
    "cloud 1-D": _dataset(CLOUD, lambda data: data.reshape(-1)),
    "cloud empty": _dataset(CLOUD, lambda data: data[:0]),
    "orig_run 'abc'": _attribute(CLOUD, "orig_run", "abc"),
    "orig_event 2.5": _attribute(CLOUD, "orig_event", 2.5),
    "ic_amplitude nan": _attribute(CLOUD, "ic_amplitude", np.nan),
    "ic_integral bytes": _attribute(CLOUD, "ic_integral", b"x"),
}
GAS = {"compound": [[1, 2, 2]], "pressure(Torr)": 300.0}
GATE = {"name": "d", "Z": 1, "A": 2, "vertices": [[0, 0], [10, 0], [10, 3], [0, 3]]}
PARAMETER_DAMAGES: dict[str, tuple[str, object]] = {
    "gas file missing": ("gas_data_path", None),
    "gas not JSON": ("gas_data_path", "{compound"),
    "gas a list": ("gas_data_path", []),
    "gas pressure 'high'": ("gas_data_path", {**GAS, "pressure(Torr)": "high"}),
    "gas pressure -300": ("gas_data_path", {**GAS, "pressure(Torr)": -300.0}),
    "gas pressure 0": ("gas_data_path", {**GAS, "pressure(Torr)": 0.0}),
    "gas pressure inf": ("gas_data_path", {**GAS, "pressure(Torr)": "inf"}),
    "gas compound empty": ("gas_data_path", {**GAS, "compound": []}),
    "gas compound not triples": ("gas_data_path", {**GAS, "compound": [[1, 2]]}),
    "gas element Z=200 A=500": ("gas_data_path", {**GAS, "compound": [[200, 500, 1]]}),
    "gas 0 atoms": ("gas_data_path", {**GAS, "compound": [[1, 2, 0]]}),
    "gas solid target": ("gas_data_path", {"compound": [[6, 12, 1]], "thickness(ug/cm^2)": 5}),
    "mixture negative fraction": (
        "gas_data_path",
        {
            "components": [[[1, 2, 2]], [[1, 1, 2]]],
            "volume_fractions": [1.2, -0.2],
            **{"pressure(Torr)": 300.0},
        },
    ),
    "PID file missing": ("particle_id_filename", None),
    "PID lacks Z": ("particle_id_filename", {k: v for k, v in GATE.items() if k != "Z"}),
    "PID Z 'one'": ("particle_id_filename", {**GATE, "Z": "one"}),
    "PID Z=200 A=500": ("particle_id_filename", {**GATE, "Z": 200, "A": 500}),
    "PID two vertices": ("particle_id_filename", {**GATE, "vertices": [[0, 0], [1, 1]]}),
    "PID self-intersecting": (
        "particle_id_filename",
        {**GATE, "vertices": [[0, 0], [10, 3], [10, 0], [0, 3]]},
    ),
    "PID vertex NaN": ("particle_id_filename", {**GATE, "vertices": [[0, 0], [1, "nan"], [2, 0]]}),
    "PID vertices collinear": (
        "particle_id_filename",
        {**GATE, "vertices": [[0, 0], [1, 1], [2, 2]]},
    ),
}


def targeted(good: Path, damages: dict, make_action, folder: Path) -> list[fuzzing.Outcome]:
    baseline, _ = make_action(good)()
    outcomes = []
    for index, (name, damage) in enumerate(damages.items()):
        damaged = folder / f"run_{index + 1:04d}.h5"
        damaged.write_bytes(good.read_bytes())
        with h5py.File(damaged, "r+") as handle:
            damage(handle)
        outcomes.append(fuzzing.classify(name, make_action(damaged), baseline, damaged))
    return outcomes


def parameter_files(folder: Path) -> list[fuzzing.Outcome]:
    """Damaged gas and PID files through the InterpSolver's constructor (what plan time runs)."""
    good = {"gas_data_path": folder / "gas.json", "particle_id_filename": folder / "pid.json"}
    good["gas_data_path"].write_text(json.dumps(GAS))
    good["particle_id_filename"].write_text(json.dumps(GATE))
    outcomes = []
    for name, (key, content) in PARAMETER_DAMAGES.items():
        path = folder / "damaged.json"
        path.unlink(missing_ok=True)
        if content is not None:
            path.write_text(content if isinstance(content, str) else json.dumps(content))
        files = {**{k: str(v) for k, v in good.items()}, key: str(path)}
        started = time.perf_counter()
        try:
            construct_phase(
                "spyralflow.phases.interp_solver.InterpSolverPhase",
                {"solver_params": files, "det_params": {}},
            )
            outcome = fuzzing.Outcome(name, "silent loss", "accepted", 0.0)
        except TargetFileError as error:
            named = str(path) in str(error) and f"solver_params.{key}" in str(error)
            outcome = fuzzing.Outcome(name, "error" if named else "crash", str(error), 0.0)
        except Exception as error:
            outcome = fuzzing.Outcome(name, "crash", f"{type(error).__name__}: {error}", 0.0)
        outcome.seconds = time.perf_counter() - started
        outcomes.append(outcome)
    return outcomes


def broken_configs(folder: Path) -> list[fuzzing.Outcome]:
    """Every broken config of ``config_cases`` through ``snakemake -n`` in a workflow copy."""
    outcomes = []
    for index, case in enumerate(config_cases.CONFIG_CASES):
        copy = folder / f"config_case_{index}"
        copy.mkdir()
        # The case writes its own files (phase module, run files) into the folder first.
        copy_workflow(copy, config_cases.damaged_config(case, copy))
        started = time.perf_counter()
        done = subprocess.run(
            ["snakemake", "-n", "--quiet", "rules"],
            cwd=copy,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": f"{copy}:{os.environ.get('PYTHONPATH', '')}"},
            timeout=300,
        )
        seconds = time.perf_counter() - started
        output = done.stdout + done.stderr
        lines = output.splitlines()
        start = next((i for i, line in enumerate(lines) if "Error" in line), len(lines))
        # The first line after Snakemake's "ConfigError in file ...:" that says what is wrong.
        cause = next(
            (
                line.strip()
                for line in lines[start + 1 :]
                if line.strip() and line.strip() != "invalid configuration:"
            ),
            "",
        )
        if done.returncode == 0:
            kind, detail = "silent loss", "planned (rc 0)"
        elif "Traceback (most recent call last)" in output:
            kind, detail = "crash", "Python traceback"
        elif re.search(case.expected, output, re.S):
            kind, detail = "error", cause
        else:
            kind, detail = "crash", cause or output[-200:]
        outcomes.append(fuzzing.Outcome(case.name, kind, detail, seconds))
        shutil.rmtree(copy)
    return outcomes


def table(groups: dict[str, list[fuzzing.Outcome]]) -> str:
    lines = [
        "| input | tried | clean error naming file and cause | ran, every loss counted | "
        "not clean | slowest case (s) |",
        "|---|---|---|---|---|---|",
    ]
    for name, outcomes in groups.items():
        kinds = Counter(outcome.kind for outcome in outcomes)
        unclean = len(outcomes) - kinds["error"] - kinds["ran"]
        slowest = max(outcome.seconds for outcome in outcomes)
        lines.append(
            f"| {name} | {len(outcomes)} | {kinds['error']} | {kinds['ran']} | {unclean} | "
            f"{slowest:.2f} |"
        )
    return "\n".join(lines)


def by_damage(title: str, outcomes: list[fuzzing.Outcome]) -> str:
    lines = [f"#### {title}", "", "| damage | gives |", "|---|---|"]
    for outcome in outcomes:
        detail = re.sub(r"\S*/(run_\d{4}|damaged)\.(h5|json)", "<file>", outcome.detail)
        detail = detail.replace("|", "/")[:160]
        gives = "counted run" if outcome.kind == "ran" else outcome.kind
        lines.append(f"| {outcome.name} | {gives}: {detail} |")
    return "\n".join(lines)


def random_kinds(outcomes: list[fuzzing.Outcome]) -> str:
    counts: dict[str, Counter] = {}
    for outcome in outcomes:
        words = outcome.name.split()
        if "offset" in words:
            kind = "random bytes inside the file"
        elif "start" in words:
            kind = "1000 random bytes at the start"
        else:
            kind = words[0]
        counts.setdefault(kind, Counter())[outcome.kind] += 1
    lines = ["| mutation | tried | error | counted run | not clean |", "|---|---|---|---|---|"]
    for kind, found in sorted(counts.items()):
        total = sum(found.values())
        unclean = total - found["error"] - found["ran"]
        lines.append(f"| {kind} | {total} | {found['error']} | {found['ran']} | {unclean} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutations", type=int, default=250)
    parser.add_argument("--skip-configs", action="store_true", help="no snakemake -n cases")
    arguments = parser.parse_args()
    logging.disable(logging.WARNING)
    pointcloud = construct_phase(
        "spyralflow.phases.pointcloud.PointcloudPhase",
        {"get_params": {}, "frib_params": {}, "det_params": {}, "pad_params": {}},
    )
    cluster = construct_phase("spyralflow.phases.cluster.ClusterPhase", fuzzing.CLUSTER_PARAMETERS)
    estimation = construct_phase(
        "spyralflow.phases.estimation.EstimationPhase", {"estimate_params": {}, "det_params": {}}
    )
    provenance = Provenance("Pointcloud", "campaign", {}, "0", 0, 1)
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        trace = fuzzing.write_good_trace_file(root / "good_trace.h5")
        cloud = fuzzing.write_good_cloud_file(root / "good_cloud.h5", provenance)

        def trace_run(path):
            return fuzzing.trace_action(pointcloud, path, root / "ws")

        def cloud_run(path):
            return fuzzing.cloud_action(cluster, estimation, path, root / "ws")

        groups = {
            "broken raw trace files, reader + Pointcloud": targeted(
                trace, TRACE_DAMAGES, trace_run, root
            ),
            "broken point-cloud files, reader + Cluster + Estimation": targeted(
                cloud, CLOUD_DAMAGES, cloud_run, root
            ),
            "broken gas / PID JSON, InterpSolver at plan time": parameter_files(root),
            "random mutations of a trace file, reader + Pointcloud": fuzzing.campaign(
                trace, arguments.mutations, 7, trace_run, root
            ),
            "random mutations of a point-cloud file, reader + Cluster + Estimation": (
                fuzzing.campaign(cloud, arguments.mutations, 8, cloud_run, root)
            ),
        }
        if not arguments.skip_configs:
            groups["broken configs (`snakemake -n`)"] = broken_configs(root)
    names = list(groups)
    itemised = [name for name in names if not name.startswith("random")]
    print(table(groups))
    print()
    for name in itemised:
        print(by_damage(name, groups[name]))
        print()
    for name in names[3:5]:
        print(f"#### {name}, by mutation")
        print()
        print(random_kinds(groups[name]))
        print()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    stored = {name: [_stored(o) for o in groups[name]] for name in itemised}
    stored.update(
        {
            name: dict(Counter(f"{o.name.split()[0]}: {o.kind}" for o in groups[name]))
            for name in names[3:5]
        }
    )
    RESULTS.write_text(json.dumps(stored, indent=1, sort_keys=True))


def _stored(outcome: fuzzing.Outcome) -> dict[str, str]:
    detail = re.sub(r"\S*/(run_\d{4}|damaged)\.(h5|json)", "<file>", outcome.detail)
    return {"case": outcome.name, "outcome": outcome.kind, "detail": detail[:200]}


if __name__ == "__main__":
    main()
