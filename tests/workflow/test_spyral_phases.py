"""attpc_spyral 1.1.2's own phases, unchanged, in real ``snakemake --cores 2`` runs.

On two small simulated runs: Spyral's Pointcloud, Cluster and InterpSolver with our Estimation,
compared with Spyral's own ``start_pipeline`` on the same traces; a pipeline starting at Spyral's
InterpSolver on a Spyral workspace (estimates and clusters from two folders), its two jobs ready
at once, and a stale shared-memory segment; Spyral's Estimation failing with its parquet bug;
our phases before Spyral's; and parameter errors found before any job starts.
"""

from __future__ import annotations

import subprocess
import sys
from multiprocessing import resource_tracker
from multiprocessing.shared_memory import SharedMemory
from pathlib import Path

import h5py
import numpy as np
import polars as pl
import pytest
import yaml
from polars.testing import assert_frame_equal
from spyral_configs import (
    our_cluster,
    our_estimation,
    our_pointcloud,
    pipeline_config,
    spyral_cluster,
    spyral_estimation,
    spyral_interp_solver,
    spyral_pointcloud,
    write_config,
)
from workflow_runner import planning_error, run_snakemake

from spyralflow.framework.provenance import PROVENANCE_KEY

pytestmark = [pytest.mark.spyral, pytest.mark.slow]

HERE = Path(__file__).resolve().parent
RUNS = (1, 2)
EVENTS_PER_RUN = 8
SPYRAL_SEGMENT = "interp_shared_mesh"


@pytest.fixture(autouse=True)
def _spyral_installed() -> None:
    pytest.importorskip("spyral", reason="attpc_spyral is not installed (pip install -e .[spyral])")


def _main_phases() -> list[dict]:
    return [spyral_pointcloud(), spyral_cluster(), our_estimation(), spyral_interp_solver()]


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("spyral_workflow")
    config = pipeline_config(
        _main_phases(),
        RUNS,
        input_folder="workspace/simulation/traces",
        simulation={"enabled": True, "events_per_run": EVENTS_PER_RUN},
    )
    write_config(root, config)
    result = run_snakemake(root, "--cores", "2", timeout=1500)
    assert result.returncode == 0, result.output[-5000:]
    return root


