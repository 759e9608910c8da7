"""Unit tests of the framework pieces the generated jobs rely on."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from multiprocessing.shared_memory import SharedMemory
from pathlib import Path

import numpy as np
import pytest

from spyralflow.framework.atomic import atomic_output
from spyralflow.framework.codehash import code_hash, import_closure
from spyralflow.framework.job import PhaseJob, PhaseJobError, check_input_lineage, run_phase
from spyralflow.framework.parameters import ParameterError, build_constructor_arguments
from spyralflow.framework.phase import PhaseLike, PhaseResult
from spyralflow.framework.provenance import read_provenance
from spyralflow.framework.runs import discover_runs, form_run_string
from spyralflow.framework.schema import ResultSchema, same_content
from spyralflow.framework.seeding import phase_rng
from spyralflow.framework.status import ProgressLog, RunProgress, StatusMessage

HERE = Path(__file__).parent


def test_atomic_output_leaves_nothing_when_the_writer_fails(tmp_path: Path) -> None:
    target = tmp_path / "out" / "run_0001.h5"
    with pytest.raises(RuntimeError), atomic_output(target) as temporary:
        temporary.write_text("half")
        raise RuntimeError("writer died")
    assert not target.exists()
    assert list(target.parent.iterdir()) == []
    with atomic_output(target) as temporary:
        temporary.write_text("whole")
    assert target.read_text() == "whole"


def test_rng_streams_depend_on_seed_phase_and_run_only() -> None:
    draw = lambda *key: phase_rng(*key).random(4)  # noqa: E731
    np.testing.assert_array_equal(draw(3, "Cluster", 7), draw(3, "Cluster", 7))
    for other in ((4, "Cluster", 7), (3, "Estimation", 7), (3, "Cluster", 8)):
        assert not np.array_equal(draw(3, "Cluster", 7), draw(*other))


def test_progress_log_writes_rate_limited_lines() -> None:
    stream = io.StringIO()
    progress = ProgressLog(stream, min_interval_s=3600)
    for _ in range(100):
        progress.put(StatusMessage("Cluster", 1, 100, 4))
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2  # the first message and completion
    assert lines[-1].startswith("progress: run 4 | Cluster | 100/100 (100%)")


def test_runs_are_found_by_existing_non_empty_files(tmp_path: Path) -> None:
    for run in (1, 2, 5, 9):
        (tmp_path / f"{form_run_string(run)}.h5").write_bytes(b"x")
    (tmp_path / "run_0003.h5").write_bytes(b"")
    (tmp_path / "run_0004.parquet").write_bytes(b"x")
    assert discover_runs(tmp_path, ".h5", 0, 5, skip=[2]) == [1, 5]


@dataclass
class Inner:
    size: int = 3
    path: Path | None = None


class Constructed:
    def __init__(self, inner: Inner, scale: float = 1.0) -> None:
        self.inner, self.scale = inner, scale


def test_constructor_arguments_build_dataclasses_and_paths() -> None:
    arguments = build_constructor_arguments(Constructed, {"inner": {"path": "a/b.json"}})
    assert arguments == {"inner": Inner(size=3, path=Path("a/b.json"))}
    with pytest.raises(ParameterError, match=r"unknown field.*sise of Inner"):
        build_constructor_arguments(Constructed, {"inner": {"sise": 2}})
    with pytest.raises(ParameterError, match="missing parameter 'inner'"):
        build_constructor_arguments(Constructed, {"scale": 2.0})
    with pytest.raises(ParameterError, match="unknown parameter"):
        build_constructor_arguments(Constructed, {"inner": {}, "colour": "red"})


def test_code_hash_covers_the_package_modules_a_phase_imports(tmp_path: Path) -> None:
    package = tmp_path / "hashpkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "kernel.py").write_text("def f():\n    return 1\n")
    (package / "unrelated.py").write_text("X = 1\n")
    (package / "phase.py").write_text("from hashpkg.kernel import f\nimport numpy\n")
    sys.path.insert(0, str(tmp_path))
    try:
        closure = import_closure("hashpkg.phase")
        assert set(closure) == {"hashpkg", "hashpkg.phase", "hashpkg.kernel"}
        before = code_hash("hashpkg.phase")
        (package / "unrelated.py").write_text("X = 2\n")
        assert code_hash("hashpkg.phase") == before
        (package / "kernel.py").write_text("def f():\n    return 2\n")
        assert code_hash("hashpkg.phase") != before
    finally:
        sys.path.remove(str(tmp_path))


def test_code_hash_store_reads_no_source_until_a_file_changes(tmp_path: Path, monkeypatch) -> None:
    from spyralflow.framework import codehash

    package = tmp_path / "storedpkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "phase.py").write_text("def f():\n    return 1\n")
    for source in package.iterdir():  # sources of a minute ago (just-written ones are re-read)
        os.utime(source, (time.time() - 60, time.time() - 60))
    monkeypatch.syspath_prepend(str(tmp_path))
    store = tmp_path / "cache" / "code-hashes.json"
    codehash.use_hash_store(store)
    try:
        first = code_hash("storedpkg.phase")
        assert "storedpkg.phase" in store.read_text()
        # A new process: nothing in memory, the store on disk.
        codehash.use_hash_store(None)
        codehash.use_hash_store(store)

        def no_reading(*arguments):
            raise AssertionError("a source was read although its stamp is recorded")

        monkeypatch.setattr(codehash, "import_closure", no_reading)
        assert code_hash("storedpkg.phase") == first
        monkeypatch.undo()
        monkeypatch.syspath_prepend(str(tmp_path))
        # A same-size edit just now is seen, however close to the last read.
        (package / "phase.py").write_text("def f():\n    return 2\n")
        assert code_hash("storedpkg.phase") != first
    finally:
        codehash.use_hash_store(None)


def test_schemas_of_different_classes_compare_by_content() -> None:
    from spyral import ResultSchema as SpyralSchema

    text = json.dumps({"a": {"extension": ".h5", "data": "array"}})
    assert ResultSchema(text) == ResultSchema(text)
    assert same_content(SpyralSchema(text), ResultSchema(text))
    other = json.dumps({"a": {"extension": ".parquet", "data": "array"}})
    assert not same_content(SpyralSchema(other), ResultSchema(text))


class _Quiet(PhaseLike):
    """A phase whose behaviour the tests choose."""

    def __init__(self, behaviour: str = "ok") -> None:
        super().__init__("Quiet")
        self.behaviour = behaviour

    def create_assets(self, workspace_path: Path) -> bool:
        return True

    def construct_artifact(self, payload: PhaseResult, workspace_path: Path) -> PhaseResult:
        path = self.get_artifact_path(workspace_path) / f"{form_run_string(payload.run_number)}.txt"
        return PhaseResult({"text": path}, True, payload.run_number)

    def run(self, payload, workspace_path, msg_queue, rng) -> PhaseResult:
        result = self.construct_artifact(payload, workspace_path)
        if self.behaviour == "unsuccessful":
            return PhaseResult.invalid_result(payload.run_number)
        if self.behaviour == "ok":
            result.artifacts["text"].write_text(os.environ.get("OMP_NUM_THREADS", "unset"))
        return result


def _job(tmp_path: Path, behaviour: str) -> PhaseJob:
    return PhaseJob(f"{__name__}._Quiet", {"behaviour": behaviour}, "abc", tmp_path, 1)


def test_job_errors_name_the_run_phase_and_files(tmp_path: Path) -> None:
    source = tmp_path / "run_0002.h5"
    with pytest.raises(PhaseJobError, match=r"run 2 \(run_0002\), phase Quiet: input artifact"):
        run_phase(_job(tmp_path, "ok"), 2, {"trace": source}, {})
    source.write_text("x")
    with pytest.raises(PhaseJobError, match="reported an unsuccessful result"):
        run_phase(_job(tmp_path, "unsuccessful"), 2, {"trace": source}, {})
    expected = {"text": tmp_path / "Quiet" / "run_0002.txt"}
    with pytest.raises(PhaseJobError, match=r"did not write text=.*run_0002\.txt"):
        run_phase(_job(tmp_path, "forgets"), 2, {"trace": source}, expected)
    run_phase(_job(tmp_path, "ok"), 2, {"trace": source}, expected)
    assert expected["text"].exists()
    assert (tmp_path / "Quiet" / "run_0002.txt.provenance.json").exists()


def test_rerun_of_a_sidecar_artifact_carries_the_new_lineage(tmp_path: Path) -> None:
    """A JSON or text artifact keeps its provenance in a sidecar, which Snakemake does not
    remove before a rerun: the rerun's artifact must not pass for the old lineage's (found on the
    shipped pipeline: an Estimation rerun left its summary's old sidecar, and InterpSolver
    refused the new summary as stale)."""
    source = tmp_path / "run_0002.h5"
    source.write_text("x")
    expected = {"text": tmp_path / "Quiet" / "run_0002.txt"}
    for lineage in ("first-lineage", "second-lineage"):
        job = PhaseJob(f"{__name__}._Quiet", {"behaviour": "ok"}, "abc", tmp_path, 1, lineage)
        run_phase(job, 2, {"trace": source}, expected)
        assert read_provenance(expected["text"])["lineage"] == lineage
        check_input_lineage("downstream", expected, {"text": lineage})


def test_cli_job_limits_numerical_threads_to_the_rule_threads(tmp_path: Path) -> None:
    (tmp_path / "run_0001.h5").write_text("x")
    command = [
        sys.executable,
        "-m",
        "spyralflow.cli",
        "run-phase",
        "--phase-class",
        "test_framework._Quiet",
        "--parameters",
        '{"behaviour": "ok"}',
        "--workspace",
        str(tmp_path),
        "--threads",
        "3",
        "--run",
        "0001",
        "--incoming",
        f"trace={tmp_path / 'run_0001.h5'}",
        "--output",
        f"text={tmp_path / 'Quiet' / 'run_0001.txt'}",
    ]
    environment = dict(os.environ, PYTHONPATH=str(HERE))
    completed = subprocess.run(command, capture_output=True, text=True, env=environment)
    assert completed.returncode == 0, completed.stderr
    assert (tmp_path / "Quiet" / "run_0001.txt").read_text() == "3"


def test_foreign_phase_jobs_keep_numba_caches_per_code_hash_outside_the_workspace(
    tmp_path: Path,
) -> None:
    """Every workspace shares one cache per code hash of a foreign phase (``_Quiet``, outside
    spyralflow); SPYRALFLOW_CACHE_DIR moves it."""
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / "run_0001.h5").write_text("x")
    command = [
        sys.executable, "-c",
        "import os, sys; from spyralflow.cli import main; code = main(sys.argv[1:]); "
        "print(os.environ['NUMBA_CACHE_DIR']); raise SystemExit(code)",
        "run-phase", "--phase-class", "test_framework._Quiet", "--parameters", "{}",
        "--workspace", str(workspace), "--code-hash", "0123abcd", "--run", "0001",
        "--incoming", f"trace={workspace / 'run_0001.h5'}",
    ]  # fmt: skip
    environment = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    environment["PYTHONPATH"] = os.pathsep.join([str(HERE), environment.get("PYTHONPATH", "")])
    environment["SPYRALFLOW_CACHE_DIR"] = str(tmp_path / "cache")
    completed = subprocess.run(command, capture_output=True, text=True, env=environment)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == str(tmp_path.resolve() / "cache" / "numba" / "0123abcd")
    del environment["SPYRALFLOW_CACHE_DIR"]
    environment["XDG_CACHE_HOME"] = str(tmp_path / "xdg")
    completed = subprocess.run(command, capture_output=True, text=True, env=environment)
    assert completed.returncode == 0, completed.stderr
    expected = tmp_path.resolve() / "xdg" / "spyralflow" / "numba" / "0123abcd"
    assert completed.stdout.strip() == str(expected)
    environment["NUMBA_CACHE_DIR"] = str(tmp_path / "chosen")
    completed = subprocess.run(command, capture_output=True, text=True, env=environment)
    assert completed.stdout.strip() == str(tmp_path / "chosen")


def _python_output(script: str, cwd: Path, environment: dict[str, str] | None = None) -> str:
    """What a fresh interpreter running ``script`` prints (it must succeed), with
    ``environment`` added to this process's (and no ``NUMBA_CACHE_DIR``)."""
    env = {key: value for key, value in os.environ.items() if key != "NUMBA_CACHE_DIR"}
    env.update(environment or {})
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=cwd, env=env
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.strip()


