"""The bad-input campaign: seeded mutations of a trace file and of a point-cloud file, each fed
to its reader and phase in-process, with the outcome classified.

An outcome is clean when the case either fails with a documented error (``TraceFormatError`` /
``ArtifactFormatError``) whose message names the file, or runs to the end without losing an
event silently: every event of the undamaged run that has no output afterwards is accounted for
by a count in the input report (which the readers also log as a warning). Crashes of any other
type, cases running over the time bound, and silent losses are not clean.

Used by ``tests/badinput`` and by ``benchmarks/bad_input_campaign.py`` (the docs table).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from spyralflow.framework.phase import PhaseResult
from spyralflow.io.checks import INPUT_REPORT_KEY, read_report
from spyralflow.io.hdf5 import ArtifactFormatError
from spyralflow.io.pointcloud_file import PointcloudWriter
from spyralflow.io.traces import TraceFileWriter, TraceFormatError, TraceLayout
from spyralflow.io.traces.layout import FRIB_SAMPLES, GET_SAMPLES

DOCUMENTED_ERRORS = (TraceFormatError, ArtifactFormatError)
CASE_TIME_LIMIT_S = 10.0
TRACE_EVENTS = 4
CLOUD_EVENTS = 3


# The Cluster phase's parameters for the campaign (the shipped config's values).
CLUSTER_PARAMETERS = {
    "cluster_params": {
        "min_cloud_size": 50,
        "hdbscan_parameters": {
            "min_points": 3,
            "min_size_scale_factor": 0.03,
            "min_size_lower_cutoff": 10,
            "cluster_selection_epsilon": 10.0,
        },
        "continuity_join": {"join_radius_fraction": 0.4, "join_z_fraction": 0.2},
        "direction_threshold": 0.5,
        "outlier_scale_factor": 0.1,
    },
    "det_params": {},
}


class CaseTimeout(Exception):
    """A case ran over ``CASE_TIME_LIMIT_S``."""


class Messages:
    """A message queue that keeps nothing (the phases' progress messages)."""

    def put(self, message: object) -> None:
        del message


@dataclass
class Outcome:
    """What one case gave.

    Parameters
    ----------
    name : str
        The mutation, e.g. ``attribute /events min_event = inf``.
    kind : str
        ``error`` (documented, file named), ``ran`` (no loss, or every loss counted),
        ``crash``, ``hang`` or ``silent loss``.
    detail : str
        The error message, the report, or what was lost.
    seconds : float
        Wall time of the case.
    """

    name: str
    kind: str
    detail: str
    seconds: float

    @property
    def clean(self) -> bool:
        return self.kind in ("error", "ran")


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise ``CaseTimeout`` in the main thread after ``seconds``."""

    def expire(signum: int, frame: object) -> None:
        raise CaseTimeout(f"over {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# ----------------------------------------------------------------------------- the good files


def get_matrix(rng: np.random.Generator, pads: list[int]) -> np.ndarray:
    """A GET matrix with one pulse of 400-900 ADC on each pad, on a 300 ADC baseline."""
    samples = np.arange(GET_SAMPLES)
    matrix = np.zeros((len(pads), 517), dtype=np.int16)
    matrix[:, 4] = pads
    for row in range(len(pads)):
        peak, amplitude = rng.integers(60, 450), rng.uniform(400.0, 900.0)
        matrix[row, 5:] = np.round(300.0 + amplitude * np.exp(-0.5 * ((samples - peak) / 2.5) ** 2))
    return matrix


def write_good_trace_file(path: Path, seed: int = 1) -> Path:
    """A merger 1.0 file: 4 events of 12 pulsed pads with FRIB traces, and 3 scaler events."""
    rng = np.random.default_rng(seed)
    frib = np.full((FRIB_SAMPLES, 4), 300, dtype=np.uint16)
    with TraceFileWriter(path, TraceLayout.MERGER_1_0) as writer:
        for event in range(TRACE_EVENTS):
            pads = [int(pad) for pad in rng.choice(np.arange(1000, 9000), 12, replace=False)]
            writer.write_event(
                event, get_pads=get_matrix(rng, pads), frib_traces=frib, frib_trigger=1
            )
        for index in range(3):
            writer.write_scaler(np.arange(11) + 10 * index)
    return path


def helix_cloud(rng: np.random.Generator) -> np.ndarray:
    """An (N, 8) cloud: a helix of 150 points and 10 noise points, sorted by z."""
    z = np.arange(100.0, 370.0, 1.8)
    angle = 0.012 * z + rng.uniform(0, 6.0)
    track = np.column_stack([60.0 + 50.0 * np.cos(angle), 20.0 + 50.0 * np.sin(angle), z])
    noise = np.column_stack(
        [rng.uniform(-200, 200, 10), rng.uniform(-200, 200, 10), rng.uniform(0, 1000, 10)]
    )
    xyz = np.concatenate([track, noise])
    cloud = np.zeros((len(xyz), 8))
    cloud[:, :3] = xyz
    cloud[:, 3] = 200.0
    cloud[:, 4] = 1000.0 + rng.uniform(0, 500, len(xyz))
    cloud[:, 5] = np.arange(len(xyz))
    cloud[:, 6] = 560.0 - xyz[:, 2] * 0.55
    cloud[:, 7] = 1.0
    return cloud[np.argsort(cloud[:, 2], kind="stable")]


def write_good_cloud_file(path: Path, provenance, seed: int = 2) -> Path:
    """A point-cloud file of 3 events, each one helix with noise, with Spyral's attributes."""
    rng = np.random.default_rng(seed)
    with PointcloudWriter(path, provenance, 0, CLOUD_EVENTS - 1) as writer:
        for event in range(CLOUD_EVENTS):
            attributes = {
                "orig_run": np.int64(1),
                "orig_event": np.int64(event),
                "ic_amplitude": 500.0,
                "ic_integral": 10.0,
                "ic_centroid": 100.0,
                "ic_multiplicity": 1.0,
            }
            writer.write(event, helix_cloud(rng), attributes)
    return path


# ----------------------------------------------------------------------------- the mutations

# Values an attribute may be damaged to: huge, overflowing, infinite, fractional, of other types.
BAD_ATTRIBUTE_VALUES: list[tuple[str, object]] = [
    ("10**6", np.int64(10**6)),
    ("10**12", np.int64(10**12)),
    ("2**64-1", np.uint64(2**64 - 1)),
    ("inf", np.inf),
    ("-inf", -np.inf),
    ("nan", np.nan),
    ("-7", np.int64(-7)),
    ("2.5", 2.5),
    ("bytes", b"junk"),
    ("string", "high"),
    ("complex", 1.0 + 2.0j),
    ("array", np.array([1, 2, 3])),
    ("0", np.int64(0)),
    ("1", np.int64(1)),
]


def _datasets(handle: h5py.File) -> list[str]:
    names: list[str] = []
    handle.visititems(
        lambda name, item: names.append(name) if isinstance(item, h5py.Dataset) else None
    )
    return sorted(names)


def _objects(handle: h5py.File) -> list[str]:
    names: list[str] = []
    handle.visit(names.append)
    return sorted(names)


def _replace(handle: h5py.File, name: str, data: np.ndarray) -> None:
    attributes = dict(handle[name].attrs)
    del handle[name]
    dataset = handle.create_dataset(name, data=data)
    for key, value in attributes.items():
        dataset.attrs[key] = value


def _damaged_data(data: np.ndarray, rng: np.random.Generator) -> tuple[str, np.ndarray]:
    """One structural or value damage of a dataset's content."""
    choice = int(rng.integers(0, 12))
    if choice == 0:
        return "as bytes", np.array([b"x" * 8] * max(1, data.size // 8))
    if choice == 1:
        return "as complex", data.astype(np.complex128)
    if choice == 2:
        return "transposed", np.ascontiguousarray(data.T)
    if choice == 3:
        return "flattened", data.reshape(-1)
    if choice == 4:
        return "emptied", data[:0]
    if choice == 5:
        return "one column more", np.concatenate(
            [data, data[..., :1]], axis=-1
        ) if data.ndim else data
    if choice == 6:
        return "a scalar", np.asarray(data.reshape(-1)[:1].sum() if data.size else 0)
    damaged = data.astype(np.float64) if choice in (7, 8) else data.astype(np.int64)
    flat = damaged.reshape(-1)
    if flat.size == 0:
        return "emptied", data[:0]
    where = rng.integers(0, flat.size, size=max(1, flat.size // 50))
    value = {7: np.nan, 8: np.inf, 9: 2**40, 10: -7, 11: 20000}[choice]
    flat[where] = value
    return f"{len(where)} values set to {value}", damaged


def mutate(path: Path, rng: np.random.Generator) -> str:
    """Damage the HDF5 file at ``path`` in place in one random way; return what was done."""
    kind = int(rng.integers(0, 6))
    if kind == 5:
        return _mutate_bytes(path, rng)
    with h5py.File(path, "r+") as handle:
        if kind == 0:
            owners = [name for name in _objects(handle) if len(handle[name].attrs)]
            owner = owners[int(rng.integers(0, len(owners)))]
            keys = sorted(handle[owner].attrs)
            key = keys[int(rng.integers(0, len(keys)))]
            label, value = BAD_ATTRIBUTE_VALUES[int(rng.integers(0, len(BAD_ATTRIBUTE_VALUES)))]
            handle[owner].attrs[key] = value
            return f"attribute /{owner} {key} = {label}"
        if kind == 1:
            names = _datasets(handle)
            name = names[int(rng.integers(0, len(names)))]
            label, data = _damaged_data(np.asarray(handle[name][()]), rng)
            _replace(handle, name, data)
            return f"dataset /{name} {label}"
        if kind == 2:
            names = [name for name in _objects(handle) if "/" in name]
            name = names[int(rng.integers(0, len(names)))]
            del handle[name]
            return f"deleted /{name}"
        if kind == 3:
            names = [name for name in _objects(handle) if "/" in name]
            name = names[int(rng.integers(0, len(names)))]
            target = name.rsplit("/", 1)[0] + "/" + str(rng.choice(["event_99", "cloud_x", "junk"]))
            if target not in handle:
                handle.move(name, target)
                return f"moved /{name} to /{target}"
            return "nothing"
        owners = [name for name in _objects(handle) if len(handle[name].attrs)]
        owner = owners[int(rng.integers(0, len(owners)))]
        key = sorted(handle[owner].attrs)[0]
        del handle[owner].attrs[key]
        return f"deleted attribute /{owner} {key}"


def _mutate_bytes(path: Path, rng: np.random.Generator) -> str:
    content = bytearray(path.read_bytes())
    choice = int(rng.integers(0, 3))
    if choice == 0:
        content[:1000] = rng.integers(0, 256, 1000, dtype=np.uint8).tobytes()
        path.write_bytes(bytes(content))
        return "1000 random bytes at the start"
    if choice == 1:
        cut = int(rng.integers(0, len(content)))
        path.write_bytes(bytes(content[:cut]))
        return f"truncated to {cut} bytes"
    count = int(rng.integers(1, 64))
    offset = int(rng.integers(0, len(content) - count))
    content[offset : offset + count] = rng.integers(0, 256, count, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(content))
    return f"{count} random bytes at offset {offset}"


# ----------------------------------------------------------------------------- running a case


def _output_events(path: Path, group: str, prefix: str) -> tuple[set[int], dict[str, int]]:
    with h5py.File(path, "r") as handle:
        top = handle[group]
        events = {int(name[len(prefix) :]) for name in top if name.startswith(prefix)}
        return events, read_report(top.attrs)


def classify(
    name: str,
    action: Callable[[], tuple[set[int], dict[str, int]]],
    baseline: set[int],
    damaged_file: Path,
) -> Outcome:
    """Run ``action`` (which returns the events written and the input report) and judge it."""
    started = time.perf_counter()
    try:
        with time_limit(CASE_TIME_LIMIT_S):
            events, report = action()
    except DOCUMENTED_ERRORS as error:
        seconds = time.perf_counter() - started
        message = str(error)
        if damaged_file.name not in message:
            return Outcome(name, "crash", f"message does not name the file: {message}", seconds)
        return Outcome(name, "error", message, seconds)
    except CaseTimeout as error:
        return Outcome(name, "hang", str(error), time.perf_counter() - started)
    except Exception as error:
        return Outcome(
            name, "crash", f"{type(error).__name__}: {error}", time.perf_counter() - started
        )
    seconds = time.perf_counter() - started
    lost = sorted(baseline - events)
    if lost and not report:
        return Outcome(name, "silent loss", f"events {lost} lost, nothing counted", seconds)
    return Outcome(name, "ran", json.dumps(report, sort_keys=True), seconds)


def trace_action(phase, trace: Path, workspace: Path) -> Callable[[], tuple[set[int], dict]]:
    """Run the Pointcloud phase on ``trace``; the clouds written and the stored input report."""

    def action() -> tuple[set[int], dict[str, int]]:
        if workspace.exists():
            shutil.rmtree(workspace)
        result = phase.run(
            PhaseResult({"trace": trace}, True, 1), workspace, Messages(), np.random.default_rng(0)
        )
        return _output_events(result.artifacts["pointcloud"], "cloud", "cloud_")

    return action


def cloud_action(
    cluster_phase, estimation_phase, cloud: Path, workspace: Path
) -> Callable[[], tuple[set[int], dict]]:
    """Run Cluster then Estimation on ``cloud``; the events clustered and the input reports."""

    def action() -> tuple[set[int], dict[str, int]]:
        if workspace.exists():
            shutil.rmtree(workspace)
        clustered = cluster_phase.run(
            PhaseResult({"pointcloud": cloud}, True, 1),
            workspace,
            Messages(),
            np.random.default_rng(0),
        )
        estimated = estimation_phase.run(clustered, workspace, Messages(), np.random.default_rng(0))
        events, report = _output_events(clustered.artifacts["cluster"], "cluster", "event_")
        summary = json.loads(estimated.artifacts["estimation_summary"].read_text())
        report.update(summary[INPUT_REPORT_KEY])
        return events, report

    return action


def campaign(
    good: Path,
    mutations: int,
    seed: int,
    make_action: Callable[[Path], Callable[[], tuple[set[int], dict]]],
    folder: Path,
) -> list[Outcome]:
    """``mutations`` seeded damages of ``good``, each run with the action ``make_action`` gives."""
    baseline, _ = make_action(good)()
    rng = np.random.default_rng(seed)
    outcomes = []
    for index in range(mutations):
        damaged = folder / f"run_{index + 1:04d}.h5"
        shutil.copyfile(good, damaged)
        name = mutate(damaged, rng)
        outcomes.append(classify(name, make_action(damaged), baseline, damaged))
        damaged.unlink()
    return outcomes