@pytest.fixture(scope="module")
def spyral_reference(analysed: Path) -> Path:
    """Spyral's own start_pipeline, same phases and parameters, on the same traces."""
    workspace = analysed / "spyral_workspace"
    completed = subprocess.run(
        [
            sys.executable,
            str(HERE / "spyral_start_pipeline.py"),
            str(analysed / "config.yaml"),
            str(analysed / "workspace" / "simulation" / "traces"),
            str(workspace),
        ],
        capture_output=True,
        text=True,
        timeout=1500,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return workspace


def _h5_content(path: Path) -> dict[str, object]:
    """Every dataset and attribute of an HDF5 file, provenance left out."""
    content: dict[str, object] = {}

    def visit(name: str, item: h5py.HLObject) -> None:
        if isinstance(item, h5py.Dataset):
            content[name] = item[()]
        for key, value in item.attrs.items():
            content[f"{name}@{key}"] = value

    with h5py.File(path, "r") as handle:
        handle.visititems(visit)
        for key, value in handle.attrs.items():
            if key != PROVENANCE_KEY:
                content[f"@{key}"] = value
    return content


def _assert_same_h5(ours: Path, theirs: Path) -> None:
    mine, reference = _h5_content(ours), _h5_content(theirs)
    assert mine.keys() == reference.keys(), (ours, sorted(mine.keys() ^ reference.keys())[:5])
    for key, value in reference.items():
        np.testing.assert_array_equal(mine[key], value, err_msg=f"{ours}: {key}")


def test_outputs_equal_spyral_start_pipeline(analysed: Path, spyral_reference: Path) -> None:
    workspace = analysed / "workspace"
    for run in RUNS:
        name = f"run_{run:04d}"
        _assert_same_h5(
            workspace / "Pointcloud" / f"{name}.h5", spyral_reference / "Pointcloud" / f"{name}.h5"
        )
        _assert_same_h5(
            workspace / "Cluster" / f"{name}.h5", spyral_reference / "Cluster" / f"{name}.h5"
        )
        estimates = pl.read_parquet(workspace / "Estimation" / f"{name}.parquet")
        assert estimates.equals(
            pl.read_parquet(spyral_reference / "Estimation" / f"{name}.parquet")
        )
        solved = pl.read_parquet(workspace / "InterpSolver" / f"{name}_2H.parquet")
        reference = pl.read_parquet(spyral_reference / "InterpSolver" / f"{name}_2H.parquet")
        assert len(solved) > 0
        # The same rows; values equal to the fit's convergence (Spyral's minimizer, run in a job
        # limited to one thread, ends within 0.2 mm and 0.2 % of the free-threaded one).
        assert_frame_equal(solved, reference, rel_tol=2e-3, abs_tol=2e-4)


def test_second_run_does_nothing(analysed: Path) -> None:
    result = run_snakemake(analysed, "--cores", "2")
    assert result.returncode == 0 and result.nothing_to_do, result.output[-3000:]


def test_per_run_jobs_reuse_spyral_mesh(analysed: Path) -> None:
    """Spyral's create_assets runs in every InterpSolver job and finds the mesh built."""
    assets = analysed / "workspace" / "InterpSolver_assets"
    (manifest,) = assets.glob("manifest-*.json")
    (mesh,) = assets.glob("*.npy")
    assert mesh.stat().st_mtime_ns <= manifest.stat().st_mtime_ns


def _orphan_segment(name: str) -> SharedMemory:
    """A segment nobody will clean up, as a job killed with -9 leaves it."""
    segment = SharedMemory(name=name, create=True, size=64)
    resource_tracker.unregister(segment._name, "shared_memory")
    return segment


def test_start_at_interp_solver_on_a_spyral_workspace(
    analysed: Path, spyral_reference: Path, tmp_path: Path
) -> None:
    """Estimates and clusters from two folders; both runs' jobs are ready at once and do not
    collide; a stale segment is one clear error, and removing it is enough."""
    config = pipeline_config(
        [spyral_interp_solver()],
        RUNS,
        entry_folders={
            "estimation": str(spyral_reference / "Estimation"),
            "cluster": str(spyral_reference / "Cluster"),
        },
    )
    write_config(tmp_path, config)
    stale = _orphan_segment(SPYRAL_SEGMENT)
    try:
        result = run_snakemake(tmp_path, "--cores", "2", "--keep-going")
        assert result.returncode != 0
        log = (tmp_path / "workspace/logs/InterpSolver/run_0001.log").read_text()
        assert f"shared-memory segment '{SPYRAL_SEGMENT}' exists already" in log
        assert f"rm /dev/shm/{SPYRAL_SEGMENT}" in log
    finally:
        stale.close()
        stale.unlink()
    result = run_snakemake(tmp_path, "--cores", "2")
    assert result.returncode == 0, result.output[-4000:]
    assert "shared_memory=1" in result.output
    for run in RUNS:
        name = f"run_{run:04d}_2H.parquet"
        solved = pl.read_parquet(tmp_path / "workspace" / "InterpSolver" / name)
        assert solved.equals(pl.read_parquet(analysed / "workspace" / "InterpSolver" / name))


def test_spyral_estimation_fails_alone_naming_its_bug(analysed: Path, tmp_path: Path) -> None:
    config = pipeline_config(
        [our_cluster(), spyral_estimation()],
        RUNS,
        input_folder=str(analysed / "workspace" / "Pointcloud"),
    )
    write_config(tmp_path, config)
    result = run_snakemake(tmp_path, "--cores", "2", "--keep-going")
    assert result.returncode != 0
    for run in RUNS:
        assert (tmp_path / "workspace" / "Cluster" / f"run_{run:04d}.h5").exists()
        log = (tmp_path / f"workspace/logs/Estimation/run_{run:04d}.log").read_text()
        assert "cannot write 'Object' datatype" in log
        assert "Spyral 1.1.2's EstimationPhase bug" in log
        assert "spyralflow.phases.estimation.EstimationPhase" in log


def test_our_pointcloud_then_spyral_cluster(analysed: Path, tmp_path: Path) -> None:
    config = pipeline_config(
        [our_pointcloud(), spyral_cluster()],
        (1, 1),
        input_folder=str(analysed / "workspace" / "simulation" / "traces"),
    )
    write_config(tmp_path, config)
    result = run_snakemake(tmp_path, "--cores", "2")
    assert result.returncode == 0, result.output[-4000:]
    # Spyral's Cluster reads our point clouds, the last event too (Spyral's own Pointcloud drops
    # it), and finds tracks in them.
    clouds = tmp_path / "workspace" / "Pointcloud" / "run_0001.h5"
    clusters = tmp_path / "workspace" / "Cluster" / "run_0001.h5"
    with h5py.File(clouds, "r") as cloud_file, h5py.File(clusters, "r") as cluster_file:
        last = int(cloud_file["cloud"].attrs["max_event"])
        assert f"cloud_{last}" in cloud_file["cloud"]
        events = cluster_file["cluster"]
        assert int(events.attrs["max_event"]) == last
        found = [name for name in events if len(events[name]) > 0]
        assert f"event_{last}" in events and len(found) >= len(events) // 2


def _interp_config() -> dict:
    return pipeline_config([spyral_interp_solver()], RUNS, input_folder="inputs")


def _yaml_1_1_float(text: str) -> str:
    # PyYAML writes 1.0e9 in full; a user writes it short, which YAML 1.1 reads as a string.
    return text.replace("ic_max_val: 1000000000.0", "ic_max_val: 1.0e9")


def _missing_field(config: dict) -> None:
    del config["phases"][0]["parameters"]["solver_params"]["n_time_steps"]


def _unknown_field(config: dict) -> None:
    config["phases"][0]["parameters"]["solver_params"]["n_time_step"] = 3


def _wrong_type(config: dict) -> None:
    config["phases"][0]["parameters"]["solver_params"]["fit_azimuthal"] = "yes"


def _null_garfield(config: dict) -> None:
    config["phases"] = [spyral_pointcloud()]
    config["phases"][0]["parameters"]["detector_params"]["garfield_file_path"] = None


KEY = "phases[0].parameters"
# The config-error tests below plan only (no Spyral phase runs, no shared-memory segment), so
# they can run on another test worker than the module's long workflow runs.
PLAN_ONLY = pytest.mark.xdist_group("tests/workflow/test_spyral_phases.py:plan_only")


def _plan_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config: dict) -> str:
    """The ConfigError message of planning ``config`` in ``tmp_path``, in this process: the
    generator call the Snakefile makes (after a YAML round trip, as Snakemake reads it)."""
    monkeypatch.chdir(tmp_path)
    return planning_error(yaml.safe_load(yaml.safe_dump(config)), tmp_path)