def test_phase_jobs_load_no_numba_extensions(tmp_path: Path) -> None:
    """Installed numba extensions (vector imports sympy) cost a second of every job."""
    script = (
        "import sys; from spyralflow.framework.kernels import prepare_numba; prepare_numba('');"
        "import numba\n@numba.njit\ndef f(x):\n    return x + 1\nf(1);"
        "print(sorted({'sympy', 'vector', 'rocket_fft'} & set(sys.modules)))"
    )
    assert _python_output(script, tmp_path) == "[]"


def test_job_setup_does_not_import_numba(tmp_path: Path) -> None:
    """Importing numba is half a second: a job whose phase never uses it does not pay it, and
    the setup (no extensions, caching decorators) still applies once the phase imports it."""
    # Own phases: extensions skipped; foreign phases: extensions kept, kernels cached.
    for own_phase, expected in ((True, "False True False"), (False, "False False True")):
        script = (
            "import sys; from spyralflow.framework.kernels import prepare_numba;"
            f"prepare_numba('0123abcd', own_phase={own_phase}); before = 'numba' in sys.modules;"
            "import numba; from numba.core import entrypoints;"
            "print(before, entrypoints._already_initialized,"
            " getattr(numba.njit, '_spyralflow_caching', False))"
        )
        assert _python_output(script, tmp_path) == expected, f"own_phase={own_phase}"


def test_foreign_phase_jobs_keep_numba_extensions(tmp_path: Path) -> None:
    """Spyral's kernels call np.fft, which only the rocket_fft extension types for numba."""
    script = (
        "import numpy as np; from spyralflow.framework.kernels import prepare_numba;"
        "prepare_numba('', own_phase=False)\nimport numba\n@numba.njit\n"
        "def f(x):\n    return np.fft.ifftshift(x)\nprint(f(np.arange(4.0)).tolist())"
    )
    assert _python_output(script, tmp_path) == "[2.0, 3.0, 0.0, 1.0]"


def test_in_process_kernels_and_own_phase_jobs_share_the_package_cache(tmp_path: Path) -> None:
    """The tests' and benchmarks' in-process kernels use the folder of the package source digest
    that spyralflow's own phase jobs use (whatever their code hash), so a kernel compiles once;
    the variable is not left for subprocesses (a foreign phase's jobs pick their own)."""
    environment = {"SPYRALFLOW_CACHE_DIR": str(tmp_path / "cache")}
    expected = os.path.join(str(tmp_path.resolve() / "cache"), "numba", "spyralflow-")
    in_process = (
        "import os; from spyralflow.framework.kernels import use_package_cache,"
        " package_source_digest; use_package_cache(); import numba;"
        "print(numba.config.CACHE_DIR.removesuffix(package_source_digest()),"
        " 'NUMBA_CACHE_DIR' in os.environ)"
    )
    assert _python_output(in_process, tmp_path, environment) == f"{expected} False"
    job = (
        "import os; from spyralflow.framework.kernels import prepare_numba,"
        " package_source_digest; prepare_numba('0123abcd', own_phase=True);"
        "print(os.environ['NUMBA_CACHE_DIR'].removesuffix(package_source_digest()))"
    )
    assert _python_output(job, tmp_path, environment) == expected