@PLAN_ONLY
def test_yaml_1_1_float_is_one_message_and_starts_no_job(tmp_path: Path) -> None:
    """The whole way through snakemake: one message, and no workspace made."""
    text = _yaml_1_1_float(yaml.safe_dump(_interp_config()))
    (tmp_path / "inputs").mkdir()
    (tmp_path / "config.yaml").write_text(text)
    result = run_snakemake(tmp_path, "--cores", "2")
    assert result.returncode != 0
    message = (
        f"config key '{KEY}.solver_params.ic_max_val': expected number, got the string "
        "'1.0e9'; YAML 1.1"
    )
    assert message in result.output, result.output[-2000:]
    assert result.output.count("config key '") == 1
    assert not (tmp_path / "workspace").exists()


@PLAN_ONLY
@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_missing_field, f"config key '{KEY}.solver_params.n_time_steps': missing field"),
        (_unknown_field, f"config key '{KEY}.solver_params.n_time_step': unknown field(s)"),
        (
            _wrong_type,
            f"config key '{KEY}.solver_params.fit_azimuthal': expected boolean, got "
            "the string 'yes'",
        ),
        (
            _null_garfield,
            f"config key '{KEY}.detector_params.garfield_file_path': expected Path, "
            "got null; give a file path",
        ),
    ],
)
def test_bad_spyral_parameter_is_one_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change, message: str
) -> None:
    config = _interp_config()
    change(config)
    (tmp_path / "inputs").mkdir()
    error = _plan_error(tmp_path, monkeypatch, config)
    assert message in error
    assert error.count("config key '") == 1


@PLAN_ONLY
@pytest.mark.parametrize(
    ("module_text", "class_path", "message"),
    [
        (
            "raise RuntimeError('no detector here')\n",
            "brokenphases.phase.Broken",
            "importing module 'brokenphases.phase' of phase class 'brokenphases.phase.Broken' "
            "raised RuntimeError: no detector here",
        ),
        (
            "class NotAPhase:\n    pass\n",
            "brokenphases.phase.NotAPhase",
            "'brokenphases.phase.NotAPhase' is not a phase",
        ),
    ],
)
def test_phase_that_cannot_load_is_one_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module_text: str, class_path: str, message: str
) -> None:
    package = tmp_path / "code" / "brokenphases"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "phase.py").write_text(module_text)
    monkeypatch.syspath_prepend(str(tmp_path / "code"))
    for name in ("brokenphases", "brokenphases.phase"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    config = pipeline_config([{"class": class_path, "parameters": {}}], RUNS, input_folder="in")
    error = _plan_error(tmp_path, monkeypatch, config)
    assert f"config key 'phases[0].class': {message}" in error


@PLAN_ONLY
@pytest.mark.parametrize(
    ("folders", "message"),
    [
        (
            {"estimation": "e", "clusters": "c"},
            "config key 'entry_folders.clusters': the first phase, InterpSolver, reads only "
            "cluster, estimation",
        ),
        (
            {"estimation": "e"},
            "config key 'entry_folders.cluster': the first phase, InterpSolver, reads 'cluster' "
            "(.h5 files); set entry_folders.cluster or input_folder",
        ),
    ],
)
def test_entry_folders_errors_name_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, folders: dict, message: str
) -> None:
    config = pipeline_config([spyral_interp_solver()], RUNS, entry_folders=folders)
    assert message in _plan_error(tmp_path, monkeypatch, config)