def test_foreign_phase_jobs_cache_plain_njit_kernels(tmp_path: Path) -> None:
    """A foreign phase's plain ``@njit`` kernel (Spyral's are) is compiled by the first job of
    its code hash and loaded by the next; ``cache=False`` and code numba cannot cache (no source
    file) still compile as they would."""
    (tmp_path / "plainkernels.py").write_text(
        "from numba import njit\n"
        "@njit\ndef bare(x):\n    return x + 1\n"
        "@njit(fastmath=True)\ndef with_options(x):\n    return x * 2.0\n"
        "@njit(cache=False)\ndef uncached(x):\n    return x - 1\n"
        "namespace = {}\nexec('def typed(x):\\n    return x + 5', namespace)\n"
        "typed = njit(namespace['typed'])\n"
    )
    script = (
        "from spyralflow.framework.kernels import prepare_numba; "
        "prepare_numba('0123abcd', own_phase=False)\n"
        "import plainkernels as k\n"
        "kernels = (k.bare, k.with_options, k.uncached, k.typed)\n"
        "print(k.bare(1), k.with_options(2.0), k.uncached(3), k.typed(1), "
        "*[sum(f.stats.cache_hits.values()) for f in kernels])"
    )
    environment = {"SPYRALFLOW_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(tmp_path)}
    assert _python_output(script, tmp_path, environment) == "2 4.0 2 6 0 0 0 0"
    assert _python_output(script, tmp_path, environment) == "2 4.0 2 6 1 1 0 0"


class _Queue:
    def __init__(self) -> None:
        self.messages: list[StatusMessage] = []

    def put(self, message: StatusMessage) -> None:
        self.messages.append(message)


@pytest.mark.parametrize(("items", "expected_messages"), [(0, 0), (7, 7), (100, 100), (2500, 100)])
def test_run_progress_sends_at_most_a_hundred_messages_summing_to_the_total(
    items: int, expected_messages: int
) -> None:
    queue = _Queue()
    progress = RunProgress(queue, "Cluster", 3, items)
    for done in range(1, items + 1, 2):  # some items skipped, as missing events are
        progress.update(done)
    progress.finish()
    assert len(queue.messages) <= max(expected_messages, 0)
    assert sum(message.increment for message in queue.messages) == min(items, 100)
    assert all(message.total == min(items, 100) and message.run == 3 for message in queue.messages)


@dataclass
class Typed:
    count: int
    scale: float
    label: str = "a"
    limit: float | None = None
    path: Path | None = None
    sizes: list[int] = field(default_factory=list)


class TypedPhase:
    def __init__(self, typed: Typed, flag: bool = False) -> None:
        self.typed, self.flag = typed, flag


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (
            {"count": 1, "scale": "1.0e9"},
            "parameters.typed.scale: expected number, got the string '1.0e9'; YAML 1.1",
        ),
        ({"count": True, "scale": 1.0}, "parameters.typed.count: expected integer, got bool True"),
        ({"count": 1.5, "scale": 1.0}, "parameters.typed.count: expected integer, got float 1.5"),
        (
            {"count": 1, "scale": 1.0, "limit": "x"},
            "parameters.typed.limit: expected number or null, got the string 'x'",
        ),
        (
            {"count": 1, "scale": 1.0, "sizes": [1, "2"]},
            "parameters.typed.sizes[1]: expected integer",
        ),
        (
            {"count": 1, "scale": 1.0, "label": None},
            "parameters.typed.label: expected string, got null",
        ),
        ({"scale": 1.0}, "parameters.typed.count: missing field 'count' of Typed"),
        (
            {"count": 1, "scale": 1.0, "colour": 2},
            "parameters.typed.colour: unknown field(s) colour of Typed",
        ),
    ],
)
def test_parameter_types_are_checked_against_annotations(typed: dict, message: str) -> None:
    with pytest.raises(ParameterError) as raised:
        build_constructor_arguments(TypedPhase, {"typed": typed}, "parameters")
    assert message in str(raised.value)


def test_parameters_of_the_right_types_pass() -> None:
    arguments = build_constructor_arguments(
        TypedPhase,
        {"typed": {"count": 2, "scale": 3, "path": "a.txt", "sizes": [1, 2]}, "flag": True},
    )
    assert arguments == {
        "typed": Typed(count=2, scale=3, path=Path("a.txt"), sizes=[1, 2]),
        "flag": True,
    }
    with pytest.raises(ParameterError, match="flag: expected boolean, got the string 'yes'"):
        build_constructor_arguments(TypedPhase, {"typed": {"count": 1, "scale": 1}, "flag": "yes"})


class _Sharing(_Quiet):
    """Spyral's InterpSolver pattern: state set in create_assets, one fixed segment name."""

    segment = f"spyralflow_test_segment_{os.getpid()}"

    def create_assets(self, workspace_path: Path) -> bool:
        self.size = 16
        return True

    def create_shared_data(self, workspace_path: Path, handles: dict) -> None:
        handle = SharedMemory(name=self.segment, create=True, size=self.size)
        handles[handle.name] = handle

    def run(self, payload, workspace_path, msg_queue, rng) -> PhaseResult:
        SharedMemory(self.segment).close()
        return super().run(payload, workspace_path, msg_queue, rng)


def test_job_calls_assets_shared_data_and_run_on_one_object(tmp_path: Path) -> None:
    source = tmp_path / "run_0002.h5"
    source.write_text("x")
    job = PhaseJob(f"{__name__}._Sharing", {"behaviour": "ok"}, "abc", tmp_path, 1)
    expected = {"text": tmp_path / "Quiet" / "run_0002.txt"}
    run_phase(job, 2, {"trace": source}, expected)
    assert not Path(f"/dev/shm/{_Sharing.segment}").exists()  # released after the run
    stale = SharedMemory(name=_Sharing.segment, create=True, size=16)
    try:
        with pytest.raises(PhaseJobError) as raised:
            run_phase(job, 2, {"trace": source}, expected)
    finally:
        stale.close()
        stale.unlink()
    message = str(raised.value)
    assert f"segment '{_Sharing.segment}' exists already" in message
    assert f"rm /dev/shm/{_Sharing.segment}" in message
